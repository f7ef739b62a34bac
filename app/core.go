package app

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the time and makes timers; tests replace it.
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once after d, and a stop function.
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Core runs a Machine on its own goroutine. Call events, intents and
// recorder failures are posted to that goroutine, so the machine needs no
// locks; after each change Core publishes a new Snapshot to subscribers.
type Core struct {
	m     *Machine
	clock Clock
	log   *slog.Logger

	inbox chan func(now time.Time)
	done  chan struct{}

	snap atomic.Pointer[Snapshot]

	mu      sync.Mutex
	subs    map[int]chan Snapshot
	nextSub int
	version uint64
}

// CoreOption configures a Core.
type CoreOption func(*Core)

// WithClock replaces the wall clock, for tests.
func WithClock(c Clock) CoreOption { return func(core *Core) { core.clock = c } }

// NewCore returns a core for the machine configured by cfg. Call Run to start it.
func NewCore(cfg MachineConfig, opts ...CoreOption) *Core {
	c := &Core{
		clock: realClock{},
		inbox: make(chan func(time.Time), 64),
		done:  make(chan struct{}),
		subs:  map[int]chan Snapshot{},
	}
	for _, o := range opts {
		o(c)
	}
	c.log = cfg.Logger
	if c.log == nil {
		c.log = slog.Default()
	}
	c.m = NewMachine(cfg, c.clock.Now())
	c.m.onFail = func(callID string, err error) {
		in := func(now time.Time) { c.m.RecorderFailed(callID, err, now) }
		select {
		case c.inbox <- in:
		case <-c.done:
		default:
			// The inbox is full, and the recorder may be reporting from inside
			// a command on the core's own goroutine: waiting here could wait
			// on ourselves, so the failure is handed over on the side.
			go c.post(in)
		}
	}
	c.m.onKeypad = func(callID string, ev KeypadEvent) {
		in := func(now time.Time) { c.m.Keypad(callID, ev, now) }
		select {
		case c.inbox <- in:
		case <-c.done:
		default:
			go c.post(in) // never hold up the recorder's writer
		}
	}
	c.publish(c.clock.Now())
	return c
}

// Run processes inputs until ctx is done, then finishes every recording and
// returns. Intents made after Run returned fail with ErrClosed.
func (c *Core) Run(ctx context.Context) error {
	defer close(c.done)
	var (
		timer    <-chan time.Time
		stop     func() bool
		deadline time.Time
	)
	arm := func() {
		next, ok := c.m.NextDeadline()
		if ok && next.Equal(deadline) && timer != nil {
			return
		}
		if stop != nil {
			stop()
		}
		timer, stop, deadline = nil, nil, time.Time{}
		if ok {
			deadline = next
			timer, stop = c.clock.NewTimer(max(next.Sub(c.clock.Now()), 0))
		}
	}
	arm()
	for {
		select {
		case <-ctx.Done():
			if stop != nil {
				stop()
			}
			now := c.clock.Now()
			c.drain(now)
			c.m.Shutdown(now)
			c.publish(now)
			return nil
		case f := <-c.inbox:
			now := c.clock.Now()
			f(now)
			c.publish(now)
			arm()
		case <-timer:
			timer, stop, deadline = nil, nil, time.Time{}
			now := c.clock.Now()
			c.m.Tick(now)
			c.publish(now)
			arm()
		}
	}
}

// drain applies inputs already queued when the core is told to stop.
func (c *Core) drain(now time.Time) {
	for {
		select {
		case f := <-c.inbox:
			f(now)
		default:
			return
		}
	}
}

func (c *Core) post(f func(now time.Time)) {
	select {
	case c.inbox <- f:
	case <-c.done:
	}
}

// do runs f on the core's goroutine and waits for its result; when do
// returns, Snapshot already shows what f changed.
func (c *Core) do(f func(now time.Time) error) error {
	res := make(chan error, 1)
	select {
	case c.inbox <- func(now time.Time) {
		err := f(now)
		c.publish(now) // the caller reads the state its intent made
		res <- err
	}:
	case <-c.done:
		return ErrClosed
	}
	select {
	case err := <-res:
		return err
	case <-c.done:
		return ErrClosed
	}
}

// HandleCall posts an event from the phone system, its fields cut to the
// limits the server takes (FitCallEvent): the window, the local API and
// the server then all show the same name.
func (c *Core) HandleCall(ev CallEvent) {
	ev = FitCallEvent(ev)
	c.post(func(now time.Time) { c.m.HandleCall(ev, now) })
}

// Pause pauses the focused call for the policy reason id.
func (c *Core) Pause(reason string) error {
	return c.do(func(now time.Time) error { return c.m.Pause(reason, now) })
}

// Resume ends the focused call's pause.
func (c *Core) Resume() error {
	return c.do(func(now time.Time) error { return c.m.Resume(now) })
}

// Notice records the privacy notice's outcome on the focused call.
func (c *Core) Notice(o NoticeOutcome) error {
	return c.do(func(now time.Time) error { return c.m.Notice(o, now) })
}

// Flag flags a call for deletion review.
func (c *Core) Flag(req FlagRequest) error {
	return c.do(func(now time.Time) error { return c.m.Flag(req, now) })
}

// StartManual starts a call by hand (manual call mode only).
func (c *Core) StartManual(dir Direction, remote Party) (CallView, error) {
	var v CallView
	err := c.do(func(now time.Time) error {
		var err error
		v, err = c.m.StartManual(dir, remote, now)
		return err
	})
	return v, err
}

// EndManual ends the call started by hand.
func (c *Core) EndManual() error {
	return c.do(func(now time.Time) error { return c.m.EndManual(now) })
}

// Manual reports whether calls are marked by hand (no phone system).
func (c *Core) Manual() bool { return c.m.manual }

// Snapshot returns the latest published snapshot.
func (c *Core) Snapshot() Snapshot { return *c.snap.Load() }

// Subscribe returns a channel that receives the latest snapshot after every
// change (older ones are dropped if the reader is slow) and a cancel func.
// The current snapshot is delivered at once.
func (c *Core) Subscribe() (<-chan Snapshot, func()) {
	ch := make(chan Snapshot, 1)
	c.mu.Lock()
	id := c.nextSub
	c.nextSub++
	c.subs[id] = ch
	ch <- *c.snap.Load()
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.subs[id]; ok {
			delete(c.subs, id)
			close(ch)
		}
	}
}

func (c *Core) publish(now time.Time) {
	s := c.m.Snapshot(now)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.snap.Load(); old != nil && sameSnapshot(*old, s) {
		return
	}
	c.version++
	s.Version = c.version
	c.snap.Store(&s)
	for _, ch := range c.subs {
		select {
		case <-ch: // drop the stale one
		default:
		}
		ch <- s
	}
}

// sameSnapshot reports whether nothing visible changed.
func sameSnapshot(a, b Snapshot) bool {
	a.Version, b.Version = 0, 0
	return reflect.DeepEqual(a, b)
}
