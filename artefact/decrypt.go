package artefact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"filippo.io/age"
)

// DecryptReport says what Decrypt recovered.
type DecryptReport struct {
	// Codec is what the recording is in: CodecPCM (a WAV was written) or
	// CodecOpus (the Ogg Opus stream was written as it is stored).
	Codec     string
	Frames    int64         // stereo frames of audio written (at 16 kHz)
	DataBytes int64         // size of the WAV data chunk; 0 for Opus
	Duration  time.Duration // Frames at 16 kHz
	// Complete is true when the age stream ended properly. False means the
	// recording was interrupted (crash, power loss, full disk): every complete
	// 64 KiB chunk was recovered and the rest could not be authenticated.
	Complete bool
	// LostBytes is the size of the unauthenticated tail of the encrypted
	// file (at most one chunk: about 1 s of WAV; in an Opus recording the
	// segment being written, about 1 s), 0 when Complete.
	LostBytes int64
	// Segments is how many complete age files (segments, see
	// segmentReader) the file holds: 1 for a WAV and for Opus recordings
	// from before segments.
	Segments int
	// Cut is the error at which decryption stopped, nil when Complete.
	Cut error
	// PlaintextSHA256 is the SHA-256 of the plaintext exactly as stored in
	// the age file (streaming header and data); it matches the manifest's
	// sha256_plaintext when Complete.
	PlaintextSHA256 string
}

// Decrypt decrypts a recording with identities and writes it to out: a
// WAV recording as a playable WAV, with its RIFF and data sizes finalised;
// an Opus recording as the Ogg Opus stream it holds (every complete page).
// It tolerates an interrupted file: it writes every complete chunk and
// reports the rest as lost. It reads the file twice (once to measure, once
// to write) so out need not seek.
func Decrypt(audioPath string, identities []age.Identity, out io.Writer) (DecryptReport, error) {
	var rep DecryptReport
	keys := map[[32]byte][]byte{} // each segment's file key, for pass 2
	// Pass 1: how much authenticates, and the plaintext hash.
	h := sha256.New()
	var head bytes.Buffer
	n, cut, lost, segs, err := decryptTo(audioPath, identities, keys, io.MultiWriter(h, &limitedBuffer{b: &head, n: WAVHeaderSize}))
	if err != nil {
		return rep, err
	}
	if rep.Codec, err = sniff(head.Bytes()); err != nil {
		if n < WAVHeaderSize {
			return rep, fmt.Errorf("decrypt %s: only %d bytes could be recovered, not even the WAV header", audioPath, n)
		}
		return rep, fmt.Errorf("decrypt %s: %w", audioPath, err)
	}
	rep.Complete = cut == nil
	rep.Cut = cut
	rep.LostBytes, rep.Segments = lost, segs
	rep.PlaintextSHA256 = hex.EncodeToString(h.Sum(nil))
	if rep.Codec == CodecOpus {
		return rep, decryptOgg(audioPath, identities, keys, out, &rep)
	}
	rep.DataBytes = (n - WAVHeaderSize) / BytesPerFrame * BytesPerFrame
	if rep.DataBytes > MaxDataBytes {
		return rep, fmt.Errorf("decrypt %s: %d bytes of audio do not fit a WAV file", audioPath, rep.DataBytes)
	}
	rep.Frames = rep.DataBytes / BytesPerFrame
	rep.Duration = durationOf(rep.Frames)

	// Pass 2: the final header, then exactly DataBytes of samples.
	if _, err := out.Write(WAVHeader(rep.DataBytes)); err != nil {
		return rep, fmt.Errorf("write WAV: %w", err)
	}
	w := &skipWriter{w: out, skip: WAVHeaderSize, left: rep.DataBytes}
	if _, _, _, _, err := decryptTo(audioPath, identities, keys, w); err != nil {
		return rep, err
	}
	if w.err != nil {
		return rep, fmt.Errorf("write WAV: %w", w.err)
	}
	if w.left != 0 {
		return rep, fmt.Errorf("decrypt %s: the file changed while it was read", audioPath)
	}
	return rep, nil
}

// durationOf is how long frames at SampleRate last.
func durationOf(frames int64) time.Duration { return time.Duration(frames) * time.Second / SampleRate }

