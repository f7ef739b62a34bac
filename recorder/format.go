package recorder

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The audio format of every recording (DESIGN "Recording artefacts").
const (
	SampleRate     = 16000 // frames per second
	Channels       = 2     // left = officer, right = caller
	bitsPerSample  = 16
	bytesPerFrame  = Channels * bitsPerSample / 8
	bytesPerSecond = SampleRate * bytesPerFrame

	// BufferFrames is the capture buffer: 20 ms. The gate is read once per
	// buffer, so a pause or resume takes effect within one buffer.
	BufferFrames = 320
	bufferBytes  = BufferFrames * bytesPerFrame

	// wavHeaderSize is the size of the canonical 44-byte RIFF/WAVE header.
	wavHeaderSize = 44
	// streamingSize marks the RIFF and data sizes as unknown while streaming.
	streamingSize = 0xFFFFFFFF
	// maxDataBytes keeps the finalised sizes within a 32-bit RIFF header.
	maxDataBytes = 0xFFFFFFFF - (wavHeaderSize - 8)
)

// framesToMS converts a frame position to milliseconds. Pause boundaries are
// multiples of BufferFrames, so this is exact for them.
func framesToMS(frames int64) int64 { return frames * 1000 / SampleRate }

// wavHeader returns the 44-byte header of a PCM16 16 kHz stereo WAV file with
// dataBytes of samples, or with both sizes set to 0xFFFFFFFF ("unknown, still
// streaming") when dataBytes < 0.
func wavHeader(dataBytes int64) []byte {
	h := make([]byte, wavHeaderSize)
	riff, data := uint32(streamingSize), uint32(streamingSize)
	if dataBytes >= 0 {
		data = uint32(dataBytes)
		riff = uint32(dataBytes + wavHeaderSize - 8)
	}
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], riff)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(h[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(h[22:], Channels)
	binary.LittleEndian.PutUint32(h[24:], SampleRate)
	binary.LittleEndian.PutUint32(h[28:], bytesPerSecond)
	binary.LittleEndian.PutUint16(h[32:], bytesPerFrame)
	binary.LittleEndian.PutUint16(h[34:], bitsPerSample)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], data)
	return h
}

var errNotOurWAV = errors.New("not a callguard recording (unexpected WAV header)")

// checkWAVHeader accepts a header written by wavHeader, streaming or final.
func checkWAVHeader(h []byte) error {
	if len(h) < wavHeaderSize {
		return fmt.Errorf("%w: %d bytes", errNotOurWAV, len(h))
	}
	want := wavHeader(0)
	// Compare everything except the two size fields.
	for _, r := range [][2]int{{0, 4}, {8, 40}} {
		if string(h[r[0]:r[1]]) != string(want[r[0]:r[1]]) {
			return errNotOurWAV
		}
	}
	return nil
}
