package apptest

import (
	"sync"

	"github.com/callguard/callguard/app"
)

// Recorder is an app.Recorder whose only state is each call's gate: open
// while audio would reach the disk. Its zero value is ready to use.
type Recorder struct {
	// FailStart, when set, is what every Start returns.
	FailStart error
	// FailPause, when set, is what every Pause returns (the gate stays
	// as it was), such as an *app.UnconfirmedError.
	FailPause error

	mu     sync.Mutex
	open   map[string]bool
	keypad map[string]func(app.KeypadEvent)
}

// Start begins a fake recording of c, its gate closed when c starts paused.
func (g *Recorder) Start(c app.RecordingCall, _ func(error)) (app.Recording, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.FailStart != nil {
		return nil, g.FailStart
	}
	if g.open == nil {
		g.open = map[string]bool{}
	}
	g.open[c.ID] = c.PausedReason == ""
	if c.OnKeypad != nil {
		if g.keypad == nil {
			g.keypad = map[string]func(app.KeypadEvent){}
		}
		g.keypad[c.ID] = c.OnKeypad
	}
	return &recording{g, c.ID}, nil
}

// Keypad reports ev as call id's recording would (tones silenced, a run of
// them), and says whether that recording was started with a place to
// report to.
func (g *Recorder) Keypad(id string, ev app.KeypadEvent) bool {
	g.mu.Lock()
	f := g.keypad[id]
	g.mu.Unlock()
	if f == nil {
		return false
	}
	f(ev)
	return true
}

// Open reports whether the gate of call id's recording is open; false for a
// call it never started, or one paused or stopped.
func (g *Recorder) Open(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open[id]
}

type recording struct {
	r  *Recorder
	id string
}

func (r *recording) set(v bool) error {
	r.r.mu.Lock()
	defer r.r.mu.Unlock()
	r.r.open[r.id] = v
	return nil
}

func (r *recording) Pause(string) error {
	if r.r.FailPause != nil {
		return r.r.FailPause
	}
	return r.set(false)
}
func (r *recording) Resume() error               { return r.set(true) }
func (r *recording) Stop(app.RecordingEnd) error { return r.set(false) }

// Discard is an event sink that drops every event.
type Discard struct{}

// Append drops ev.
func (Discard) Append(app.Event) error { return nil }
