package protect_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// checkSilenced decrypts before and after: inside [fromMS, toMS) both
// channels are zero, everywhere else the audio is byte-identical.
func checkSilenced(t *testing.T, before, after []byte, fromMS, toMS int64) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("length changed: %d → %d", len(before), len(after))
	}
	h := artefact.WAVHeaderSize
	lo, hi := h+int(fromMS*16)*4, h+int(toMS*16)*4
	if !bytes.Equal(before[:lo], after[:lo]) || !bytes.Equal(before[hi:], after[hi:]) {
		t.Fatal("audio outside the interval changed")
	}
	if !bytes.Equal(after[lo:hi], make([]byte, hi-lo)) {
		t.Fatal("the interval is not digital silence")
	}
	if bytes.Equal(before[lo:hi], after[lo:hi]) {
		t.Fatal("nothing was silenced")
	}
}

// TestCardDetailsAreRedactedAtOnce: a flag whose reason redacts at once
// (card details) silences the marked interval as soon as the recording is
// on the server and the server has the key; the queue shows it done for a
// dpo to confirm, and the officer sees "redacted".
func TestCardDetailsAreRedactedAtOnce(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, d.url(t), nil, withoutKey())
			// The flag comes before the recording: it waits for it.
			e.ingest(call{id: "card1", start: t0, flags: []flag{{reason: "card", from: 2000, to: 4500}}})
			item := e.call("card1").Flags[0].EventID
			if _, err := e.svc.Work(ctx); err != nil {
				t.Fatal(err)
			}
			if it, _ := e.st.ReviewItem(ctx, item); it.State != server.ReviewRedactionPending || it.Pending != server.PendingNoRecording {
				t.Fatalf("before the upload: %s/%s", it.State, it.Pending)
			}
			audio, manifest, _ := e.recording("card1", 6)
			sha := e.upload("card1", audio, manifest)
			// The server has no key: the item says so and stays in the queue.
			if _, err := e.svc.Work(ctx); err != nil {
				t.Fatal(err)
			}
			it, _ := e.st.ReviewItem(ctx, item)
			if it.State != server.ReviewRedactionPending || it.Pending != server.PendingNoKey || it.Outcome != server.OutcomePending {
				t.Fatalf("without a key: %+v", it)
			}
			if _, err := e.svc.Decide(ctx, e.dpo, item, server.Decision{Action: server.DecisionKeep, Note: "x"}); !errors.Is(err, server.ErrConflict) {
				t.Fatalf("keeping card details: %v", err)
			}
			before := e.decrypt("card1")
			// Restarted with the key, it is done at once.
			e.svc = e.service()
			if n, err := e.svc.Work(ctx); err != nil || n != 1 {
				t.Fatalf("Work = %d, %v", n, err)
			}
			it, _ = e.st.ReviewItem(ctx, item)
			if it.State != server.ReviewAutoRedacted || it.Outcome != server.OutcomeRedacted {
				t.Fatalf("after: %+v", it)
			}
			checkSilenced(t, before, e.decrypt("card1"), 2000, 4500)
			rec, _ := e.st.Recording(ctx, "card1")
			m, err := artefact.ParseManifest(rec.Manifest)
			if err != nil || len(m.Redactions) != 1 || m.Redactions[0].By != "auto" || m.Redactions[0].SHA256EncryptedBefore != sha ||
				m.SHA256Encrypted != rec.SHA256 || rec.SHA256 == sha || rec.UploadedSHA256 != sha {
				t.Fatalf("manifest %+v, recording %+v, %v", m, rec, err)
			}
			if rep, err := artefact.Verify(e.blobs.AudioPath("card1"), e.blobs.ManifestPath("card1"), nil); err != nil {
				t.Fatalf("the stored files disagree: %v %v", err, rep.Problems)
			}
			// The dpo confirms; the officer sees the outcome, not more.
			if it, err := e.svc.Decide(ctx, e.dpo, item, server.Decision{Action: server.DecisionConfirm}); err != nil || it.State != server.ReviewDone {
				t.Fatalf("confirm: %+v %v", it, err)
			}
			flags, err := e.st.MyFlags(ctx, "olive", t0.AddDate(0, 0, -1), 10)
			if err != nil || len(flags) != 1 || flags[0].Outcome != server.OutcomeRedacted || flags[0].Decided == nil {
				t.Fatalf("my flags: %+v %v", flags, err)
			}
			recs, _ := e.st.SearchAudit(ctx, server.AuditFilter{Target: "card1"})
			var acts []string
			for _, r := range recs {
				acts = append(acts, r.Action)
			}
			// The service audits the dpo's decision with it, after the redaction.
			if len(acts) != 3 || acts[0] != server.AuditRedactPending || acts[1] != server.AuditRedact || acts[2] != server.AuditReviewDecide {
				t.Fatalf("audit of card1: %v", acts)
			}
		})
	}
}

