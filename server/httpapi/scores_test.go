package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/autoscore"
	"github.com/callguard/callguard/server/central"
)

// newScoringEnv is newEnv on a policy with the scoring job's test
// scorecard, its job looking at the queue every 50 ms.
func newScoringEnv(t *testing.T) *env {
	t.Helper()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../autoscore/testdata/service.json")
	if err != nil {
		t.Fatal(err)
	}
	var card policy.Scorecard
	if err := json.Unmarshal(b, &card); err != nil {
		t.Fatal(err)
	}
	pol.Scorecards = []policy.Scorecard{card}
	return newEnvOpts(t, central.Options{Policy: pol, ScoringEvery: 50 * time.Millisecond})
}

// evaluated waits for the call's automatic score and completes it as
// evaluator, and returns the completed score.
func (e *env) evaluated(callID, evaluator string) server.Score {
	e.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := e.srv.Store().Scores(ctx, server.ScoreFilter{CallID: callID})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(got) > 0 {
			sc, _, err := autoscore.Complete(ctx, e.srv.Store(), got[0].ID, evaluator, map[string]string{"empathy": "5", "ethics": "yes"}, nil)
			if err != nil {
				e.t.Fatal(err)
			}
			return sc
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("call %s was not scored", callID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOfficersSeeAndDisputeTheirOwnScoresOnly(t *testing.T) {
	t.Parallel()
	e := newScoringEnv(t)
	adam := e.user("adam", server.RoleAdmin)
	olive, pat := e.user("olive", server.RoleAgent), e.user("pat", server.RoleAgent)
	sue, sam, dee := e.user("sue", server.RoleSupervisor), e.user("sam", server.RoleSupervisor), e.user("dee", server.RoleDPO)
	for _, tm := range []struct{ team, a, b string }{{"north", "olive", "sue"}, {"south", "pat", "sam"}} {
		e.call(adam, "POST", "/api/v1/teams", `{"name":"`+tm.team+`"}`, 201, nil)
		e.call(adam, "POST", "/api/v1/teams/"+tm.team+"/members", `{"username":"`+tm.a+`"}`, 200, nil)
		e.call(adam, "POST", "/api/v1/teams/"+tm.team+"/members", `{"username":"`+tm.b+`"}`, 200, nil)
	}
	e.recordedCall(olive, "oc1", "+441632960001")
	e.recordedCall(pat, "pc1", "+441632960002")
	oliveScore := e.evaluated("oc1", "sue")
	patScore := e.evaluated("pc1", "sam")
	// olive's second call is scored automatically, not yet evaluated.
	e.recordedCall(olive, "oc2", "+441632960003")
	var auto server.Score
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, _ := e.srv.Store().Scores(context.Background(), server.ScoreFilter{CallID: "oc2"})
		if len(got) > 0 {
			auto = got[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("oc2 was not scored")
		}
	}
	comments := func(id int64) string { return fmt.Sprintf("/api/v1/scores/%d/comments", id) }

	// The attacks first.
	var mine struct{ Scores []server.OfficerScore }
	e.call(pat, "GET", "/api/v1/scores/mine", "", 200, &mine)
	if len(mine.Scores) != 1 || mine.Scores[0].ID != patScore.ID {
		t.Fatalf("pat's scores: %+v", mine.Scores)
	}
	e.call(pat, "POST", comments(oliveScore.ID), `{"kind":"dispute","text":"not mine"}`, 404, nil)
	e.call(pat, "POST", comments(oliveScore.ID), `{"kind":"comment","text":"not mine"}`, 404, nil)
	e.call(sam, "POST", comments(oliveScore.ID), `{"kind":"comment","text":"another team"}`, 404, nil)
	e.call(sue, "POST", comments(oliveScore.ID), `{"kind":"dispute","text":"a supervisor cannot dispute"}`, 403, nil)
	e.call(olive, "POST", comments(auto.ID), `{"kind":"dispute","text":"not completed yet"}`, 404, nil)
	e.call(olive, "POST", comments(999999), `{"kind":"comment","text":"no such score"}`, 404, nil)
	e.call(dee, "POST", comments(oliveScore.ID), `{"kind":"comment","text":"a dpo"}`, 403, nil)
	e.call(sue, "GET", "/api/v1/scores/mine", "", 403, nil)
	if got, _ := e.srv.Store().Score(context.Background(), oliveScore.ID); len(got.Comments) != 0 {
		t.Fatalf("a refused comment was saved: %+v", got.Comments)
	}

	e.call(olive, "POST", comments(oliveScore.ID), `{"kind":"dispute","text":"   "}`, 400, nil)
	var c server.ScoreComment
	e.call(olive, "POST", comments(oliveScore.ID), `{"kind":"dispute","text":"The caller asked me to hold while I checked."}`, 201, &c)
	if c.ID == 0 || c.Author != "olive" || c.Kind != server.CommentDispute {
		t.Fatalf("the dispute: %+v", c)
	}
	e.call(sue, "POST", comments(oliveScore.ID), `{"text":"Thanks, we will listen again."}`, 201, &c)
	if c.Kind != server.CommentNote {
		t.Fatalf("a comment without a kind is a comment: %+v", c)
	}

	e.call(olive, "GET", "/api/v1/scores/mine", "", 200, &mine)
	if len(mine.Scores) != 1 {
		t.Fatalf("olive's scores (the completed one only): %+v", mine.Scores)
	}
	got := mine.Scores[0]
	if got.ID != oliveScore.ID || got.DesktopCallID != "oc1" || got.Evaluator != "sue" || got.Scorecard != "Customer service" || len(got.Comments) != 2 {
		t.Fatalf("olive's score: %+v", got)
	}
	var empathy, talk *server.OfficerCriterion
	for i := range got.Criteria {
		switch got.Criteria[i].Name {
		case "Showed empathy":
			empathy = &got.Criteria[i]
		case "Talk ratio 30–70 %":
			talk = &got.Criteria[i]
		}
	}
	if empathy == nil || empathy.Answer != "5" || empathy.Points != 100 {
		t.Fatalf("empathy: %+v", empathy)
	}
	if talk == nil || talk.Status != "not-measured" || !strings.Contains(talk.Value, "voice timeline") {
		t.Fatalf("talk ratio of a call without a timeline: %+v", talk)
	}
	if got.Total == nil || *got.Total != 100 {
		t.Fatalf("total %v: only empathy counts (5 of 5)", got.Total)
	}
	recs, err := e.srv.Store().SearchAudit(context.Background(), server.AuditFilter{Action: server.AuditScoreList, Actor: "olive"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("olive's read of her scores is not audited: %+v %v", recs, err)
	}
	recs, _ = e.srv.Store().SearchAudit(context.Background(), server.AuditFilter{Action: server.AuditScoreComment})
	if len(recs) != 2 {
		t.Fatalf("comments audited: %+v", recs)
	}
}

// TestAStoredRecordingIsScoredAtOnce: the manifest's route wakes the
// scoring job, so the score is there well before the job's own next look
// (every 2 s by default).
func TestAStoredRecordingIsScoredAtOnce(t *testing.T) {
	t.Parallel()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	var card policy.Scorecard
	b, _ := os.ReadFile("../autoscore/testdata/service.json")
	if err := json.Unmarshal(b, &card); err != nil {
		t.Fatal(err)
	}
	pol.Scorecards = []policy.Scorecard{card}
	e := newEnvOpts(t, central.Options{Policy: pol})
	olive := e.user("olive", server.RoleAgent)
	// The job has seeded the policy's card and looked at the empty queue.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if v, err := e.srv.Store().ActiveScorecards(context.Background()); err == nil && len(v) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the policy's scorecard was not seeded")
		}
	}
	stored := time.Now()
	e.recordedCall(olive, "oc1", "+441632960001")
	for deadline := stored.Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if got, _ := e.srv.Store().Scores(context.Background(), server.ScoreFilter{CallID: "oc1"}); len(got) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not scored within a minute")
		}
	}
	took := time.Since(stored)
	t.Logf("scored %v after the manifest was sent", took.Round(time.Millisecond))
	if took >= 2*time.Second {
		t.Errorf("scored after %v: the job was not woken by the stored recording", took)
	}
}
