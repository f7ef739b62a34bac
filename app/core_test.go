package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine running.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock is a clock whose timers fire only when the test moves time (or
// at once, like real timers, when armed for a moment already come).
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	c       chan time.Time
	stopped bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		// As time.NewTimer: a timer for a moment already come fires at once.
		// The core arms its next deadline after it answered the intent that
		// set it, so a test may have moved the clock past it by then; a
		// fake that waited for the next Advance lost that reminder.
		t.stopped = true
		t.c <- c.now
	}
	c.timers = append(c.timers, t)
	return t.c, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			t.c <- c.now
		}
	}
}

func startCore(t *testing.T, manual bool) (*Core, *fakeRecorder, *fakeSink, *fakeNotifier, *fakeClock, context.CancelFunc) {
	t.Helper()
	rec, sink, note := &fakeRecorder{}, &fakeSink{}, &fakeNotifier{}
	clock := &fakeClock{now: t0}
	core := NewCore(MachineConfig{
		Policy:   defaultPolicy(t),
		Agent:    AgentView{ID: "1001"},
		Manual:   manual,
		Recorder: rec,
		Sink:     sink,
		Notifier: note,
		Logger:   slog.New(slog.DiscardHandler),
	}, WithClock(clock))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { core.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return core, rec, sink, note, clock, cancel
}

// next waits for a snapshot that satisfies ok.
func next(t *testing.T, ch <-chan Snapshot, ok func(Snapshot) bool) Snapshot {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s := <-ch:
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatal("no matching snapshot within 5s")
		}
	}
}

func TestCorePublishesSnapshotsAfterTheRecorderObeyed(t *testing.T) {
	core, rec, _, _, _, _ := startCore(t, true)
	snaps, cancel := core.Subscribe()
	defer cancel()
	first := <-snaps
	if first.State != StateIdle || first.Link != LinkManual {
		t.Fatalf("first snapshot %s/%s, want idle/manual", first.State, first.Link)
	}
	if _, err := core.StartManual(DirectionInbound, Party{Number: "07700900001"}); err != nil {
		t.Fatal(err)
	}
	next(t, snaps, func(s Snapshot) bool { return s.State == StateRecording })
	if err := core.Pause("payment"); err != nil {
		t.Fatal(err)
	}
	// Pause returned, so the gate is closed already: no waiting needed.
	if r := rec.live("07700900001"); r == nil || r.open {
		t.Fatal("Pause returned before the recorder's gate closed")
	}
	s := next(t, snaps, func(s Snapshot) bool { return s.State == StatePaused })
	if s.Reason != "payment" || s.ReasonLabel != "Card payment" {
		t.Fatalf("paused snapshot reason %q label %q", s.Reason, s.ReasonLabel)
	}
	if s.Version <= first.Version {
		t.Fatal("snapshot version did not grow")
	}
}

func TestCoreRunsRemindersOnItsClock(t *testing.T) {
	core, _, _, note, clock, _ := startCore(t, true)
	snaps, cancel := core.Subscribe()
	defer cancel()
	core.StartManual(DirectionInbound, Party{Number: "07700900001"})
	core.Pause("payment")
	next(t, snaps, func(s Snapshot) bool { return s.State == StatePaused })
	clock.Advance(3 * time.Minute)
	next(t, snaps, func(s Snapshot) bool { return s.PauseOverdue })
	if k := note.kinds(); len(k) != 1 || k[0] != NotifyPauseLong {
		t.Fatalf("notifications %v, want one pause reminder", k)
	}
}

func TestCoreAppliesRecorderFailuresFromOtherGoroutines(t *testing.T) {
	core, rec, _, _, _, _ := startCore(t, true)
	snaps, cancel := core.Subscribe()
	defer cancel()
	core.StartManual(DirectionInbound, Party{Number: "07700900001"})
	go rec.fail("07700900001", errors.New("microphone unplugged"))
	s := next(t, snaps, func(s Snapshot) bool { return s.State == StateFailed })
	if s.Reason != "microphone unplugged" {
		t.Fatalf("failed reason %q", s.Reason)
	}
}