// TestReviewDecisions: a dpo deletes a whole recording, silences an
// interval, or keeps with a reason; with the two-person rule a second dpo
// must approve a deletion, and the one who decided cannot.
func TestReviewDecisions(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, d.url(t), nil)
			e.ingest(call{id: "whole", start: t0, flags: []flag{{reason: "health", note: "all of it"}, {reason: "other", note: "and this"}}})
			e.ingest(call{id: "part", start: t0, flags: []flag{{reason: "health", from: 1000, to: 3000}}})
			e.ingest(call{id: "dec", start: t0, declined: true})
			for _, id := range []string{"whole", "part", "dec"} {
				audio, manifest, _ := e.recording(id, 4)
				e.upload(id, audio, manifest)
			}
			queue, err := e.st.ReviewQueue(ctx, store.ReviewFilter{})
			if err != nil || len(queue) != 4 {
				t.Fatalf("queue: %d items, %v", len(queue), err)
			}
			var declined server.ReviewItem
			for _, it := range queue {
				if it.Kind == server.ReviewKindDeclined {
					declined = it
				}
				if it.State != server.ReviewOpen || it.Officer != "olive" || it.Label == "" || it.Remote == "" || it.Recording != server.RecordingStored {
					t.Fatalf("queue item %+v", it)
				}
			}
			if declined.CallID != "dec" || declined.Note == "" {
				t.Fatalf("declined item %+v", declined)
			}

			whole := e.call("whole").Flags[0].EventID
			it, err := e.svc.Decide(ctx, e.dpo, whole, server.Decision{Action: server.DecisionDelete, Note: "health details throughout"})
			if err != nil || it.State != server.ReviewDone || it.Outcome != server.OutcomeDeleted || it.Recording != server.RecordingDeleted {
				t.Fatalf("delete: %+v %v", it, err)
			}
			if c := e.call("whole"); c.Recording != server.RecordingDeleted || c.Flags[1].Outcome != server.OutcomeDeleted || c.Erased != nil || c.Remote.Number == "" {
				t.Fatalf("after deleting the recording: %+v", c)
			}
			if _, err := e.blobs.Open("whole"); !errors.Is(err, server.ErrNotFound) {
				t.Fatalf("blob still there: %v", err)
			}
			if _, err := e.svc.Play(ctx, "whole", io.Discard, nil); !errors.Is(err, server.ErrGone) {
				t.Fatalf("play a deleted recording: %v", err)
			}
			if _, err := e.svc.Decide(ctx, e.dpo2, whole, server.Decision{Action: server.DecisionDelete}); !errors.Is(err, server.ErrConflict) {
				t.Fatalf("decide twice: %v", err)
			}

			// Two-person rule from here on.
			e.pol.Review.TwoPersonDeletion = true
			part := e.call("part").Flags[0].EventID
			before := e.decrypt("part")
			it, err = e.svc.Decide(ctx, e.dpo, part, server.Decision{Action: server.DecisionDeleteInterval})
			if err != nil || it.State != server.ReviewAwaitingApproval || *it.DecisionFromMS != 1000 || *it.DecisionToMS != 3000 {
				t.Fatalf("decide with two-person rule: %+v %v", it, err)
			}
			if _, err := e.svc.Approve(ctx, e.dpo, part, true); !errors.Is(err, store.ErrSecondDPO) {
				t.Fatalf("self-approval: %v", err)
			}
			if !bytes.Equal(before, e.decrypt("part")) {
				t.Fatal("changed before approval")
			}
			it, err = e.svc.Approve(ctx, e.dpo2, part, true)
			if err != nil || it.State != server.ReviewDone || it.Outcome != server.OutcomeRedacted || it.ApprovedBy != "dan" {
				t.Fatalf("approve: %+v %v", it, err)
			}
			checkSilenced(t, before, e.decrypt("part"), 1000, 3000)
			var played bytes.Buffer
			if _, err := e.svc.Play(ctx, "part", &played, nil); err != nil || !bytes.Equal(played.Bytes(), e.decrypt("part")) {
				t.Fatalf("play: %v", err)
			}

			// A rejected deletion goes back to the queue; keeping returns the
			// call to its ordinary retention.
			dec := declined.ID
			if _, err := e.svc.Decide(ctx, e.dpo, dec, server.Decision{Action: server.DecisionDelete}); err != nil {
				t.Fatal(err)
			}
			if it, err := e.svc.Approve(ctx, e.dpo2, dec, false); err != nil || it.State != server.ReviewOpen || it.Decision != "" {
				t.Fatalf("reject: %+v %v", it, err)
			}
			if c := e.call("dec"); c.RetentionRule != "declined" {
				t.Fatalf("declined call under %s", c.RetentionRule)
			}
			if _, err := e.svc.Decide(ctx, e.dpo2, dec, server.Decision{Action: server.DecisionKeep, Note: "the caller withdrew the objection"}); err != nil {
				t.Fatal(err)
			}
			if c := e.call("dec"); c.RetentionRule != "default" || c.Recording != server.RecordingStored {
				t.Fatalf("kept declined call: %s %s", c.RetentionRule, c.Recording)
			}
		})
	}
}

