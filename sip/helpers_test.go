package sip

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/internal/testrig"
)

func TestMain(m *testing.M) { testrig.Main(m) }

// watcher runs a Subscriber for a test and reads its events.
type watcher struct {
	sub    *Subscriber
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
	labels map[string]string // dialog id → A, B, … in order of appearance
	seen   []string
	taken  []time.Time // when the test received each event in seen
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fastOptions shorten the timings so that losses show within a second.
func fastOptions() []Option {
	return []Option{
		WithKeepAlive(300*time.Millisecond, 600*time.Millisecond),
		WithRequestTimeout(2 * time.Second),
		WithBackoff(200*time.Millisecond, time.Second),
	}
}

// watch starts a Subscriber for cfg; it is stopped, and checked to stop,
// when the test ends.
func watch(t *testing.T, cfg Config, opts ...Option) *watcher {
	t.Helper()
	w := &watcher{logs: &syncBuffer{}, labels: map[string]string{}, done: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sub, err := New(cfg, append([]Option{WithLogger(logger)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	w.sub = sub
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() { w.done <- sub.Run(ctx) }()
	t.Cleanup(func() {
		w.stop(t)
		if t.Failed() {
			t.Logf("subscriber log:\n%s", w.logs.String())
		}
		if cfg.Password != "" && strings.Contains(w.logs.String(), cfg.Password) {
			t.Errorf("the password appears in the log")
		}
	})
	return w
}

// stop cancels Run and waits for it to return.
func (w *watcher) stop(t *testing.T) {
	t.Helper()
	if w.cancel == nil {
		return
	}
	w.cancel()
	w.cancel = nil
	select {
	case err := <-w.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("Run did not return within 5 s of cancel")
	}
}

// next waits for the next event.
func (w *watcher) next(t *testing.T, timeout time.Duration) app.CallEvent {
	t.Helper()
	select {
	case ev, ok := <-w.sub.Events():
		if !ok {
			t.Fatalf("events closed; seen so far: %q", w.seen)
		}
		w.seen = append(w.seen, w.describe(ev))
		w.taken = append(w.taken, time.Now())
		return ev
	case <-time.After(timeout):
		t.Fatalf("no event within %v; seen so far: %q", timeout, w.seen)
	}
	return app.CallEvent{}
}

// lastTaken is when the test received the latest event.
func (w *watcher) lastTaken() time.Time { return w.taken[len(w.taken)-1] }

// expect reads events and compares them, in order, with want. Each event
// is described as "kind" for link events and "kind label direction
// remote-number [reason]" for call events, labels being A, B, … in order of
// the dialogs' first appearance.
func (w *watcher) expect(t *testing.T, timeout time.Duration, want ...string) []app.CallEvent {
	t.Helper()
	var got []app.CallEvent
	for i, wantDesc := range want {
		ev := w.next(t, timeout)
		got = append(got, ev)
		if d := w.describe(ev); d != wantDesc {
			t.Fatalf("event %d: got %q, want %q\nall so far: %q\nwant: %q", i, d, wantDesc, w.seen, want)
		}
		if ev.At.IsZero() {
			t.Errorf("event %q has no time", w.describe(ev))
		}
	}
	return got
}

// quiet checks that no event arrives for d.
func (w *watcher) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-w.sub.Events():
		t.Fatalf("unexpected event %q (seen before: %q)", w.describe(ev), w.seen)
	case <-time.After(d):
	}
}

func (w *watcher) describe(ev app.CallEvent) string {
	switch ev.Kind {
	case app.LinkLost, app.LinkUp:
		return ev.Kind.String()
	}
	label, ok := w.labels[ev.DialogID]
	if !ok {
		label = string(rune('A' + len(w.labels)))
		w.labels[ev.DialogID] = label
	}
	s := fmt.Sprintf("%s %s %s %s", ev.Kind, label, ev.Direction, ev.Remote.Number)
	if ev.Reason != "" {
		s += " " + ev.Reason
	}
	return s
}