// decryptTo writes the authenticated plaintext of path to w, walking its
// segments. It returns how many bytes that was and, for an interrupted
// file, the error that stopped decryption (cut) and how many encrypted
// bytes at the end were left out; err is for failures to read or decrypt
// at all.
func decryptTo(path string, identities []age.Identity, keys map[[32]byte][]byte, w io.Writer) (n int64, cut error, lost int64, segments int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, 0, 0, fmt.Errorf("decrypt: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, nil, 0, 0, fmt.Errorf("decrypt: %w", err)
	}
	plain, err := newSegmentReader(f, identities, keys)
	if err != nil {
		return 0, nil, 0, 0, fmt.Errorf("decrypt %s: %w", path, err)
	}
	buf := make([]byte, PlainChunk)
	for {
		k, rerr := plain.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, nil, 0, plain.segments, werr
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			return n, nil, 0, plain.segments, nil
		}
		if rerr != nil {
			return n, rerr, max(st.Size()-plain.consumed, 0), plain.segments, nil
		}
	}
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if k := min(l.n-l.b.Len(), len(p)); k > 0 {
		l.b.Write(p[:k])
	}
	return len(p), nil
}

// skipWriter drops the first skip bytes, passes on the next left bytes and
// drops the rest (a partial last frame).
type skipWriter struct {
	w          io.Writer
	skip, left int64
	err        error
}

func (s *skipWriter) Write(p []byte) (int, error) {
	n := len(p)
	if s.skip > 0 {
		k := min(s.skip, int64(len(p)))
		p, s.skip = p[k:], s.skip-k
	}
	if k := min(s.left, int64(len(p))); k > 0 && s.err == nil {
		_, s.err = s.w.Write(p[:k])
		s.left -= k
	}
	return n, s.err
}

// Report is the result of Verify.
type Report struct {
	Manifest        *Manifest
	EncryptedSHA256 string // of the .wav.age or .opus.age file as it is now
	Decrypted       bool   // identities were given and opened the file
	Decrypt         DecryptReport
	Problems        []string // empty when everything matches
}

// OK reports whether the recording matches its manifest.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Verify checks a recording against its manifest: the SHA-256 of the
// encrypted file, and, when identities are given, the SHA-256 of the
// plaintext, the format (the manifest's codec: WAV or Ogg Opus) and the
// frame count. It returns an error wrapping
// ErrVerify when anything differs, with the details in Report.Problems.
func Verify(audioPath, manifestPath string, identities []age.Identity) (Report, error) {
	var rep Report
	m, err := ReadManifest(manifestPath)
	if err != nil {
		return rep, err
	}
	rep.Manifest = m
	problem := func(format string, args ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...)) }

	f, err := os.Open(audioPath)
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return rep, fmt.Errorf("verify: read %s: %w", audioPath, err)
	}
	rep.EncryptedSHA256 = hex.EncodeToString(h.Sum(nil))
	if !m.Complete {
		problem("the manifest is not complete: the recording was interrupted (%s)", orUnknown(m.Failure))
	}
	if m.SHA256Encrypted != "" && m.SHA256Encrypted != rep.EncryptedSHA256 {
		problem("encrypted file: sha256 %s, manifest says %s", rep.EncryptedSHA256, m.SHA256Encrypted)
	}
	if m.EncryptedBytes != 0 && m.EncryptedBytes != size {
		problem("encrypted file: %d bytes, manifest says %d", size, m.EncryptedBytes)
	}
	if len(identities) > 0 {
		d, err := Decrypt(audioPath, identities, io.Discard)
		if err != nil {
			return rep, err
		}
		rep.Decrypted, rep.Decrypt = true, d
		if !d.Complete {
			problem("the encrypted audio is cut short: %d bytes after %v could not be authenticated (%v)", d.LostBytes, d.Duration, d.Cut)
		}
		if m.SHA256Plaintext != "" && m.SHA256Plaintext != d.PlaintextSHA256 {
			problem("plaintext: sha256 %s, manifest says %s", d.PlaintextSHA256, m.SHA256Plaintext)
		}
		if want := m.AudioCodec(); d.Codec != want {
			problem("the audio is %s, the manifest says %s", d.Codec, want)
		}
		if m.Complete && d.Frames != m.Frames {
			problem("audio has %d frames, manifest says %d", d.Frames, m.Frames)
		}
	}
	if m.SampleRate != SampleRate || m.Channels != Channels {
		problem("manifest format %d Hz × %d channels, expected %d × %d", m.SampleRate, m.Channels, SampleRate, Channels)
	}
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("%w: %s: %d problem(s)", ErrVerify, audioPath, len(rep.Problems))
	}
	return rep, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "no reason recorded: the process probably stopped"
	}
	return s
}

// ParseIdentityFile reads age identities (AGE-SECRET-KEY-…) from a key file,
// one per line, # for comments. Errors never quote the file's contents.
func ParseIdentityFile(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", path, err)
	}
	return ids, nil
}

// ErrVerify: a recording does not match its manifest.
var ErrVerify = errors.New("recording does not match its manifest")
