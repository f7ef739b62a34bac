package live

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newBoard(t *testing.T) (*Board, *clock) {
	t.Helper()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	return New(Options{Policy: pol, Clock: clk.Now, OfflineAfter: 30 * time.Second}), clk
}

func row(t *testing.T, b *Board, agent string) server.AgentState {
	t.Helper()
	for _, s := range b.Snapshot() {
		if s.Agent == agent {
			return s
		}
	}
	t.Fatalf("%s not on the board", agent)
	return server.AgentState{}
}

func kinds(s server.AgentState) string {
	var k []string
	for _, a := range s.Alerts {
		k = append(k, string(a.Kind))
	}
	return strings.Join(k, ",")
}

func TestAlerts(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		hb    server.Heartbeat
		after time.Duration
		want  string
	}{
		{"recording is fine", server.Heartbeat{State: "recording"}, time.Minute, ""},
		{"short pause is fine", server.Heartbeat{State: "paused", Reason: "payment"}, 2 * time.Minute, ""},
		{"pause past remind_after", server.Heartbeat{State: "paused", Reason: "payment"}, 3*time.Minute + time.Second, "pause-long"},
		{"therapist has 5 minutes", server.Heartbeat{State: "paused", Reason: "therapist"}, 4 * time.Minute, ""},
		{"unknown reason gets 5 minutes", server.Heartbeat{State: "paused", Reason: "mystery"}, 6 * time.Minute, "pause-long"},
		{"hold never alerts", server.Heartbeat{State: "paused", Reason: policy.HoldReason}, time.Hour, "offline"},
		{"failed", server.Heartbeat{State: "failed", Reason: "disk full"}, 0, "recording-failed"},
		{"unknown", server.Heartbeat{State: "unknown", Link: "lost"}, 0, "state-unknown"},
		{"the phone system did not confirm a pause", server.Heartbeat{State: "unconfirmed", Reason: "no answer"}, 0, "recording-unconfirmed"},
		{"offline after the window", server.Heartbeat{State: "idle"}, 31 * time.Second, "offline"},
		{"offline and paused too long", server.Heartbeat{State: "paused", Reason: "payment"}, 10 * time.Minute, "offline,pause-long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, clk := newBoard(t)
			hb := tc.hb
			hb.Since = clk.Now()
			end := clk.Now().Add(tc.after)
			// Heartbeat every 20 s unless the agent is meant to go offline.
			offline := strings.Contains(tc.want, "offline")
			for {
				hb.At = clk.Now()
				b.Heartbeat(ctx, "olive", "d1", hb)
				if offline || !clk.Now().Add(20*time.Second).Before(end) {
					break
				}
				clk.Add(20 * time.Second)
			}
			clk.Add(end.Sub(clk.Now()))
			b.Reevaluate()
			r := row(t, b, "olive")
			if got := kinds(r); got != tc.want {
				t.Fatalf("alerts %q, want %q", got, tc.want)
			}
			if tc.hb.State == "unconfirmed" && r.Alerts[0].Message != server.UnconfirmedText {
				t.Fatalf("the board says %q", r.Alerts[0].Message)
			}
		})
	}
}

func TestSkewAndMasking(t *testing.T) {
	b, clk := newBoard(t)
	desk := clk.Now().Add(-2 * time.Minute) // the desktop's clock is 2 minutes slow
	b.Heartbeat(context.Background(), "olive", "d1", server.Heartbeat{At: desk, State: "recording", Since: desk.Add(-time.Minute),
		Call: &server.HeartbeatCall{ID: "c1", Direction: "inbound", Remote: "+441632960123", Started: desk.Add(-time.Minute)}})
	s := row(t, b, "olive")
	if !s.Since.Equal(clk.Now().Add(-time.Minute)) {
		t.Fatalf("since %v, want a minute before server time %v", s.Since, clk.Now())
	}
	if s.Call == nil || s.Call.Remote != "••••••••••123" {
		t.Fatalf("call %+v", s.Call)
	}
	raw, _ := json.Marshal(b.Snapshot())
	if strings.Contains(string(raw), "1632960123") {
		t.Fatal("the full number is on the board")
	}
}

