package recorder

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
)

const cliUsage = `Usage:
  callguard recording verify  --identity KEYFILE [--manifest FILE] RECORDING.opus.age...
  callguard recording decrypt --identity KEYFILE [-o OUT] [--wav] [--force] RECORDING.opus.age

verify   checks a recording against its manifest (<call-id>.json beside it):
         the SHA-256 of the encrypted file, and with --identity the SHA-256 of
         the plaintext, the format (Opus or WAV) and the length. Exit status 0
         when all match, 1 when anything differs.
decrypt  writes the recording as it is stored: an Opus recording as an Ogg
         Opus file (.opus, which VLC, browsers and most players open), an
         older recording as a WAV; with --wav an Opus recording is decoded to
         a WAV (16-bit, 16 kHz). The default output is the recording's name
         without .age (.wav with --wav). An interrupted recording (crash,
         power loss, full disk) is recovered as far as it was sealed, and the
         loss is reported.
         (RECORDING.wav.age: recordings made before Opus work the same way.)

--identity names an age identity file (AGE-SECRET-KEY-…) held by IT or the
data-protection officer; it may be given more than once. The key never leaves
that file and is never printed.
`

// RunCLI implements "callguard recording verify|decrypt"; args start with the
// subcommand. It returns the process exit status: 0 success, 1 a recording
// failed verification or could not be decrypted, 2 a usage error.
func RunCLI(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, cliUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "verify":
		return runVerify(args[1:], stdout, stderr)
	case "decrypt":
		return runDecrypt(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "callguard recording: unknown command %q\n\n%s", args[0], cliUsage)
	return 2
}

type identityFlags []string

func (f *identityFlags) String() string     { return strings.Join(*f, ",") }
func (f *identityFlags) Set(v string) error { *f = append(*f, v); return nil }

func loadIdentities(files identityFlags) ([]age.Identity, error) {
	var ids []age.Identity
	for _, p := range files {
		i, err := artefact.ParseIdentityFile(p)
		if err != nil {
			return nil, err
		}
		ids = append(ids, i...)
	}
	return ids, nil
}

func newFlagSet(name string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("callguard recording "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stdout, cliUsage) }
	return fs
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", stdout, stderr)
	var idFiles identityFlags
	fs.Var(&idFiles, "identity", "age identity file (repeatable); without it only the encrypted hash is checked")
	manifest := fs.String("manifest", "", "manifest file (default: <call-id>.json beside the recording)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 || (*manifest != "" && fs.NArg() > 1) {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	ids, err := loadIdentities(idFiles)
	if err != nil {
		fmt.Fprintf(stderr, "callguard recording verify: %v\n", err)
		return 2
	}
	status := 0
	for _, audio := range fs.Args() {
		m := *manifest
		if m == "" {
			m = manifestBeside(audio)
		}
		rep, err := artefact.Verify(audio, m, ids)
		switch {
		case err == nil:
			what := "encrypted file matches"
			if rep.Decrypted {
				what = fmt.Sprintf("encrypted file and plaintext match, %v of audio, %d pauses", rep.Decrypt.Duration, len(rep.Manifest.Pauses))
			}
			fmt.Fprintf(stdout, "OK    %s: %s\n", audio, what)
		case errors.Is(err, ErrVerify):
			status = 1
			fmt.Fprintf(stdout, "FAIL  %s\n", audio)
			for _, p := range rep.Problems {
				fmt.Fprintf(stdout, "      - %s\n", p)
			}
		default:
			status = 1
			fmt.Fprintf(stdout, "ERROR %s: %v\n", audio, err)
		}
	}
	return status
}

func runDecrypt(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("decrypt", stdout, stderr)
	var idFiles identityFlags
	fs.Var(&idFiles, "identity", "age identity file (repeatable, required)")
	out := fs.String("o", "", `output file, "-" for standard output (default: the recording's name without .age)`)
	wav := fs.Bool("wav", false, "decode an Opus recording to a WAV")
	force := fs.Bool("force", false, "overwrite the output file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 || len(idFiles) == 0 {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	audio := fs.Arg(0)
	ids, err := loadIdentities(idFiles)
	if err != nil {
		fmt.Fprintf(stderr, "callguard recording decrypt: %v\n", err)
		return 2
	}
	dst := *out
	if dst == "" {
		dst = strings.TrimSuffix(audio, ".age")
		if dst == audio {
			dst = audio + ".wav"
		}
		if *wav {
			dst = strings.TrimSuffix(dst, ".opus") + ".wav"
		}
	}
	var w io.Writer = stdout
	var f *os.File
	if dst != "-" {
		flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if *force {
			flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		if f, err = os.OpenFile(dst, flags, 0o600); err != nil {
			fmt.Fprintf(stderr, "callguard recording decrypt: %v (use --force to overwrite)\n", err)
			return 1
		}
		w = f
	}
	decrypt := artefact.Decrypt
	if *wav {
		decrypt = decryptToWAV
	}
	rep, err := decrypt(audio, ids, w)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "callguard recording decrypt: %v\n", err)
		return 1
	}
	what := "Ogg Opus"
	if rep.Codec == artefact.CodecPCM || *wav {
		what = "WAV"
	}
	msg := fmt.Sprintf("wrote %s (%s): %v of audio (%d frames, 16 kHz stereo: left officer, right caller)", dst, what, rep.Duration, rep.Frames)
	if !rep.Complete {
		msg += fmt.Sprintf("\nthe recording was interrupted: everything up to %v was recovered; the last %d encrypted bytes could not be authenticated and were left out", rep.Duration, rep.LostBytes)
	}
	if m, err := artefact.ReadManifest(manifestBeside(audio)); err == nil && m.Complete {
		if m.SHA256Plaintext == rep.PlaintextSHA256 {
			msg += "\nplaintext SHA-256 matches the manifest"
		} else {
			msg += "\nWARNING: plaintext SHA-256 does not match the manifest: run verify"
		}
	}
	fmt.Fprintln(stderr, msg)
	return 0
}

// manifestBeside returns <call-id>.json for <call-id>.opus.age or
// <call-id>.wav.age.
func manifestBeside(audio string) string {
	base := strings.TrimSuffix(filepath.Base(audio), ".age")
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".wav"), ".opus")
	return filepath.Join(filepath.Dir(audio), base+".json")
}
