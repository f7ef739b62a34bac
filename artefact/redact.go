package artefact

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"

	"filippo.io/age"
)

// Interval is a stretch of a recording in milliseconds from its first
// frame: [FromMS, ToMS).
type Interval struct {
	FromMS int64 `json:"from_ms"`
	ToMS   int64 `json:"to_ms"`
}

// ErrBadInterval: an interval to redact is empty, negative or reversed.
var ErrBadInterval = errors.New("interval to redact is not valid")

// RedactResult describes a redacted recording and the one it was made from.
type RedactResult struct {
	Sums
	// BeforePlaintextSHA256 is the SHA-256 of the source's plaintext (as
	// far as it authenticated).
	BeforePlaintextSHA256 string
	// Codec is the recording's: CodecPCM or CodecOpus.
	Codec string
	// DataBytes is the size of the samples in the new file (PCM; 0 for
	// Opus).
	DataBytes int64
	// Frames is how many stereo frames the new file plays (Opus; for PCM
	// it is DataBytes / BytesPerFrame).
	Frames int64
	// Silenced lists the stretches that are now silence (Opus: in whole
	// 20 ms packets, wider than the cuts asked for, see oggopus.Redact; PCM:
	// empty, the cuts themselves).
	Silenced []Interval
	// SilencedBytes is how many sample bytes the redaction set to zero
	// (some may have been zero already).
	SilencedBytes int64
	// SourceComplete is false when the source was cut short (a crashed
	// recording): the new file holds every chunk that authenticated, and is
	// itself a complete age file.
	SourceComplete bool
}

// Redact decrypts the recording read from src with identities, replaces
// every sample inside the intervals with digital silence (zero, on both
// channels), and writes the result to dst, encrypted to recipients. In a
// WAV recording every other plaintext byte, the streaming WAV header
// included, is copied unchanged. In an Opus recording the packets that
// overlap an interval (and those the codec ties to it) are replaced by
// silence packets without decoding anything, and every other packet is
// copied byte for byte (oggopus.Redact). Nothing is written to disk
// unencrypted: the audio streams through in age chunks of 64 KiB.
//
// Intervals are clamped to the audio; one that starts past its end silences
// nothing. The source may be in segments (segmentReader); the result is
// one age file. A source cut short by a crash is redacted as far as it
// authenticates.
func Redact(src io.Reader, identities []age.Identity, recipients []age.Recipient, cuts []Interval, dst io.Writer) (RedactResult, error) {
	var res RedactResult
	ranges, err := byteRanges(cuts)
	if err != nil {
		return res, err
	}
	plain, err := newSegmentReader(src, identities, nil)
	if err != nil {
		return res, fmt.Errorf("redact: %w", err)
	}
	w, err := newStream(dst, recipients)
	if err != nil {
		return res, fmt.Errorf("redact: %w", err)
	}
	br := bufio.NewReaderSize(plain, PlainChunk)
	if head, _ := br.Peek(WAVHeaderSize); bytes.HasPrefix(head, []byte("OggS")) {
		return redactOgg(br, w, cuts)
	}
	res.Codec = CodecPCM
	before := sha256.New()
	buf := make([]byte, PlainChunk)
	var pos int64 // plaintext offset of buf[0]
	res.SourceComplete = true
	for {
		k, rerr := io.ReadFull(br, buf)
		if k > 0 {
			chunk := buf[:k]
			if pos == 0 {
				if err := CheckWAVHeader(chunk); err != nil {
					return res, fmt.Errorf("redact: %w", err)
				}
			}
			before.Write(chunk)
			res.SilencedBytes += silence(chunk, pos, ranges)
			if err := w.writePlain(chunk); err != nil {
				return res, fmt.Errorf("redact: write: %w", err)
			}
			pos += int64(k)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			// The source was cut short: keep what authenticated.
			res.SourceComplete = false
			break
		}
	}
	if pos < WAVHeaderSize {
		return res, fmt.Errorf("redact: only %d bytes could be decrypted, not even the WAV header", pos)
	}
	if err := w.Close(); err != nil {
		return res, fmt.Errorf("redact: close: %w", err)
	}
	res.Sums = w.Sums()
	res.BeforePlaintextSHA256 = hex.EncodeToString(before.Sum(nil))
	res.DataBytes = pos - WAVHeaderSize
	res.Frames = res.DataBytes / BytesPerFrame
	return res, nil
}

// byteRanges turns intervals into sorted, merged plaintext byte ranges,
// frame-aligned, after the header.
func byteRanges(cuts []Interval) ([][2]int64, error) {
	var out [][2]int64
	for _, c := range cuts {
		if c.FromMS < 0 || c.ToMS <= c.FromMS {
			return nil, fmt.Errorf("%d–%d ms: %w", c.FromMS, c.ToMS, ErrBadInterval)
		}
		from := WAVHeaderSize + MSToFrames(c.FromMS)*BytesPerFrame
		// The end rounds up to a whole frame, so nothing inside is left.
		toFrames := (c.ToMS*SampleRate + 999) / 1000
		out = append(out, [2]int64{from, WAVHeaderSize + toFrames*BytesPerFrame})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && r[0] <= merged[n-1][1] {
			merged[n-1][1] = max(merged[n-1][1], r[1])
			continue
		}
		merged = append(merged, r)
	}
	return merged, nil
}

// silence zeroes the parts of chunk (at plaintext offset pos) inside
// ranges and returns how many bytes that was.
func silence(chunk []byte, pos int64, ranges [][2]int64) int64 {
	var n int64
	end := pos + int64(len(chunk))
	for _, r := range ranges {
		lo, hi := max(r[0], pos), min(r[1], end)
		if lo >= hi {
			continue
		}
		clear(chunk[lo-pos : hi-pos])
		n += hi - lo
	}
	return n
}
