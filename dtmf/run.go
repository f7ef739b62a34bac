package dtmf

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Defaults of a Run: four tones within ten seconds mean the caller is keying
// something long, a card number most likely.
const (
	DefaultRunTones  = 4
	DefaultRunWithin = 10 * time.Second
)

// ErrRun is returned for a run of fewer than two tones or a window that is
// not positive.
var ErrRun = errors.New("dtmf: a run needs at least 2 tones within a positive time")

// sameKeypress: tones that begin this close together are one keypress heard
// twice (on the caller's channel and, through the headset, the officer's).
// Keypresses cannot come closer: a tone and the pause after it last at least
// 40 ms each (Q.24).
const sameKeypress = 60 * time.Millisecond

// Run tells when keypad tones come in a run: count tones beginning within a
// window of time, the sign that a caller is keying a card number. Feed it the
// starts of tones (a Masker's WithToneStarts). It is not safe for concurrent
// use.
type Run struct {
	count  int
	within int64 // samples
	same   int64 // samples
	starts []int64
	fired  bool
}

// NewRun returns a Run at sampleRate that fires when count tones begin
// within the given time.
func NewRun(sampleRate, count int, within time.Duration) (*Run, error) {
	if sampleRate != 8000 && sampleRate != 16000 {
		return nil, fmt.Errorf("%w (got %d)", ErrSampleRate, sampleRate)
	}
	if count < 2 || within <= 0 {
		return nil, fmt.Errorf("%w (got %d within %v)", ErrRun, count, within)
	}
	toSamples := func(d time.Duration) int64 { return int64(d) * int64(sampleRate) / int64(time.Second) }
	return &Run{count: count, within: toSamples(within), same: toSamples(sameKeypress)}, nil
}

// Tone records a tone that began at sample start and reports whether it
// completes a run. It reports true once per run: again only after a gap in
// which fewer than count tones began within the window. Starts may come a
// little out of order (two channels); a start within 60 ms of one already
// seen is the same keypress and is not counted again.
func (r *Run) Tone(start int64) bool {
	for _, s := range r.starts {
		if abs(s-start) < r.same {
			return false
		}
	}
	i, _ := slices.BinarySearch(r.starts, start)
	r.starts = slices.Insert(r.starts, i, start)
	latest := r.starts[len(r.starts)-1]
	k := 0
	for k < len(r.starts) && r.starts[k] < latest-r.within {
		k++
	}
	r.starts = r.starts[k:]
	if len(r.starts) < r.count {
		r.fired = false
		return false
	}
	if r.fired {
		return false
	}
	r.fired = true
	return true
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
