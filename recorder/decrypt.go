package recorder

import (
	"io"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
)

// DecryptReport says what Decrypt recovered; see artefact.DecryptReport.
type DecryptReport = artefact.DecryptReport

// Report is the result of Verify; see artefact.Report.
type Report = artefact.Report

// Decrypt decrypts a recording with identities and writes a playable WAV to
// out, with its RIFF and data sizes finalised. It tolerates an interrupted
// file: it writes every complete chunk and reports the rest as lost.
func Decrypt(audioPath string, identities []age.Identity, out io.Writer) (DecryptReport, error) {
	return artefact.Decrypt(audioPath, identities, out)
}

// Verify checks a recording against its manifest: the SHA-256 of the
// encrypted file, and, when identities are given, the SHA-256 of the
// plaintext, the WAV format and the frame count. It returns an error wrapping
// ErrVerify when anything differs, with the details in Report.Problems.
func Verify(audioPath, manifestPath string, identities []age.Identity) (Report, error) {
	return artefact.Verify(audioPath, manifestPath, identities)
}

// ParseIdentityFile reads age identities (AGE-SECRET-KEY-…) from a key file,
// one per line, # for comments. Errors never quote the file's contents.
func ParseIdentityFile(path string) ([]age.Identity, error) {
	return artefact.ParseIdentityFile(path)
}
