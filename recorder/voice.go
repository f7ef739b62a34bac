package recorder

import (
	"fmt"
	"io"

	"github.com/callguard/callguard/vad"
)

// setUpVoice builds the voice-activity timeline of what is stored: it is
// fed after the gate and the keypad masker, on the writer goroutine, beside
// store. A frame the gate silenced (inside a pause) is skipped, not
// analysed. Nothing of it runs on the capture path, so the gate's latency
// is what it was.
func (r *Recording) setUpVoice() error {
	next, paused := 0, false
	// Pause boundaries fall on capture buffers, which are whole frames of
	// the detector, and each is in r.boundaries before the masker hands on
	// the frame it begins: the state at a frame's first sample is the
	// frame's.
	at := func(from, _ int64) bool {
		for ; next < len(r.boundaries) && r.boundaries[next].pos <= from; next++ {
			paused = r.boundaries[next].paused
		}
		return paused
	}
	tl, err := vad.NewTimeline(at)
	if err != nil {
		return fmt.Errorf("recorder: %w", err)
	}
	r.voice = tl
	r.voiceTee = io.MultiWriter(r.store(), tl)
	return nil
}
