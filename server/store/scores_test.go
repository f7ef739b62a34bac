package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// storedCall ingests a call of p's and stores its recording.
func storedCall(t *testing.T, s *store.Store, p server.Principal, ref string, seq uint64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Ingest(ctx, p, callEvents(ref, seq, at, "+441632960001")); err != nil {
		t.Fatal(err)
	}
	r, err := s.ClaimRecording(ctx, p, ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StoreRecording(ctx, r.CallID, 42, "sum-"+ref, []byte(`{"call_id":"`+ref+`"}`)); err != nil {
		t.Fatal(err)
	}
}

func auto(t *testing.T, callID, agent, card string, version int, total float64) server.Score {
	t.Helper()
	return server.Score{CallID: callID, Agent: agent, ScorecardID: card, ScorecardVersion: version,
		Automatic: json.RawMessage(`{"criteria":[]}`), Total: &total}
}

func TestScorecardsAreVersioned(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		seed := []server.ScorecardVersion{{ID: "service", Name: "Service", Body: json.RawMessage(`{"id":"service"}`)}}
		if n, err := s.SeedScorecards(ctx, seed); err != nil || n != 1 {
			t.Fatalf("first seed: %d, %v", n, err)
		}
		if n, err := s.SeedScorecards(ctx, seed); err != nil || n != 0 {
			t.Fatalf("a second seed saved %d (%v); the policy's scorecard seeds version 1 only if absent", n, err)
		}
		clk.Add(time.Minute)
		v2, err := s.SaveScorecard(ctx, server.ScorecardVersion{ID: "service", Name: "Service (stricter)", Body: json.RawMessage(`{"id":"service","v":2}`)}, "mia", server.ScorecardFromWorkspace)
		if err != nil || v2.Version != 2 || !v2.Active {
			t.Fatalf("save: %+v, %v", v2, err)
		}
		if n, err := s.SeedScorecards(ctx, seed); err != nil || n != 0 {
			t.Fatalf("the policy's seed replaced a saved scorecard: %d, %v", n, err)
		}
		versions, err := s.ScorecardVersions(ctx, "service")
		if err != nil || len(versions) != 2 || versions[0].Version != 2 || !versions[0].Active || versions[1].Active {
			t.Fatalf("versions: %+v, %v", versions, err)
		}
		if versions[1].Source != server.ScorecardFromPolicy || versions[0].CreatedBy != "mia" {
			t.Fatalf("sources: %+v", versions)
		}
		active, err := s.ActiveScorecards(ctx)
		if err != nil || len(active) != 1 || active[0].Version != 2 || string(active[0].Body) != `{"id":"service","v":2}` {
			t.Fatalf("active: %+v, %v", active, err)
		}
		if v1, err := s.Scorecard(ctx, "service", 1); err != nil || v1.Name != "Service" {
			t.Fatalf("version 1: %+v, %v", v1, err)
		}
		if _, err := s.Scorecard(ctx, "nothing", 0); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("a missing scorecard: %v", err)
		}
		if _, err := s.SaveScorecard(ctx, server.ScorecardVersion{ID: "x", Body: json.RawMessage(`{`)}, "mia", server.ScorecardFromWorkspace); !errors.Is(err, server.ErrInvalid) {
			t.Fatalf("a body that is not JSON: %v", err)
		}
	})
}

