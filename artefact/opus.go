package artefact

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact/oggopus"
)

// The codecs a recording's audio may be in (Manifest.Codec).
const (
	// CodecPCM is the streaming WAV of PCM16 (docs/recording.md, "The WAV
	// inside"); a manifest without a codec (versions 1 and 2) is PCM.
	CodecPCM = "pcm"
	// CodecOpus is an Ogg Opus stream (RFC 7845) at the same rate and
	// channels (docs/recording.md, "Opus recordings").
	CodecOpus = "opus"
)

// Audio file names beside the manifest, by codec.
const (
	WAVExt  = ".wav.age"
	OpusExt = ".opus.age"
)

// AudioExt is the file name ending of a recording in codec.
func AudioExt(codec string) string {
	if codec == CodecOpus {
		return OpusExt
	}
	return WAVExt
}

// ErrUnknownAudio: the plaintext is neither the recorder's WAV nor Ogg.
var ErrUnknownAudio = errors.New("not a callguard recording (neither its WAV nor Ogg Opus)")

// sniff says which codec a plaintext that begins with head is in.
func sniff(head []byte) (string, error) {
	switch {
	case bytes.HasPrefix(head, []byte("OggS")):
		return CodecOpus, nil
	case CheckWAVHeader(head) == nil:
		return CodecPCM, nil
	}
	return "", ErrUnknownAudio
}

// NewOggWriter starts an encrypted recording on dst for an Ogg Opus stream:
// unlike NewWriter it writes no header of its own, so what is written to it
// (the Ogg pages) is the whole plaintext.
func NewOggWriter(dst io.Writer, recipients ...age.Recipient) (*Writer, error) {
	return newStream(dst, recipients)
}

// cutToEOF turns the error that ends an age stream cut short into io.EOF
// for the Ogg reader, which then sees an incomplete last page, and keeps
// the error.
type cutToEOF struct {
	r   io.Reader
	cut error
}

func (c *cutToEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.cut = err
		err = io.EOF
	}
	return n, err
}

// framesOf converts a stream's duration in milliseconds to frames at
// SampleRate; the recorder's streams last whole milliseconds.
func framesOf(durationMS int64) int64 { return MSToFrames(durationMS) }

// decryptOgg writes the Ogg Opus plaintext of path to out, every complete
// page of it (through oggopus.Redact without cuts, which copies each page
// as it is), and fills in rep's frames and duration.
func decryptOgg(path string, identities []age.Identity, keys map[[32]byte][]byte, out io.Writer, rep *DecryptReport) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, _, _, _, err := decryptTo(path, identities, keys, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	res, err := oggopus.Redact(out, pr, nil, nil)
	pr.CloseWithError(errors.New("decrypt: stopped reading"))
	derr := <-done
	if err != nil {
		return fmt.Errorf("decrypt %s: %w", path, err)
	}
	if derr != nil {
		return derr
	}
	if !res.Complete && rep.Complete {
		// Every segment authenticated, but the stream has no end page: the
		// file was cut where a segment ended.
		rep.Complete = false
		rep.Cut = fmt.Errorf("%w: the Ogg stream has no end page", oggopus.ErrTruncated)
	}
	rep.Frames = framesOf(res.DurationMS)
	rep.Duration = durationOf(rep.Frames)
	return nil
}

// redactOgg is Redact for an Ogg Opus plaintext: whole packets become
// silence packets (oggopus.Redact), every other packet stays as it was.
func redactOgg(plain io.Reader, w *Writer, cuts []Interval) (RedactResult, error) {
	res := RedactResult{Codec: CodecOpus}
	before := sha256.New()
	src := &cutToEOF{r: io.TeeReader(plain, before)}
	ivs := make([]oggopus.Interval, len(cuts))
	for i, c := range cuts {
		ivs[i] = oggopus.Interval{FromMS: c.FromMS, ToMS: c.ToMS}
	}
	bw := bufio.NewWriterSize(plainWriter{w}, PlainChunk)
	r, err := oggopus.Redact(bw, src, ivs, nil)
	if err != nil {
		return res, fmt.Errorf("redact: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return res, fmt.Errorf("redact: write: %w", err)
	}
	if err := w.Close(); err != nil {
		return res, fmt.Errorf("redact: close: %w", err)
	}
	res.Sums = w.Sums()
	res.BeforePlaintextSHA256 = hex.EncodeToString(before.Sum(nil))
	res.SourceComplete = r.Complete && src.cut == nil
	res.Frames = framesOf(r.DurationMS)
	for _, s := range r.Silenced {
		res.Silenced = append(res.Silenced, Interval{FromMS: s.FromMS, ToMS: s.ToMS})
	}
	return res, nil
}

// plainWriter writes to a Writer's plaintext without counting it as PCM.
type plainWriter struct{ w *Writer }

func (p plainWriter) Write(b []byte) (int, error) {
	if err := p.w.writePlain(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// MediaType is the HTTP content type and file name ending of a decrypted
// recording that begins with head (what Decrypt writes): "audio/ogg" and
// ".opus" for Opus, "audio/wav" and ".wav" for a WAV.
func MediaType(head []byte) (contentType, ext string) {
	if bytes.HasPrefix(head, []byte("OggS")) {
		return "audio/ogg", ".opus"
	}
	return "audio/wav", ".wav"
}