// TestRedactionInterruptedBeforeCommit: a crash after the redacted file was
// staged is settled on the next start, forward if the database already
// names the new file, back otherwise.
func TestRedactionInterruptedBeforeCommit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, dialects[0].url(t), nil)
	e.ingest(call{id: "r1", start: t0})
	audio, manifest, _ := e.recording("r1", 2)
	sha := e.upload("r1", audio, manifest)
	// Staged but the database was never told: discarded.
	e.blobs.Stage("r1", func(w io.Writer) error { _, err := w.Write([]byte("half-done")); return err })
	if err := e.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := e.blobs.Staged("r1"); ok {
		t.Fatal("a stray staged file was kept")
	}
	// Staged and recorded in the database, then the crash: committed.
	size, sum, err := e.blobs.Stage("r1", func(w io.Writer) error { _, err := w.Write([]byte("redacted version")); return err })
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.ReplaceRecording(ctx, "r1", sha, size, sum, []byte(`{"call_id":"r1"}`)); err != nil {
		t.Fatal(err)
	}
	if err := e.service().Recover(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := e.blobs.Open("r1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "redacted version" {
		t.Fatalf("after recovery: %q", b)
	}
}

// TestCardDetailsCannotBeKeptWhileADeletionAwaitsApproval: under the
// two-person rule a card item whose deletion waits for a second dpo must
// not be "kept" instead: card details are never kept.
func TestCardDetailsCannotBeKeptWhileADeletionAwaitsApproval(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, dialects[0].url(t), nil, withoutKey())
	e.pol.Review.TwoPersonDeletion = true
	e.ingest(call{id: "card2", start: t0, flags: []flag{{reason: "card", from: 1000, to: 2000}}})
	audio, manifest, _ := e.recording("card2", 3)
	e.upload("card2", audio, manifest)
	item := e.call("card2").Flags[0].EventID
	if it, err := e.svc.Decide(ctx, e.dpo, item, server.Decision{Action: server.DecisionDelete}); err != nil || it.State != server.ReviewAwaitingApproval {
		t.Fatalf("decide delete: %+v %v", it, err)
	}
	if it, err := e.svc.Decide(ctx, e.dpo2, item, server.Decision{Action: server.DecisionKeep, Note: "keep it"}); !errors.Is(err, server.ErrConflict) {
		t.Fatalf("card details kept while a deletion awaited approval: %+v %v", it, err)
	}
}
