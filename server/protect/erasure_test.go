package protect_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// TestErasureOfANumber erases everything about one phone number: its calls
// lose recording and personal data with a tombstone each, a held call is
// kept and reported with its hold, other numbers are untouched, and the
// erasure record keeps only the masked number.
func TestErasureOfANumber(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, d.url(t), nil)
			for _, c := range []call{
				{id: "n1", start: t0, remote: "+44 1632 960777", flags: []flag{{reason: "other", note: "said their address"}}},
				{id: "n2", start: t0.Add(day), remote: "+441632960777"},
				{id: "n3", start: t0.Add(2 * day), remote: "+441632960777"},
				{id: "other", start: t0, remote: "+441632960888"},
			} {
				e.ingest(c)
			}
			audio, manifest, _ := e.recording("n1", 1)
			e.upload("n1", audio, manifest)
			e.partial("n2", 300)
			from, to := t0.Add(day+time.Minute), t0.Add(3*day)
			h, err := e.st.PlaceHold(ctx, server.Hold{Agent: "olive", From: &from, To: &to, Reason: server.HoldLitigation, Owner: "legal"}, "dee")
			if err != nil {
				t.Fatal(err)
			}

			// Two-person rule: a second dpo approves.
			e.pol.Review.TwoPersonDeletion = true
			er, err := e.svc.RequestErasure(ctx, e.dpo, "+44 (1632) 960-777", "SAR-2026-014")
			if err != nil || er.State != server.ErasureAwaitingApproval || er.Number != "••••••••••777" {
				t.Fatalf("request: %+v %v", er, err)
			}
			if _, err := e.svc.ApproveErasure(ctx, e.dpo, er.ID, true); !errors.Is(err, store.ErrSecondDPO) {
				t.Fatalf("self-approval: %v", err)
			}
			if e.call("n1").Erased != nil {
				t.Fatal("erased before approval")
			}
			er, err = e.svc.ApproveErasure(ctx, e.dpo2, er.ID, true)
			if err != nil || er.State != server.ErasureDone || er.Erased != 2 || strings.Join(er.Calls, ",") != "n1,n2" {
				t.Fatalf("erasure: %+v %v", er, err)
			}
			if len(er.Held) != 1 || er.Held[0].CallID != "n3" || len(er.Held[0].Holds) != 1 || er.Held[0].Holds[0] != h.ID {
				t.Fatalf("held: %+v", er.Held)
			}
			for _, id := range []string{"n1", "n2"} {
				c := e.call(id)
				ts, err := e.st.Tombstone(ctx, id)
				if c.Erased == nil || c.Remote.Number != "" || err != nil || ts.Cause != server.CauseErasure || ts.Ref == "" || ts.Actor != "dee+dan" {
					t.Fatalf("%s: %+v, tombstone %+v %v", id, c, ts, err)
				}
			}
			if c := e.call("n3"); c.Erased != nil || c.Remote.Number == "" || !c.Held {
				t.Fatalf("held call n3: %+v", c)
			}
			if c := e.call("other"); c.Erased != nil {
				t.Fatal("another number was erased")
			}
			// The number is forgotten once the erasure is done.
			var key *string
			e.st.DB().QueryRowContext(ctx, `SELECT number_key FROM erasures WHERE id = 1`).Scan(&key)
			if key != nil {
				t.Fatalf("the erasure keeps the number %q", *key)
			}
			var leaks int
			e.st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit WHERE detail LIKE '%960777%' OR detail LIKE '%960 777%'`).Scan(&leaks)
			if leaks != 0 {
				t.Fatal("the audit holds the erased number")
			}
			if a := auditedDeletions(t, e.st); a["n1"] != 1 || a["n2"] != 1 || a["n3"] != 0 {
				t.Fatalf("audited %v", a)
			}

			// A rejected request forgets the number without erasing.
			er2, err := e.svc.RequestErasure(ctx, e.dpo, "+441632960888", "")
			if err != nil {
				t.Fatal(err)
			}
			if er2, err = e.svc.ApproveErasure(ctx, e.dpo2, er2.ID, false); err != nil || er2.State != server.ErasureRejected || e.call("other").Erased != nil {
				t.Fatalf("reject: %+v %v", er2, err)
			}
			if _, err := e.svc.RequestErasure(ctx, e.dpo, " - ", ""); !errors.Is(err, server.ErrInvalid) {
				t.Fatalf("empty number: %v", err)
			}
		})
	}
}

// TestANumberIsOneNumberHoweverItIsWritten: a caller who asks for erasure
// gives their number as they write it, and a hold names a number as the
// complaint letter does; neither may miss a call that the phone system
// wrote another way (national, international, 00, with a trunk 0).
func TestANumberIsOneNumberHoweverItIsWritten(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, d.url(t), nil)
			for _, c := range []call{
				{id: "national", start: t0, remote: "07700 900123"},
				{id: "international", start: t0.Add(day), remote: "+447700900123"},
				{id: "zeros", start: t0.Add(2 * day), remote: "00447700900123"},
				{id: "held", start: t0.Add(3 * day), remote: "+44 (0)7700 900123"},
				{id: "other", start: t0, remote: "07700 900124"},
			} {
				e.ingest(c)
			}
			h, err := e.svc.PlaceHold(ctx, e.dpo, server.Hold{Number: "+44 7700 900123", Reason: server.HoldComplaint, Owner: "complaints"})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"national", "international", "zeros", "held"} {
				if !e.call(id).Held {
					t.Errorf("the hold on +44 7700 900123 does not keep call %q", id)
				}
			}
			er, err := e.svc.RequestErasure(ctx, e.dpo, "07700-900-123", "SAR-2026-015")
			if err != nil || er.Erased != 0 || len(er.Held) != 4 {
				t.Fatalf("erasure under the hold: %d erased, %d held, %v; want 0 and 4", er.Erased, len(er.Held), err)
			}
			if _, _, err := e.st.LiftHold(ctx, h.ID, "dan", "complaint closed", false); err != nil {
				t.Fatal(err)
			}
			er, err = e.svc.RequestErasure(ctx, e.dpo, "0044 7700 900123", "SAR-2026-016")
			if err != nil || er.Erased != 4 {
				t.Fatalf("erasure: %d erased (%v), %v; want all 4 spellings", er.Erased, er.Calls, err)
			}
			if e.call("other").Erased != nil {
				t.Error("a neighbouring number was erased")
			}
		})
	}
}