func TestOldEventsDoNotOverrideNewerHeartbeats(t *testing.T) {
	ctx := context.Background()
	b, clk := newBoard(t)
	b.Heartbeat(ctx, "olive", "d1", server.Heartbeat{At: clk.Now(), State: "idle", Since: clk.Now()})
	// Events queued while offline an hour ago arrive now.
	old := clk.Now().Add(-time.Hour)
	b.Events(ctx, "olive", "d1", []server.Event{{ID: "1", Seq: 1, Time: old, Type: server.EventRecordingState, CallID: "c", State: "paused", Reason: "payment"}})
	if s := row(t, b, "olive"); s.State != "idle" {
		t.Fatalf("an old event changed the board: %s", s.State)
	}
	clk.Add(time.Second)
	b.Events(ctx, "olive", "d1", []server.Event{
		{ID: "2", Seq: 2, Time: clk.Now(), Type: server.EventCallRinging, CallID: "c2", Call: &server.EventCall{Direction: "outbound", Remote: server.Party{Number: "0123456"}, Started: clk.Now()}},
		{ID: "3", Seq: 3, Time: clk.Now(), Type: server.EventRecordingState, CallID: "c2", State: "ringing"},
	})
	s := row(t, b, "olive")
	if s.State != "ringing" || s.Call == nil || s.Call.ID != "c2" || s.Call.Remote != "••••456" {
		t.Fatalf("after new events: %+v", s)
	}
	b.Events(ctx, "olive", "d1", []server.Event{{ID: "4", Seq: 4, Time: clk.Now().Add(time.Second), Type: server.EventCallEnded, CallID: "c2", Call: &server.EventCall{Started: clk.Now()}}})
	if s := row(t, b, "olive"); s.State != "idle" || s.Call != nil {
		t.Fatalf("after the call ended: %+v", s)
	}
	b.Events(ctx, "olive", "d1", []server.Event{{ID: "5", Seq: 5, Time: clk.Now().Add(2 * time.Second), Type: server.EventLink, State: "lost", Reason: "timeout"}})
	if s := row(t, b, "olive"); s.State != "unknown" || kinds(s) != "state-unknown" {
		t.Fatalf("after the link was lost: %+v", s)
	}
}

func TestSubscribersGetChangesAndSlowOnesAreDropped(t *testing.T) {
	ctx := context.Background()
	b, clk := newBoard(t)
	b.Heartbeat(ctx, "olive", "d1", server.Heartbeat{At: clk.Now(), State: "idle", Since: clk.Now()})
	sub := b.Subscribe()
	if len(sub.Snapshot) != 1 || sub.Snapshot[0].State != "idle" {
		t.Fatalf("snapshot %+v", sub.Snapshot)
	}
	// An unchanged heartbeat sends nothing; a change sends one message.
	b.Heartbeat(ctx, "olive", "d1", server.Heartbeat{At: clk.Now(), State: "idle", Since: clk.Now()})
	b.Heartbeat(ctx, "olive", "d1", server.Heartbeat{At: clk.Now(), State: "recording", Since: clk.Now()})
	m := <-sub.C
	if !strings.Contains(string(m.Data), `"state":"recording"`) || len(sub.C) != 0 {
		t.Fatalf("message %s, %d more queued", m.Data, len(sub.C))
	}
	slow := b.Subscribe()
	for i := range subscriberBuffer + 2 {
		state := "idle"
		if i%2 == 0 {
			state = "recording"
		}
		b.Heartbeat(ctx, "olive", "d1", server.Heartbeat{At: clk.Now(), State: state, Since: clk.Now()})
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != subscriberBuffer || b.Subscribers() != 0 {
		t.Fatalf("slow subscriber got %d messages before being dropped; %d subscribers left", n, b.Subscribers())
	}
	sub.Close()
	slow.Close()
}

func TestRunStopsAndClosesSubscriptions(t *testing.T) {
	b, _ := newBoard(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	sub := b.Subscribe()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := <-sub.C; ok {
		t.Fatal("subscription still open after Run returned")
	}
	if s := b.Subscribe(); s.C == nil {
		t.Fatal("nil channel")
	} else if _, ok := <-s.C; ok {
		t.Fatal("subscription to a stopped board is open")
	}
}
