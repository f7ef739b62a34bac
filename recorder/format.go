package recorder

import "github.com/callguard/callguard/artefact"

// The audio format of every recording (DESIGN "Recording artefacts"); the
// format itself lives in package artefact, shared with the server.
const (
	SampleRate     = artefact.SampleRate // frames per second
	Channels       = artefact.Channels   // left = officer, right = caller
	bytesPerFrame  = artefact.BytesPerFrame
	bytesPerSecond = artefact.BytesPerSecond

	// BufferFrames is the capture buffer: 20 ms. The gate is read once per
	// buffer, so a pause or resume takes effect within one buffer.
	BufferFrames = 320
	bufferBytes  = BufferFrames * bytesPerFrame

	wavHeaderSize = artefact.WAVHeaderSize
	maxDataBytes  = artefact.MaxDataBytes
	plainChunk    = artefact.PlainChunk
)

// framesToMS converts a frame position to milliseconds. Pause boundaries are
// multiples of BufferFrames, so this is exact for them.
func framesToMS(frames int64) int64 { return artefact.FramesToMS(frames) }

// wavHeader returns the 44-byte WAV header for dataBytes of samples, or the
// streaming header when dataBytes < 0.
func wavHeader(dataBytes int64) []byte { return artefact.WAVHeader(dataBytes) }
