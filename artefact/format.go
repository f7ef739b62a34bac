package artefact

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The audio format of every recording (docs/recording.md, "The WAV inside").
const (
	SampleRate     = 16000 // frames per second
	Channels       = 2     // left = officer, right = caller
	BitsPerSample  = 16
	BytesPerFrame  = Channels * BitsPerSample / 8
	BytesPerSecond = SampleRate * BytesPerFrame

	// WAVHeaderSize is the size of the canonical 44-byte RIFF/WAVE header.
	WAVHeaderSize = 44
	// StreamingSize marks the RIFF and data sizes as unknown while streaming.
	StreamingSize = 0xFFFFFFFF
	// MaxDataBytes keeps the finalised sizes within a 32-bit RIFF header.
	MaxDataBytes = 0xFFFFFFFF - (WAVHeaderSize - 8)

	// PlainChunk is the plaintext size of one age STREAM chunk.
	PlainChunk = 64 << 10
	// AgeChunk is the size of one encrypted age STREAM chunk on disk: 64 KiB
	// of plaintext plus a 16-byte tag.
	AgeChunk = PlainChunk + 16
)

// ErrNotOurWAV: the plaintext does not start with the header the recorder writes.
var ErrNotOurWAV = errors.New("not a callguard recording (unexpected WAV header)")

// FramesToMS converts a frame position to milliseconds (rounding down).
func FramesToMS(frames int64) int64 { return frames * 1000 / SampleRate }

// MSToFrames converts milliseconds to a frame position.
func MSToFrames(ms int64) int64 { return ms * SampleRate / 1000 }

// WAVHeader returns the 44-byte header of a PCM16 16 kHz stereo WAV file
// with dataBytes of samples, or with both sizes set to 0xFFFFFFFF
// ("unknown, still streaming") when dataBytes < 0.
func WAVHeader(dataBytes int64) []byte {
	h := make([]byte, WAVHeaderSize)
	riff, data := uint32(StreamingSize), uint32(StreamingSize)
	if dataBytes >= 0 {
		data = uint32(dataBytes)
		riff = uint32(dataBytes + WAVHeaderSize - 8)
	}
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], riff)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(h[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(h[22:], Channels)
	binary.LittleEndian.PutUint32(h[24:], SampleRate)
	binary.LittleEndian.PutUint32(h[28:], BytesPerSecond)
	binary.LittleEndian.PutUint16(h[32:], BytesPerFrame)
	binary.LittleEndian.PutUint16(h[34:], BitsPerSample)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], data)
	return h
}

// CheckWAVHeader accepts a header written by WAVHeader, streaming or final.
func CheckWAVHeader(h []byte) error {
	if len(h) < WAVHeaderSize {
		return fmt.Errorf("%w: %d bytes", ErrNotOurWAV, len(h))
	}
	want := WAVHeader(0)
	// Compare everything except the two size fields.
	for _, r := range [][2]int{{0, 4}, {8, 40}} {
		if string(h[r[0]:r[1]]) != string(want[r[0]:r[1]]) {
			return ErrNotOurWAV
		}
	}
	return nil
}
