package protect_test

import (
	"context"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

// TestTheServersClockGovernsRetention is issue 12 item 3's attack: a
// desktop whose clock says 2001 or 2199 must not decide when its calls are
// deleted or whether a hold covers them. The server counts such a call
// (more than the allowed skew from when it arrived) from its arrival,
// flags it for the dpo, and keeps what the desktop said.
func TestTheServersClockGovernsRetention(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			e := newEnv(t, d.url(t), nil)
			ctx := context.Background()
			// A complaint about olive: every call of hers from the last week
			// until further notice is kept.
			from := t0.Add(-7 * day)
			if _, err := e.st.PlaceHold(ctx, server.Hold{Agent: "olive", From: &from, Reason: server.HoldComplaint, Owner: "complaints team"}, e.dpo.Username); err != nil {
				t.Fatal(err)
			}
			past := time.Date(2001, 1, 1, 9, 0, 0, 0, time.UTC)
			future := time.Date(2199, 1, 1, 9, 0, 0, 0, time.UTC)
			e.ingest(call{id: "past", start: past, sent: t0})
			olive := e.agent
			e.agent = principal(t, e.st, "pat", server.RoleAgent)
			e.ingest(call{id: "future", start: future, sent: t0})
			e.ingest(call{id: "honest", start: t0.Add(-time.Hour), sent: t0})
			e.agent = olive

			for id, want := range map[string]bool{"past": true, "future": true, "honest": false} {
				c := e.call(id)
				if c.ClockSkewed != want {
					t.Fatalf("%s: clock_skewed %v, want %v", id, c.ClockSkewed, want)
				}
				if c.Received == nil || !c.Received.Equal(t0) {
					t.Fatalf("%s: received %v, want the server's %v", id, c.Received, t0)
				}
			}
			if c := e.call("past"); !c.Started.Equal(past) || !c.Held || c.DeleteAfter == nil || !c.DeleteAfter.Equal(t0.AddDate(0, 0, 90)) {
				t.Fatalf("past: started %v held %v delete_after %v", c.Started, c.Held, c.DeleteAfter)
			}
			if c := e.call("future"); !c.Started.Equal(future) || c.Held || c.DeleteAfter == nil || !c.DeleteAfter.Equal(t0.AddDate(0, 0, 90)) {
				t.Fatalf("future: started %v held %v delete_after %v", c.Started, c.Held, c.DeleteAfter)
			}
			if c := e.call("honest"); !c.DeleteAfter.Equal(t0.Add(-time.Hour).AddDate(0, 0, 90)) {
				t.Fatalf("an honest clock is trusted: delete_after %v", c.DeleteAfter)
			}

			// Its first day: nothing goes, the 2001 call least of all.
			e.clk.Set(t0.Add(day))
			if rep := e.expire(); rep.Deleted != 0 {
				t.Fatalf("first day: %+v", rep)
			}
			// 90 days after arrival pat's calls go, the 2199 one too; the
			// hold keeps olive's.
			e.clk.Set(t0.AddDate(0, 0, 90).Add(-time.Minute))
			if rep := e.expire(); rep.Deleted != 1 || e.call("honest").Erased == nil {
				t.Fatalf("day 90 less a minute: %+v", rep)
			}
			e.clk.Set(t0.AddDate(0, 0, 90))
			if rep := e.expire(); rep.Deleted != 1 || rep.HeldPast != 1 || e.call("future").Erased == nil {
				t.Fatalf("day 90: %+v", rep)
			}
			if c := e.call("past"); c.Erased != nil || !c.Held {
				t.Fatalf("the held 2001 call: erased %v held %v", c.Erased, c.Held)
			}
		})
	}
}