func TestAStoredRecordingIsQueuedAndScoredOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		olive := agentDevice(t, s, "olive")
		storedCall(t, s, olive, "c1", 1, clk.Now())
		due, err := s.ScoringDue(ctx, 10)
		if err != nil || !slices.Equal(due, []string{"c1"}) {
			t.Fatalf("due after the recording was stored: %v, %v", due, err)
		}
		// A failed attempt leaves it queued.
		if err := s.ScoringFailed(ctx, "c1", errors.New("boom")); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.ScoringDue(ctx, 10); len(due) != 1 {
			t.Fatalf("a failed call left the queue: %v", due)
		}
		if waiting, stuck, err := s.ScoringQueued(ctx); err != nil || waiting != 1 || stuck != 0 {
			t.Fatalf("queued: %d waiting, %d stuck, %v", waiting, stuck, err)
		}
		// After MaxScoringAttempts it is left for a person to look at.
		storedCall(t, s, olive, "c9", 50, clk.Now())
		for range store.MaxScoringAttempts {
			if err := s.ScoringFailed(ctx, "c9", errors.New("boom")); err != nil {
				t.Fatal(err)
			}
		}
		if due, _ := s.ScoringDue(ctx, 10); !slices.Equal(due, []string{"c1"}) {
			t.Fatalf("due with c9 stuck: %v", due)
		}
		if waiting, stuck, err := s.ScoringQueued(ctx); err != nil || waiting != 2 || stuck != 1 {
			t.Fatalf("queued: %d waiting, %d stuck, %v", waiting, stuck, err)
		}
		if err := s.WriteAutomaticScores(ctx, "c1", []server.Score{auto(t, "c1", "olive", "service", 1, 80)}); err != nil {
			t.Fatal(err)
		}
		// Scoring again (a server that stopped before it knew it committed)
		// writes the same score once.
		if err := s.WriteAutomaticScores(ctx, "c1", []server.Score{auto(t, "c1", "olive", "service", 1, 80)}); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.ScoringDue(ctx, 10); len(due) != 0 {
			t.Fatalf("a scored call is still due: %v", due)
		}
		got, err := s.Scores(ctx, server.ScoreFilter{CallID: "c1"})
		if err != nil || len(got) != 1 || *got[0].Total != 80 || got[0].Agent != "olive" || got[0].Completed != nil {
			t.Fatalf("scores: %+v, %v", got, err)
		}

		// A flag raised after the recording was stored queues the call
		// again, and its new automatic score of the same version replaces
		// the old.
		flag := callEvents("c1", 100, clk.Now(), "+441632960001")[7]
		flag.ID, flag.Seq = "late-flag", 100
		if _, err := s.Ingest(ctx, olive, []server.Event{flag}); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.ScoringDue(ctx, 10); !slices.Equal(due, []string{"c1"}) {
			t.Fatalf("a late event did not queue the call: %v", due)
		}
		late := auto(t, "c1", "olive", "service", 1, 70)
		late.Automatic = json.RawMessage(`{"criteria":[],"flags":2}`)
		if err := s.WriteAutomaticScores(ctx, "c1", []server.Score{late}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Scores(ctx, server.ScoreFilter{CallID: "c1"}); len(got) != 1 || *got[0].Total != 70 {
			t.Fatalf("after the late event: %+v", got)
		}

		// A new version queues the stored call again; the old score stays,
		// superseded.
		clk.Add(time.Hour)
		if _, err := s.SaveScorecard(ctx, server.ScorecardVersion{ID: "service", Name: "S", Body: json.RawMessage(`{}`)}, "mia", server.ScorecardFromWorkspace); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.ScoringDue(ctx, 10); !slices.Equal(due, []string{"c1"}) {
			t.Fatalf("a new scorecard version did not queue the call: %v", due)
		}
		if err := s.WriteAutomaticScores(ctx, "c1", []server.Score{auto(t, "c1", "olive", "service", 2, 60)}); err != nil {
			t.Fatal(err)
		}
		all, err := s.Scores(ctx, server.ScoreFilter{CallID: "c1"})
		if err != nil || len(all) != 2 {
			t.Fatalf("after re-scoring: %+v, %v", all, err)
		}
		if all[0].ScorecardVersion != 2 || all[0].Superseded != nil || all[1].ScorecardVersion != 1 || all[1].Superseded == nil {
			t.Fatalf("the old score is not kept as superseded: %+v", all)
		}
		cur, _ := s.Scores(ctx, server.ScoreFilter{CallID: "c1", Current: true})
		if len(cur) != 1 || cur[0].ScorecardVersion != 2 {
			t.Fatalf("current: %+v", cur)
		}
	})
}

