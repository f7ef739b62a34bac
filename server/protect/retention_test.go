package protect_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

const day = 24 * time.Hour

// TestRetentionThroughItsBoundaries moves a fake clock across the
// retention dates of calls of every category: each is deleted exactly when
// its date comes (not a millisecond before), held calls survive until the
// hold is lifted by two dpos, and calls whose recording failed or is still
// uploading are swept like the rest.
func TestRetentionThroughItsBoundaries(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			e := newEnv(t, d.url(t), nil)
			ctx := context.Background()
			e.ingest(call{id: "plain", start: t0})
			e.ingest(call{id: "declined", start: t0, declined: true})
			e.ingest(call{id: "health", start: t0, flags: []flag{{reason: "health", note: "spoke of a diagnosis"}}})
			e.ingest(call{id: "kept", start: t0, flags: []flag{{reason: "health", note: "not really"}}})
			e.ingest(call{id: "held", start: t0})
			e.ingest(call{id: "numheld", start: t0, remote: "+44 7700 900555"})
			e.ingest(call{id: "numlater", start: t0.Add(2 * day), remote: "+447700900555"})
			e.ingest(call{id: "failed", start: t0, failed: true})
			e.ingest(call{id: "uploading", start: t0})
			e.ingest(call{id: "stored", start: t0})
			e.partial("failed", 1000)
			e.partial("uploading", 70_000)
			e.partial("orph", 500) // a recording whose call's events never came
			audio, manifest, _ := e.recording("stored", 2)
			storedSHA := e.upload("stored", audio, manifest)

			// Retention as each call shows it.
			for id, want := range map[string]struct {
				rule string
				at   time.Time
			}{
				"plain": {"default", t0.AddDate(0, 0, 90)}, "declined": {"declined", t0.AddDate(0, 0, 7)},
				"health": {"health-flagged", t0.AddDate(0, 0, 7)}, "numlater": {"default", t0.Add(2*day).AddDate(0, 0, 90)},
			} {
				c := e.call(id)
				if c.RetentionRule != want.rule || c.DeleteAfter == nil || !c.DeleteAfter.Equal(want.at) {
					t.Fatalf("%s: rule %s, delete_after %v; want %s, %v", id, c.RetentionRule, c.DeleteAfter, want.rule, want.at)
				}
			}
			// The dpo keeps one flagged call: it returns to the default.
			item := e.call("kept").Flags[0].EventID
			if _, err := e.svc.Decide(ctx, e.dpo, item, server.Decision{Action: server.DecisionKeep}); !errors.Is(err, server.ErrInvalid) {
				t.Fatalf("keep without a reason: %v", err)
			}
			if _, err := e.svc.Decide(ctx, e.dpo, item, server.Decision{Action: server.DecisionKeep, Note: "needed for complaint C-12"}); err != nil {
				t.Fatal(err)
			}
			if c := e.call("kept"); c.RetentionRule != "default" || !c.DeleteAfter.Equal(t0.AddDate(0, 0, 90)) || c.Flags[0].Outcome != server.OutcomeKept {
				t.Fatalf("kept: %s %v %+v", c.RetentionRule, c.DeleteAfter, c.Flags)
			}
			review := t0.AddDate(0, 0, 30)
			hold, err := e.st.PlaceHold(ctx, server.Hold{CallID: "held", Reason: server.HoldComplaint, Owner: "complaints team", ReviewAt: &review}, e.dpo.Username)
			if err != nil {
				t.Fatal(err)
			}
			from, to := t0.Add(-day), t0.Add(day)
			if _, err := e.st.PlaceHold(ctx, server.Hold{Number: "+44 (7700) 900-555", From: &from, To: &to, Reason: server.HoldInvestigation, Owner: "fraud"}, e.dpo.Username); err != nil {
				t.Fatal(err)
			}
			if !e.call("held").Held || !e.call("numheld").Held || e.call("numlater").Held || e.call("plain").Held {
				t.Fatal("held flags wrong")
			}

			deleted := map[string]bool{}
			step := func(at time.Time, want ...string) {
				t.Helper()
				e.clk.Set(at)
				rep := e.expire()
				var got []string
				for _, id := range []string{"plain", "declined", "health", "kept", "held", "numheld", "numlater", "failed", "uploading", "stored"} {
					if e.call(id).Erased != nil && !deleted[id] {
						got = append(got, id)
						deleted[id] = true
					}
				}
				if _, err := e.st.Tombstone(ctx, "orph"); err == nil && !deleted["orph"] {
					got = append(got, "orph")
					deleted["orph"] = true
				}
				sort.Strings(got)
				sort.Strings(want)
				if strings.Join(got, ",") != strings.Join(want, ",") || rep.Deleted != len(want) {
					t.Fatalf("at %s: deleted %v (report %d), want %v", at, got, rep.Deleted, want)
				}
			}
			step(t0.AddDate(0, 0, 7).Add(-time.Millisecond))
			step(t0.AddDate(0, 0, 7), "declined", "health")
			step(t0.AddDate(0, 0, 90).Add(-time.Millisecond))

			rep, err := e.st.RetentionReport(ctx, e.clk.Now(), e.clk.Now().AddDate(0, 0, 7), 100)
			if err != nil {
				t.Fatal(err)
			}
			if rep.DueCount != 6 || rep.Due[0].DeleteAfter != t0.AddDate(0, 0, 90) || len(rep.HoldsDue) != 1 || rep.HoldsDue[0].ID != hold.ID || rep.HeldPastDate != 0 {
				t.Fatalf("report: due %d %+v, holds due %+v, held past %d", rep.DueCount, rep.Due, rep.HoldsDue, rep.HeldPastDate)
			}

			step(t0.AddDate(0, 0, 90), "plain", "kept", "failed", "uploading", "stored", "orph")
			if rep := e.expire(); rep.HeldPast != 2 || rep.Deleted != 0 {
				t.Fatalf("second run at the same time: %+v", rep)
			}

			// Tombstones say what went.
			ts, err := e.st.Tombstone(ctx, "stored")
			if err != nil || ts.State != "done" || ts.Rule != "default" || ts.Cause != server.CauseRetention || ts.SHA256Recording != storedSHA ||
				ts.RecordingStatus != "stored" || ts.RecordingBytes != int64(len(audio)) || len(ts.SHA256Metadata) != 64 || !ts.Deleted.Equal(t0.AddDate(0, 0, 90)) {
				t.Fatalf("tombstone of stored: %+v %v", ts, err)
			}
			partialSum := sha256.Sum256(make70k())
			if ts, _ := e.st.Tombstone(ctx, "uploading"); ts.RecordingStatus != "uploading" || ts.SHA256Recording != hex.EncodeToString(partialSum[:]) || ts.RecordingBytes != 70_000 {
				t.Fatalf("tombstone of an unfinished upload: %+v", ts)
			}
			if ts, _ := e.st.Tombstone(ctx, "declined"); ts.Rule != "declined" || ts.RecordingStatus != "none" || ts.SHA256Recording != "" {
				t.Fatalf("tombstone of declined: %+v", ts)
			}
			// Personal data and recordings are gone; the stub stays.
			for _, id := range []string{"plain", "stored", "uploading", "failed", "health", "orph"} {
				for _, p := range []string{e.blobs.AudioPath(id), e.blobs.ManifestPath(id)} {
					if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("%s: %s is still there", id, p)
					}
				}
				if _, _, ok, _ := e.blobs.PartialSHA256(id); ok {
					t.Errorf("%s: the partial upload is still there", id)
				}
			}
			c := e.call("health")
			if c.Remote.Number != "" || c.Remote.Name != "" || c.SIPCallID != "" || c.Flags[0].Note != "" || c.Flags[0].Outcome != server.OutcomeDeleted {
				t.Fatalf("erased call keeps personal data: %+v", c)
			}
			var bodies int
			e.st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE call_id IN ('plain', 'health') AND body <> '{}'`).Scan(&bodies)
			if bodies != 0 {
				t.Fatalf("%d event bodies of erased calls remain", bodies)
			}
			if r, err := e.st.Recording(ctx, "stored"); err != nil || r.Status != "deleted" || len(r.Manifest) != 0 {
				t.Fatalf("recording row: %+v %v", r, err)
			}
			// A late event (a desktop that was offline) does not bring anything back.
			e.ingest(call{id: "plain", start: t0, remote: "+441632960999"})
			if c := e.call("plain"); c.Remote.Number != "" {
				t.Fatalf("a late event restored the number: %+v", c.Remote)
			}
			e.st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE call_id = 'plain' AND body LIKE '%960999%'`).Scan(&bodies)
			if bodies != 0 {
				t.Fatal("a late event's body keeps the number")
			}

			if _, err := e.st.PlaceHold(ctx, server.Hold{CallID: "stored", Reason: server.HoldComplaint, Owner: "late"}, "dee"); !errors.Is(err, server.ErrGone) {
				t.Fatalf("a hold on a deleted call: %v", err)
			}

			// Lifting needs two dpos; then the next run deletes the call.
			if _, lifted, err := e.svc.LiftHold(ctx, e.dpo, hold.ID, "complaint closed"); err != nil || lifted {
				t.Fatalf("first dpo: lifted %v, %v", lifted, err)
			}
			if _, _, err := e.svc.LiftHold(ctx, e.dpo, hold.ID, "complaint closed"); !errors.Is(err, store.ErrSecondDPO) {
				t.Fatalf("same dpo twice: %v", err)
			}
			step(e.clk.Now()) // still held: nothing
			if h, lifted, err := e.svc.LiftHold(ctx, e.dpo2, hold.ID, "agreed"); err != nil || !lifted || h.LiftedBy != "dan" || h.LiftRequestedBy != "dee" {
				t.Fatalf("second dpo: %+v lifted %v, %v", h, lifted, err)
			}
			step(e.clk.Now(), "held")
			step(t0.Add(2*day).AddDate(0, 0, 90).Add(-time.Millisecond))
			step(t0.Add(2*day).AddDate(0, 0, 90), "numlater")
			if e.call("numheld").Erased != nil {
				t.Fatal("a call held by number was deleted")
			}

			// Each deletion is audited once, and the chain is whole.
			for id, n := range auditedDeletions(t, e.st) {
				if n != 1 || !deleted[id] {
					t.Errorf("%s audited %d times as deleted", id, n)
				}
			}
			if len(auditedDeletions(t, e.st)) != len(deleted) {
				t.Errorf("audited %v, deleted %v", auditedDeletions(t, e.st), deleted)
			}
			verifyAudit(t, e.st)
		})
	}
}

