package live

import (
	"context"
	"testing"
	"time"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
)

// The board shows keypad tones masked on the agent's call: from the
// heartbeat's count, from keypad.masked events as they come (never counted
// twice when the next heartbeat includes them), and a pause the core made
// for a run of tones in words, with its reminder.
func TestBoardShowsKeypadTonesMasked(t *testing.T) {
	ctx := context.Background()
	b, clk := newBoard(t)
	hb := func(n int, state, reason string) {
		b.Heartbeat(ctx, "olive", "d1", server.Heartbeat{At: clk.Now(), State: state, Reason: reason, Since: clk.Now(),
			Call: &server.HeartbeatCall{ID: "c1", Direction: "inbound", Remote: "+441632960123", Started: clk.Now(), KeypadMasked: n}})
	}
	hb(2, "recording", "")
	if s := row(t, b, "olive"); s.Call == nil || s.Call.KeypadMasked != 2 {
		t.Fatalf("after a heartbeat: %+v", s.Call)
	}
	clk.Add(time.Second)
	from, to := int64(9000), int64(9220)
	b.Events(ctx, "olive", "d1", []server.Event{
		{ID: "k", Seq: 9, Time: clk.Now(), Type: server.EventKeypadMasked, CallID: "c1", FromMS: &from, ToMS: &to},
		{ID: "x", Seq: 10, Time: clk.Now(), Type: server.EventKeypadMasked, CallID: "another", FromMS: &from, ToMS: &to},
	})
	if s := row(t, b, "olive"); s.Call.KeypadMasked != 3 {
		t.Fatalf("after an event: %d masked", s.Call.KeypadMasked)
	}
	clk.Add(time.Second)
	hb(3, "paused", policy.PaymentDetectedReason)
	s := row(t, b, "olive")
	if s.Call.KeypadMasked != 3 || s.ReasonLabel != policy.PaymentDetectedLabel {
		t.Fatalf("after the next heartbeat: %d masked, label %q", s.Call.KeypadMasked, s.ReasonLabel)
	}
	// Paused for it longer than the payment reason's remind_after (3m).
	b.Heartbeat(ctx, "olive", "d1", server.Heartbeat{At: clk.Now(), State: "paused", Reason: policy.PaymentDetectedReason, Since: clk.Now().Add(-4 * time.Minute),
		Call: &server.HeartbeatCall{ID: "c1", Direction: "inbound", Started: clk.Now(), KeypadMasked: 3}})
	if s := row(t, b, "olive"); kinds(s) != "pause-long" {
		t.Fatalf("alerts %q, want pause-long after the payment reason's 3 minutes", kinds(s))
	}
}
