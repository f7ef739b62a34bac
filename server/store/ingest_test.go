package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
	"github.com/callguard/callguard/wire"
)

func fmtErr(msg string) error { return fmt.Errorf("%s: %w", msg, server.ErrInvalid) }

// TestIngestAnswersEachEvent: in both dialects, a batch's events are
// answered one by one (refused when decoding failed, when another account
// used the id, past the cap; discarded for a deleted call), and the good
// ones are applied whatever sits beside them.
func TestIngestAnswersEachEvent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		olive, mallory := agentDevice(t, s, "olive"), agentDevice(t, s, "mallory")
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		evs := callEvents("c1", 1, start, "+441632960001")
		if _, err := s.Ingest(ctx, mallory, []server.Event{{ID: "taken", Seq: 1, Time: start, Type: server.EventLink, State: "up"}}); err != nil {
			t.Fatal(err)
		}
		items := []server.BatchItem{
			{Event: evs[0]},
			{Event: server.Event{ID: "bad", Seq: 2}, Err: fmtErr("call.remote.name is 300 bytes, at most 256")},
			{Event: server.Event{ID: "taken", Seq: 3, Time: start, Type: server.EventLink, State: "up"}},
			{Event: evs[7]}, // the flag
			{Event: evs[0]}, // twice in one batch
		}
		res, err := s.IngestBatch(ctx, olive, items)
		if err != nil {
			t.Fatal(err)
		}
		want := []wire.EventStatus{wire.Accepted, wire.Refused, wire.Refused, wire.Accepted, wire.Duplicate}
		for i, r := range res.Results {
			if r.Status != want[i] || r.ID != items[i].Event.ID {
				t.Errorf("event %d: %+v, want %s", i, r, want[i])
			}
		}
		if !strings.Contains(res.Results[1].Reason, "300 bytes") || !strings.Contains(res.Results[2].Reason, "another account") {
			t.Errorf("reasons: %+v", res.Results)
		}
		if res.AckedSeq != 1 || res.Accepted != 2 || res.Refused != 2 || res.Duplicate != 1 {
			t.Errorf("counts %+v", res)
		}
		c, err := s.Call(ctx, "c1")
		if err != nil || c.Events != 2 || len(c.Flags) != 1 {
			t.Fatalf("call %+v, %v", c, err)
		}
		d, err := s.Device(ctx, olive.DeviceID)
		if err != nil || d.Refused != 2 || d.AckedSeq != 8 {
			t.Fatalf("device %+v, %v", d, err)
		}
		// The same batch again: nothing counted twice on the device.
		if _, err := s.IngestBatch(ctx, olive, items); err != nil {
			t.Fatal(err)
		}
		if d, _ := s.Device(ctx, olive.DeviceID); d.Refused != 2 {
			t.Fatalf("refusals counted again: %d", d.Refused)
		}
		// The call is erased (here by an erasure of its number): a late
		// event of it is discarded, never answered accepted, and its body
		// is not kept.
		free, _, err := s.NumberCandidates(ctx, server.NumberKey("+441632960001"))
		if err != nil || len(free) != 1 {
			t.Fatalf("candidates %+v, %v", free, err)
		}
		begun, err := s.BeginDeletions(ctx, free, server.CauseErasure, "1", "dee", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishDeletions(ctx, begun); err != nil {
			t.Fatal(err)
		}
		late, err := s.Ingest(ctx, olive, []server.Event{evs[8]})
		if err != nil || late.Discarded != 1 || late.Accepted != 0 || late.Results[0].Status != wire.Discarded || late.AckedSeq != evs[8].Seq {
			t.Fatalf("a late event of an erased call: %+v, %v", late, err)
		}
		var body string
		if err := s.DB().QueryRow(`SELECT body FROM events WHERE id = '` + evs[8].ID + `'`).Scan(&body); err != nil || body != "{}" {
			t.Fatalf("its body %q, %v", body, err)
		}
		// Only agents write.
		sup := agentDevice(t, s, "sue")
		sup.Role = server.RoleSupervisor
		if _, err := s.Ingest(ctx, sup, evs[:1]); err == nil {
			t.Fatal("a supervisor's events were taken")
		}
	})
}

// TestFoldingInIncrementsMatchesFoldingAtOnce: a call sent event by event
// (each batch applied on top of the stored fold) ends exactly as the same
// call sent in one batch.
func TestFoldingInIncrementsMatchesFoldingAtOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		olive := agentDevice(t, s, "olive")
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		if _, err := s.Ingest(ctx, olive, callEvents("whole", 1, start, "+441632960001")); err != nil {
			t.Fatal(err)
		}
		for _, e := range callEvents("steps", 20, start, "+441632960001") {
			if _, err := s.Ingest(ctx, olive, []server.Event{e}); err != nil {
				t.Fatal(err)
			}
		}
		norm := func(id string) string {
			c, err := s.Call(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			c.ID, c.DesktopID, c.SIPCallID, c.Updated = "", "", "", time.Time{}
			for i := range c.Flags {
				c.Flags[i].EventID = ""
			}
			b, _ := json.Marshal(c)
			return string(b)
		}
		if a, b := norm("whole"), norm("steps"); a != b {
			t.Fatalf("at once:\n%s\nin steps:\n%s", a, b)
		}
	})
}
