package artefact

import (
	"errors"
	"fmt"
)

// VoiceFrameMS is the voice-activity detector's frame: 20 ms.
const VoiceFrameMS = 20

// Voice is the voice-activity timeline the recorder computes while it
// records (manifest field "voice", absent in manifests from recorders
// before it): for each channel, whether someone was speaking in each
// frame, so the server can measure talk time, overtalk and silences
// without decrypting anything.
//
// Each channel is run-length encoded: Officer and Caller hold run lengths
// in frames, alternating between no voice and voice and starting with no
// voice (so a channel that begins voiced starts with a 0). The runs cover
// the recording from its first frame to its last; frames in a pause were
// never analysed and are never voiced (the manifest's Pauses say where they
// are, and a measure leaves them out).
type Voice struct {
	FrameMS int     `json:"frame_ms"`
	Officer []int32 `json:"officer"`
	Caller  []int32 `json:"caller"`
}

// Span is an interval in milliseconds from the recording's first frame,
// [FromMS, ToMS).
type Span struct {
	FromMS int64 `json:"from_ms"`
	ToMS   int64 `json:"to_ms"`
}

// Spans decodes one channel's runs into its voiced intervals, in order.
func (v *Voice) Spans(runs []int32) ([]Span, error) {
	if v.FrameMS <= 0 {
		return nil, fmt.Errorf("voice timeline: frame of %d ms", v.FrameMS)
	}
	var out []Span
	var at int64 // in frames
	for i, n := range runs {
		if n < 0 {
			return nil, errors.New("voice timeline: a negative run")
		}
		if i%2 == 1 && n > 0 {
			out = append(out, Span{FromMS: at * int64(v.FrameMS), ToMS: (at + int64(n)) * int64(v.FrameMS)})
		}
		at += int64(n)
	}
	return out, nil
}

// Frames is the number of frames one channel's runs cover.
func Frames(runs []int32) int64 {
	var n int64
	for _, r := range runs {
		n += int64(r)
	}
	return n
}

// VoiceRuns builds a channel's runs from per-frame decisions, for the
// recorder and for tests: the inverse of Spans.
type VoiceRuns struct {
	runs   []int32
	voiced bool
}

// Add appends one frame's decision.
func (r *VoiceRuns) Add(voiced bool) {
	if len(r.runs) == 0 {
		r.runs = append(r.runs, 0)
	}
	if voiced != r.voiced {
		r.runs = append(r.runs, 0)
		r.voiced = voiced
	}
	r.runs[len(r.runs)-1]++
}

// Runs returns a copy of the runs so far.
func (r *VoiceRuns) Runs() []int32 {
	return append([]int32(nil), r.runs...)
}