func TestCoreStopsRecordingsAndRefusesIntentsWhenStopped(t *testing.T) {
	core, rec, sink, _, _, cancel := startCore(t, false)
	core.HandleCall(CallEvent{Kind: LinkUp})
	core.HandleCall(CallEvent{Kind: CallAnswered, DialogID: "d1", Direction: DirectionInbound, Remote: Party{Number: "07700900001"}})
	snaps, unsub := core.Subscribe()
	defer unsub()
	next(t, snaps, func(s Snapshot) bool { return s.State == StateRecording })
	cancel()
	if err := waitErr(func() error { return core.Pause("payment") }, ErrClosed); err != nil {
		t.Fatal(err)
	}
	if r := rec.recordings[0]; !r.stopped {
		t.Fatal("recording left running after the core stopped")
	}
	last := sink.events[len(sink.events)-1]
	if last.Type != EventLink || last.State != "lost" {
		t.Fatalf("last event %s/%s, want link lost on shutdown", last.Type, last.State)
	}
}

func waitErr(f func() error, want error) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := f(); errors.Is(err, want) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("intent did not fail with " + want.Error())
}

// syncFailRecorder reports a failure from inside Pause, on the core's own
// goroutine: Pause says it has begun on entered, and fails once the test
// opens gate.
type syncFailRecorder struct{ entered, gate chan struct{} }

type syncFailRecording struct {
	syncFailRecorder
	onFail func(error)
}

func (r syncFailRecorder) Start(_ RecordingCall, onFail func(error)) (Recording, error) {
	return &syncFailRecording{syncFailRecorder: r, onFail: onFail}, nil
}

func (r *syncFailRecording) Pause(string) error {
	close(r.entered)
	<-r.gate
	err := errors.New("fake: capture device gone")
	r.onFail(err)
	return err
}
func (r *syncFailRecording) Resume() error           { return nil }
func (r *syncFailRecording) Stop(RecordingEnd) error { return nil }

// A recorder may report a failure from any goroutine, the core's included,
// even while the core's inbox is full: the core must not wait on itself.
func TestRecorderFailureFromInsideACommandWithAFullInbox(t *testing.T) {
	entered, gate := make(chan struct{}), make(chan struct{})
	core := NewCore(MachineConfig{
		Policy: defaultPolicy(t), Agent: AgentView{ID: "1001"}, Manual: true,
		Recorder: syncFailRecorder{entered: entered, gate: gate}, Sink: &fakeSink{}, Notifier: &fakeNotifier{},
		Logger: slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { core.Run(ctx); close(done) }()
	stuck := false
	defer func() {
		if cancel(); !stuck { // a deadlocked core never returns
			<-done
		}
	}()
	snaps, unsubscribe := core.Subscribe()
	defer unsubscribe()
	if _, err := core.StartManual(DirectionInbound, Party{Number: "07700900001"}); err != nil {
		t.Fatal(err)
	}
	paused := make(chan error, 1)
	go func() { paused <- core.Pause("payment") }()
	<-entered
	// Fill the inbox while the core sits in the recorder's Pause.
	filled := make(chan struct{})
	go func() {
		for range cap(core.inbox) {
			core.HandleCall(CallEvent{Kind: LinkUp})
		}
		close(filled)
	}()
	testrigWait(t, func() bool { return len(core.inbox) == cap(core.inbox) })
	close(gate)
	select {
	case <-paused:
	case <-time.After(5 * time.Second):
		stuck = true
		t.Fatal("the core deadlocked on a failure reported from inside Pause")
	}
	<-filled
	next(t, snaps, func(s Snapshot) bool { return s.State == StateFailed })
}

// testrigWait polls ok for up to 5 s.
func testrigWait(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not met within 5 s")
}

// An intent's caller (the local API answers with the state) must read the
// state the intent made as soon as the intent returns.
func TestIntentReturnsAfterItsStateIsPublished(t *testing.T) {
	core, _, _, _, _, _ := startCore(t, true)
	for i := range 300 {
		if _, err := core.StartManual(DirectionInbound, Party{Number: "07700900001"}); err != nil {
			t.Fatal(err)
		}
		if s := core.Snapshot(); s.Call == nil {
			t.Fatalf("round %d: StartManual returned, the snapshot still shows %s with no call", i, s.State)
		}
		if err := core.EndManual(); err != nil {
			t.Fatal(err)
		}
		if s := core.Snapshot(); s.Call != nil {
			t.Fatalf("round %d: EndManual returned, the snapshot still shows the call", i)
		}
	}
}