func make70k() []byte {
	b := make([]byte, 70_000)
	for i := range b {
		b[i] = 7
	}
	return b
}

// TestTheRetentionReportCountsWhatTheHoldsKeep: the report's counts (found
// from the holds) agree, call by call, with the holds that cover each call
// (HoldsOf), for holds on a call, on a number and on an officer's days.
func TestTheRetentionReportCountsWhatTheHoldsKeep(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			e := newEnv(t, d.url(t), nil)
			ctx := context.Background()
			var ids []string
			for i := range 12 {
				id := fmt.Sprintf("rc%02d", i)
				e.ingest(call{id: id, start: t0.Add(time.Duration(i) * 6 * time.Hour), remote: fmt.Sprintf("+4416329605%02d", i%4)})
				ids = append(ids, id)
			}
			from, to := t0.Add(12*time.Hour), t0.Add(36*time.Hour)
			for _, h := range []server.Hold{{CallID: "rc00"}, {Number: "+44 1632 960501"}, {Agent: "olive", From: &from, To: &to}} {
				h.Reason, h.Owner = server.HoldComplaint, "complaints"
				if _, err := e.svc.PlaceHold(ctx, e.dpo, h); err != nil {
					t.Fatal(err)
				}
			}
			held := 0
			for _, id := range ids {
				hs, err := e.st.HoldsOf(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if len(hs) > 0 {
					held++
				}
			}
			if held == 0 || held == len(ids) {
				t.Fatalf("%d of %d calls held: the test needs some of each", held, len(ids))
			}
			now := t0.AddDate(0, 0, 100)
			rep, err := e.st.RetentionReport(ctx, now, now.AddDate(0, 0, 7), 100)
			if err != nil {
				t.Fatal(err)
			}
			if rep.HeldPastDate != held || rep.Overdue != len(ids)-held {
				t.Errorf("past their date: %d held and %d overdue, want %d and %d", rep.HeldPastDate, rep.Overdue, held, len(ids)-held)
			}
			// Before their date: due, less the held ones.
			early := t0.AddDate(0, 0, 80)
			rep, err = e.st.RetentionReport(ctx, early, early.AddDate(0, 0, 30), 100)
			if err != nil {
				t.Fatal(err)
			}
			if rep.DueCount != len(ids)-held || len(rep.Due) != len(ids)-held {
				t.Errorf("due: %d (%d listed), want %d", rep.DueCount, len(rep.Due), len(ids)-held)
			}
		})
	}
}
