package artefact

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync/atomic"

	"filippo.io/age"
)

// Sums describe a finished encrypted recording.
type Sums struct {
	// PlaintextSHA256 is the SHA-256 of the plaintext inside the age file
	// (the streaming WAV header and the samples).
	PlaintextSHA256 string `json:"sha256_plaintext"`
	// EncryptedSHA256 is the SHA-256 of the age file.
	EncryptedSHA256 string `json:"sha256_encrypted"`
	EncryptedBytes  int64  `json:"encrypted_bytes"`
}

// Writer streams a recording into an age file: the streaming WAV header
// first, then PCM16 16 kHz stereo frames, encrypted to the organisation's
// recipients as they arrive. When the destination can Sync (an *os.File)
// every complete age chunk is fsynced as it is written, so a crash loses at
// most the chunk being filled. Cut ends the age file written so far and
// starts another (a segment, see segmentReader) so that what was written
// is durable before a chunk is full. Plaintext never reaches the
// destination.
type Writer struct {
	out        *hashingWriter
	recipients []age.Recipient
	plain      io.WriteCloser
	plainHash  hash.Hash
	data       int64
	segments   int
	pending    bool // plaintext written since the segment began
	closed     bool
}

// ErrWriterClosed: the Writer was closed.
var ErrWriterClosed = errors.New("artefact: writer closed")

// NewWriter starts an encrypted recording on dst and writes its streaming
// WAV header (sizes 0xFFFFFFFF: the manifest carries the real length).
func NewWriter(dst io.Writer, recipients ...age.Recipient) (*Writer, error) {
	w, err := newStream(dst, recipients)
	if err != nil {
		return nil, err
	}
	if err := w.writePlain(WAVHeader(-1)); err != nil {
		return nil, err
	}
	return w, nil
}

// newStream starts an age stream on dst without writing anything to it.
func newStream(dst io.Writer, recipients []age.Recipient) (*Writer, error) {
	if len(recipients) == 0 {
		return nil, errors.New("artefact: no recipient to encrypt to")
	}
	out := &hashingWriter{w: dst, hash: sha256.New()}
	if s, ok := dst.(syncer); ok {
		out.sync = s
	}
	plain, err := age.Encrypt(out, recipients...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return &Writer{out: out, recipients: recipients, plain: plain, plainHash: sha256.New(), segments: 1}, nil
}

// Cut ends the current segment (its last chunk, then an fsync when the
// destination can Sync), so that everything written so far decrypts after
// a crash; the next plaintext written starts the next segment, to the same
// recipients. The plaintext
// goes on where it was: the segments' plaintexts together are what was
// written. A Cut with nothing written since the last one does nothing.
// age itself cannot read a file of more than one segment, nor can
// callguard before segments; the recorder cuts only Ogg Opus recordings.
func (w *Writer) Cut() error {
	if w.closed {
		return ErrWriterClosed
	}
	if !w.pending {
		return nil
	}
	if err := w.endSegment(); err != nil {
		return err
	}
	// The next segment starts with the next plaintext.
	w.plain, w.pending = nil, false
	return nil
}

// endSegment writes the segment's last chunk and fsyncs it.
func (w *Writer) endSegment() error {
	if err := w.plain.Close(); err != nil {
		return fmt.Errorf("end segment %d: %w", w.segments, err)
	}
	if w.out.sync != nil {
		if err := w.out.sync.Sync(); err != nil {
			return fmt.Errorf("sync segment %d: %w", w.segments, err)
		}
		w.out.syncs.Add(1)
	}
	return nil
}

// Segments is how many age files (segments) the Writer started.
func (w *Writer) Segments() int { return w.segments }

func (w *Writer) writePlain(p []byte) error {
	if w.closed {
		return ErrWriterClosed
	}
	if w.plain == nil {
		plain, err := age.Encrypt(w.out, w.recipients...)
		if err != nil {
			return fmt.Errorf("encrypt segment %d: %w", w.segments+1, err)
		}
		w.plain = plain
		w.segments++
	}
	if _, err := w.plain.Write(p); err != nil {
		return err
	}
	w.plainHash.Write(p)
	w.pending = w.pending || len(p) > 0
	return nil
}

// Write encrypts PCM data (whole frames are expected but not required).
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.writePlain(p); err != nil {
		return 0, err
	}
	w.data += int64(len(p))
	return len(p), nil
}

// DataBytes returns how many bytes of samples were written.
func (w *Writer) DataBytes() int64 { return w.data }

// Syncs returns how many times the destination was fsynced so far: after
// each complete age chunk and at the end of each segment.
func (w *Writer) Syncs() int64 { return w.out.syncs.Load() }

// Close ends the age stream (its last chunk) and, when the destination can
// Sync, fsyncs it. It does not close the destination. A Writer that is not
// closed leaves a file whose complete chunks still decrypt (Decrypt
// recovers them).
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.plain == nil {
		return nil // sealed by the last Cut
	}
	return w.endSegment()
}

// Sums returns the hashes and size of what was written; complete only
// after Close.
func (w *Writer) Sums() Sums {
	return Sums{
		PlaintextSHA256: hex.EncodeToString(w.plainHash.Sum(nil)),
		EncryptedSHA256: hex.EncodeToString(w.out.hash.Sum(nil)),
		EncryptedBytes:  w.out.n,
	}
}

type syncer interface{ Sync() error }

// hashingWriter passes the encrypted stream on, hashes and counts it, and
// fsyncs after each complete age chunk.
type hashingWriter struct {
	w     io.Writer
	sync  syncer
	hash  hash.Hash
	n     int64
	syncs atomic.Int64
}

func (h *hashingWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.hash.Write(p[:n])
	h.n += int64(n)
	if err != nil {
		return n, err
	}
	if h.sync != nil && len(p) >= AgeChunk {
		if err := h.sync.Sync(); err != nil {
			return n, err
		}
		h.syncs.Add(1)
	}
	return n, nil
}
