package app

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

// fakeRecorder records what the machine asked of the recorder and can be
// told to fail.
type fakeRecorder struct {
	mu         sync.Mutex
	recordings []*fakeRecording
	ops        []string
	failStart  error
	failPause  error
	failResume error
}

type fakeRecording struct {
	r       *fakeRecorder
	call    RecordingCall
	open    bool // gate open: audio reaches disk
	stopped bool
	reasons []string
	end     RecordingEnd
	onFail  func(error)
}

func (f *fakeRecorder) Start(c RecordingCall, onFail func(error)) (Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, fmt.Sprintf("start %s paused=%q", c.Remote.Number, c.PausedReason))
	if f.failStart != nil {
		return nil, f.failStart
	}
	r := &fakeRecording{r: f, call: c, open: c.PausedReason == "", onFail: onFail}
	if c.PausedReason != "" {
		r.reasons = append(r.reasons, c.PausedReason)
	}
	f.recordings = append(f.recordings, r)
	return r, nil
}

func (r *fakeRecording) Pause(reason string) error {
	r.r.mu.Lock()
	defer r.r.mu.Unlock()
	r.r.ops = append(r.r.ops, fmt.Sprintf("pause %s %s", r.call.Remote.Number, reason))
	if r.stopped {
		return errors.New("fake: pause after stop")
	}
	if r.r.failPause != nil {
		return r.r.failPause
	}
	r.open = false
	r.reasons = append(r.reasons, reason)
	return nil
}

func (r *fakeRecording) Resume() error {
	r.r.mu.Lock()
	defer r.r.mu.Unlock()
	r.r.ops = append(r.r.ops, fmt.Sprintf("resume %s", r.call.Remote.Number))
	if r.stopped {
		return errors.New("fake: resume after stop")
	}
	if r.r.failResume != nil {
		return r.r.failResume
	}
	r.open = true
	return nil
}

func (r *fakeRecording) Stop(end RecordingEnd) error {
	r.r.mu.Lock()
	defer r.r.mu.Unlock()
	r.r.ops = append(r.r.ops, fmt.Sprintf("stop %s notice=%s", r.call.Remote.Number, end.Notice))
	if r.stopped {
		return errors.New("fake: stopped twice")
	}
	r.stopped, r.open, r.end = true, false, end
	return nil
}

// live returns the recording of the call with remote number n that is not stopped.
func (f *fakeRecorder) live(n string) *fakeRecording {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.recordings {
		if r.call.Remote.Number == n && !r.stopped {
			return r
		}
	}
	return nil
}

// fail makes the recording of the call with remote number n die by itself,
// as a real one does when its device goes away.
func (f *fakeRecorder) fail(n string, err error) {
	r := f.live(n)
	f.mu.Lock()
	r.stopped, r.open = true, false
	f.mu.Unlock()
	r.onFail(err)
}

func (f *fakeRecorder) openGates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.recordings {
		if r.open && !r.stopped {
			n++
		}
	}
	return n
}

type fakeSink struct {
	mu     sync.Mutex
	events []Event
	fail   error
}

func (s *fakeSink) Append(e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.events = append(s.events, e)
	return nil
}

// types lists the events' types with their state/outcome, for assertions.
func (s *fakeSink) types() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.events {
		t := string(e.Type)
		switch e.Type {
		case EventRecordingState:
			t += ":" + e.State
			if e.Reason != "" {
				t += "/" + e.Reason
			}
		case EventNotice:
			t += ":" + e.Outcome
		case EventFlag, EventLink:
			t += ":" + e.Reason + e.State
		}
		out = append(out, t)
	}
	return out
}

type fakeNotifier struct {
	mu   sync.Mutex
	sent []Notification
}

func (n *fakeNotifier) Notify(x Notification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, x)
}

func (n *fakeNotifier) kinds() []NotificationKind {
	n.mu.Lock()
	defer n.mu.Unlock()
	var k []NotificationKind
	for _, x := range n.sent {
		k = append(k, x.Kind)
	}
	return k
}

// defaultPolicy is the policy callguard ships with.
func defaultPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatalf("default policy: %v", err)
	}
	return p
}

// rig is a machine with fakes around it and a clock the test moves.
type rig struct {
	t    testing.TB
	m    *Machine
	rec  *fakeRecorder
	sink *fakeSink
	note *fakeNotifier
	now  time.Time
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func newRig(t testing.TB, pol *policy.Policy, manual bool) *rig {
	r := &rig{t: t, rec: &fakeRecorder{}, sink: &fakeSink{}, note: &fakeNotifier{}, now: t0}
	r.m = NewMachine(MachineConfig{
		Policy:   pol,
		Agent:    AgentView{ID: "1001", Name: "Alex Officer"},
		Language: "en-GB",
		Manual:   manual,
		Recorder: r.rec,
		Sink:     r.sink,
		Notifier: r.note,
		Logger:   slog.New(slog.DiscardHandler),
	}, r.now)
	r.m.onFail = func(id string, err error) { r.m.RecorderFailed(id, err, r.now) }
	r.m.onKeypad = func(id string, ev KeypadEvent) { r.m.Keypad(id, ev, r.now) }
	return r
}

func (r *rig) advance(d time.Duration) {
	r.now = r.now.Add(d)
	r.m.Tick(r.now)
}

func (r *rig) call(kind CallEventKind, dialog string, dir Direction, remote string) {
	r.m.HandleCall(CallEvent{
		Kind: kind, DialogID: dialog, CallID: "sip-" + dialog, Direction: dir,
		Local: Party{Number: "1001"}, Remote: Party{Number: remote}, At: r.now,
	}, r.now)
}

func (r *rig) link(kind CallEventKind, reason string) {
	r.m.HandleCall(CallEvent{Kind: kind, Reason: reason, At: r.now}, r.now)
}

func (r *rig) state() (RecordingState, string) {
	s := r.m.Snapshot(r.now)
	return s.State, s.Reason
}

func (r *rig) wantState(want RecordingState, reason string) {
	r.t.Helper()
	got, gotReason := r.state()
	if got != want || gotReason != reason {
		r.t.Fatalf("state = %s/%q, want %s/%q", got, gotReason, want, reason)
	}
}