func TestEvaluatorsCompleteScoresAndOfficersComment(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		olive := agentDevice(t, s, "olive")
		storedCall(t, s, olive, "c1", 1, clk.Now())
		if err := s.WriteAutomaticScores(ctx, "c1", []server.Score{auto(t, "c1", "olive", "service", 1, 80)}); err != nil {
			t.Fatal(err)
		}
		a, _ := s.Scores(ctx, server.ScoreFilter{CallID: "c1"})
		if _, err := s.CompleteScore(ctx, a[0].ID, "sue", server.Evaluation{Overrides: map[string]server.Override{"talk": {Answer: "pass"}}}); !errors.Is(err, server.ErrInvalid) {
			t.Fatalf("an override without a reason: %v", err)
		}
		total := 75.0
		sue, err := s.CompleteScore(ctx, a[0].ID, "sue", server.Evaluation{Manual: map[string]string{"empathy": "4"},
			Overrides: map[string]server.Override{"talk": {Answer: "pass", Reason: "the caller talked over a bad line"}}, Total: &total,
			Summary: server.ScoreSummary{Counted: true, Total: total, Criteria: map[string]float64{"talk": 100}}})
		if err != nil || sue.Evaluator != "sue" || sue.Completed == nil || sue.Manual["empathy"] != "4" || sue.Overrides["talk"].Reason == "" || string(sue.Automatic) != `{"criteria":[]}` ||
			sue.Summary.Criteria["talk"] != 100 {
			t.Fatalf("sue's score: %+v, %v", sue, err)
		}
		// sue again replaces her own answers; sam gets his own score.
		again, err := s.CompleteScore(ctx, a[0].ID, "sue", server.Evaluation{Manual: map[string]string{"empathy": "5"}, Total: &total})
		if err != nil || again.ID != sue.ID || again.Manual["empathy"] != "5" || len(again.Overrides) != 0 {
			t.Fatalf("sue again: %+v, %v", again, err)
		}
		sam, err := s.CompleteScore(ctx, a[0].ID, "sam", server.Evaluation{Manual: map[string]string{"empathy": "2"}})
		if err != nil || sam.ID == sue.ID {
			t.Fatalf("sam's score: %+v, %v", sam, err)
		}
		done, err := s.Scores(ctx, server.ScoreFilter{Agent: "olive", CompletedOnly: true})
		if err != nil || len(done) != 2 {
			t.Fatalf("olive's completed scores: %+v, %v", done, err)
		}
		if light, err := s.Scores(ctx, server.ScoreFilter{Agent: "olive", CompletedOnly: true, SummaryOnly: true}); err != nil || len(light) != 2 || light[0].Automatic != nil {
			t.Fatalf("scores without their automatic result: %+v, %v", light, err)
		}
		if none, _ := s.Scores(ctx, server.ScoreFilter{Agents: map[string]bool{"pat": true}}); len(none) != 0 {
			t.Fatalf("pat has scores: %+v", none)
		}

		if _, err := s.AddScoreComment(ctx, sue.ID, "olive", server.CommentDispute, "  "); !errors.Is(err, server.ErrInvalid) {
			t.Fatalf("an empty dispute: %v", err)
		}
		if _, err := s.AddScoreComment(ctx, 99999, "olive", server.CommentNote, "hello"); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("a comment on no score: %v", err)
		}
		c, err := s.AddScoreComment(ctx, sue.ID, "olive", server.CommentDispute, "The caller asked me to wait on hold.")
		if err != nil || c.ID == 0 {
			t.Fatal(c, err)
		}
		got, err := s.Score(ctx, sue.ID)
		if err != nil || len(got.Comments) != 1 || got.Comments[0].Kind != server.CommentDispute || got.Comments[0].Author != "olive" {
			t.Fatalf("the score's comments: %+v, %v", got, err)
		}
	})
}
