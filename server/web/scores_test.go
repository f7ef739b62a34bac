package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/autoscore"
	"github.com/callguard/callguard/server/central"
)

// scoringPolicy is the default policy with the scoring job's test scorecard.
func scoringPolicy(t testing.TB) *policy.Policy {
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
	return pol
}

// withScoring runs the server on the scoring policy, its job looking at
// the queue every 100 ms.
func withScoring(t testing.TB) func(*central.Options) {
	pol := scoringPolicy(t)
	return func(o *central.Options) { o.Policy, o.ScoringEvery = pol, 100*time.Millisecond }
}

// voicedRuns encodes frames [from, to) of total as voiced.
func voicedRuns(total int, voiced ...[2]int) []int32 {
	var r artefact.VoiceRuns
	for f := 0; f < total; f++ {
		on := false
		for _, v := range voiced {
			on = on || (f >= v[0] && f < v[1])
		}
		r.Add(on)
	}
	return r.Runs()
}

// uploadVoiced uploads a 120 s recording whose voice timeline has the
// officer speak 0–40 s and the caller 40–100 s (a talk ratio of 40 %, the
// longest silence the last 20 s).
func (d *desktop) uploadVoiced(callID string) {
	d.t.Helper()
	var buf bytes.Buffer
	w, err := artefact.NewWriter(&buf, d.r.id.Recipient())
	if err != nil {
		d.t.Fatal(err)
	}
	// The whole 120 s, so the player can seek where the evidence is.
	pcm := make([]byte, 120*artefact.SampleRate*artefact.BytesPerFrame)
	w.Write(pcm)
	if err := w.Close(); err != nil {
		d.t.Fatal(err)
	}
	sums := w.Sums()
	m := artefact.Manifest{Version: 1, CallID: callID, Agent: d.agent, Direction: "inbound", Recipients: []string{d.r.id.Recipient().String()},
		SampleRate: artefact.SampleRate, Channels: 2, Frames: int64(len(pcm) / artefact.BytesPerFrame), DataBytes: int64(len(pcm)),
		DurationMS: 120_000, SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256,
		EncryptedBytes: sums.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}, CallerPresent: true,
		Voice: &artefact.Voice{FrameMS: 20, Officer: voicedRuns(6000, [2]int{0, 2000}), Caller: voicedRuns(6000, [2]int{2000, 5000})}}
	d.put(callID, buf.Bytes(), m)
}

// scored waits until the call has its automatic score and returns it.
func (r *rig) scored(callID string) server.Score {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := r.srv.Store().Scores(context.Background(), server.ScoreFilter{CallID: callID, Current: true})
		if err != nil {
			r.t.Fatal(err)
		}
		for _, s := range got {
			if s.Evaluator == "" {
				return s
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("call %s was not scored within 30 s", callID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *rig) team(name string, members ...string) {
	r.t.Helper()
	ctx := context.Background()
	if _, err := r.srv.Store().CreateTeam(ctx, name); err != nil {
		r.t.Fatal(err)
	}
	for _, m := range members {
		if err := r.srv.Store().AddTeamMember(ctx, name, m); err != nil {
			r.t.Fatal(err)
		}
	}
}

func TestScoresOnACallPageAreTheirTeamSupervisorsOnly(t *testing.T) {
	for name, db := range dbs(t) {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, db(), nil, withScoring(t))
			olive := r.desktop("olive")
			olive.call(callSpec{id: "c1", remote: "+447700900123", start: time.Now().Add(-time.Hour)})
			olive.uploadVoiced("c1")
			for _, u := range []string{"sue", "sid", "sam"} {
				r.user(u, server.RoleSupervisor)
			}
			r.user("dee", server.RoleDPO)
			r.team("north", "olive", "sue", "sid")
			r.team("south", "sam")
			auto := r.scored("c1")
			complete := fmt.Sprintf("/scores/%d/complete", auto.ID)

			// The attacks first: a supervisor of another team neither sees
			// nor scores the call; an officer and a dpo cannot evaluate.
			sam := r.browser()
			sam.signIn("sam")
			if resp, _ := sam.do("GET", "/calls/c1", nil, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("another team's supervisor opened the call: %s", resp.Status)
			}
			if resp, _ := sam.do("POST", complete, url.Values{"csrf": {sam.csrf}, "a-empathy": {"1"}}, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("another team's supervisor scored the call: %s", resp.Status)
			}
			dee := r.browser()
			dee.signIn("dee")
			if resp, body := dee.do("GET", "/calls/c1", nil, nil); resp.StatusCode != http.StatusOK || strings.Contains(body, "Customer service") {
				t.Errorf("a dpo's call page shows the officer's score: %s", resp.Status)
			}
			if got := r.audit(server.AuditScoreRead); len(got) != 0 {
				t.Errorf("score reads before any supervisor opened the call: %+v", got)
			}
			if resp, _ := dee.do("POST", complete, url.Values{"csrf": {dee.csrf}, "a-empathy": {"1"}}, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("a dpo scored the call: %s", resp.Status)
			}
			oliveB := r.browser()
			oliveB.do("GET", "/signin", nil, nil)
			oliveB.do("POST", "/signin", url.Values{"csrf": {oliveB.csrf}, "username": {"olive"}, "password": {"password-olive"}, "next": {"/"}}, nil)
			if resp, _ := oliveB.do("GET", "/calls/c1", nil, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("the officer opened her call's page in the workspace: %s", resp.Status)
			}
			if got, _ := r.srv.Store().Scores(context.Background(), server.ScoreFilter{CallID: "c1", CompletedOnly: true}); len(got) != 0 {
				t.Fatalf("a refused evaluation was saved: %+v", got)
			}

			sue := r.browser()
			sue.signIn("sue")
			resp, body := sue.do("GET", "/calls/c1", nil, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the call page: %s\n%s", resp.Status, body)
			}
			for _, want := range []string{"Customer service (version 1) — automatic: 100 %", "Talk ratio 30–70 %", "40 %",
				`data-seek="100.00"`, "1 min 40 s – 2 min 00 s", `<select id="a-empathy" name="a-empathy">`, `name="r-talk"`, "to be answered"} {
				if !strings.Contains(body, want) {
					t.Errorf("the call page lacks %q", want)
				}
			}
			if got := r.audit(server.AuditScoreRead); len(got) == 0 || got[len(got)-1].Actor != "sue" || got[len(got)-1].Target != "c1" {
				t.Errorf("the score's read is not audited: %+v", got)
			}

			// An override needs its reason.
			resp, body = sue.do("POST", complete, url.Values{"csrf": {sue.csrf}, "o-talk": {"no"}, "r-talk": {""}, "a-empathy": {"4"}}, nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "say why the automatic answer is overridden") {
				t.Fatalf("an override without a reason: %s\n%s", resp.Status, body)
			}
			resp, body = sue.do("POST", complete, url.Values{"csrf": {sue.csrf}, "o-talk": {"no"}, "r-talk": {"the officer read a script at the caller"},
				"a-empathy": {"4"}, "a-ethics": {"yes"}}, nil)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("completing the score: %s\n%s", resp.Status, body)
			}
			done, err := r.srv.Store().Scores(context.Background(), server.ScoreFilter{CallID: "c1", CompletedOnly: true})
			if err != nil || len(done) != 1 || done[0].Evaluator != "sue" || done[0].Overrides["talk"].Reason == "" || done[0].Manual["empathy"] != "4" {
				t.Fatalf("sue's evaluation: %+v, %v", done, err)
			}
			// talk failed (0 of 50) + silence passed (50 of 50) → 50 %; empathy 4 → 75 %: 0.6·50 + 0.4·75 = 60.
			if done[0].Total == nil || *done[0].Total != 60 {
				t.Fatalf("sue's total %v, want 60", done[0].Total)
			}
			if got := r.audit(server.AuditScoreComplete); len(got) != 1 || got[0].Actor != "sue" {
				t.Fatalf("the evaluation is not audited: %+v", got)
			}
			_, body = sue.do("GET", "/calls/c1", nil, nil)
			if !strings.Contains(body, "— sue: 60 %") || !strings.Contains(body, "changed from passed by sue: the officer read a script at the caller") {
				t.Errorf("the page does not show sue's evaluation:\n%s", body)
			}

			// sue answers on the page; another team's supervisor cannot.
			if resp, _ := sam.do("POST", fmt.Sprintf("/scores/%d/comments", done[0].ID), url.Values{"csrf": {sam.csrf}, "text": {"hello"}}, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("another team's supervisor commented: %s", resp.Status)
			}
			if resp, body := sue.do("POST", fmt.Sprintf("/scores/%d/comments", done[0].ID), url.Values{"csrf": {sue.csrf}, "text": {"Well handled otherwise."}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sue's comment: %s\n%s", resp.Status, body)
			}
			if got, _ := r.srv.Store().Score(context.Background(), done[0].ID); len(got.Comments) != 1 || got.Comments[0].Author != "sue" {
				t.Fatalf("comments: %+v", got.Comments)
			}
			if _, body := sue.do("GET", "/calls/c1", nil, nil); !strings.Contains(body, "Well handled otherwise.") {
				t.Error("the comment is not on the page")
			}

			// A second evaluator: calibration.
			sid := r.browser()
			sid.signIn("sid")
			if resp, body := sid.do("POST", complete, url.Values{"csrf": {sid.csrf}, "a-empathy": {"2"}, "a-ethics": {"yes"}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sid's evaluation: %s\n%s", resp.Status, body)
			}
			_, body = sue.do("GET", "/calls/c1", nil, nil)
			if !strings.Contains(body, "Calibration: Customer service") || !strings.Contains(body, "differ") {
				t.Errorf("no calibration between sue and sid on the page")
			}
			// The list of calibrated calls: sue's 60 % and sid's, apart on
			// talk (sue changed it) and empathy (4 and 2).
			_, body = sue.do("GET", "/scores/calibration", nil, nil)
			for _, want := range []string{`href="/calls/c1#score"`, "sid, sue", `<span class="tag warn">2</span>`, "points"} {
				if !strings.Contains(body, want) {
					t.Errorf("the calibration list lacks %q", want)
				}
			}
			if _, body := sam.do("GET", "/scores/calibration", nil, nil); strings.Contains(body, "/calls/c1") {
				t.Error("another team's supervisor sees the call in the calibration list")
			}
		})
	}
}

func TestScorecardsAreCreatedEditedImportedAndExported(t *testing.T) {
	r := newRig(t, "", nil, withScoring(t))
	r.user("sue", server.RoleSupervisor)
	r.user("dee", server.RoleDPO)
	dee := r.browser()
	dee.signIn("dee")
	if resp, _ := dee.do("GET", "/scorecards", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a dpo opened the scorecards: %s", resp.Status)
	}
	sue := r.browser()
	sue.signIn("sue")
	resp, body := sue.do("GET", "/scorecards", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Customer service") {
		t.Fatalf("the scorecards page (the policy's seeds version 1): %s\n%s", resp.Status, body)
	}
	bad := `{"id":"sales","name":"Sales","sections":[{"name":"A","weight":90,"criteria":[
		{"id":"x","name":"X","weight":100,"kind":"automatic","measure":"talk-speed","band":{"max":1}},
		{"id":"y","name":"Y","weight":10,"kind":"automatic","measure":"talk-ratio","bands":[{"min":0,"max":50,"points":100},{"min":40,"max":100,"points":50}]}]}]}`
	resp, body = sue.do("POST", "/scorecards", url.Values{"csrf": {sue.csrf}, "new": {"1"}, "json": {bad}}, nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad scorecard: %s", resp.Status)
	}
	for _, want := range []string{"the sections' weights add up to 90, not 100", "the criteria's weights add up to 110, not 100",
		`measure "talk-speed" is not one callguard computes`, "overlaps band 0", `"id":"sales"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the errors lack %q:\n%s", want, body)
		}
	}
	good := `{"id":"sales","name":"Sales","sections":[{"name":"A","weight":100,"criteria":[
		{"id":"y","name":"Talk ratio","weight":100,"kind":"automatic","measure":"talk-ratio","band":{"min":20,"max":80}}]}]}`
	resp, body = sue.do("POST", "/scorecards", url.Values{"csrf": {sue.csrf}, "new": {"1"}, "json": {good}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/scorecards/sales?saved=1" {
		t.Fatalf("a good scorecard: %s %s\n%s", resp.Status, resp.Header.Get("Location"), body)
	}
	// The same id again as a new one is refused; as an edit it is version 2.
	if resp, _ := sue.do("POST", "/scorecards", url.Values{"csrf": {sue.csrf}, "new": {"1"}, "json": {good}}, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a second scorecard of the same id: %s", resp.Status)
	}
	edited := strings.Replace(good, `"max":80`, `"max":70`, 1)
	if resp, body := sue.do("POST", "/scorecards", url.Values{"csrf": {sue.csrf}, "id": {"sales"}, "json": {edited}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("an edit: %s\n%s", resp.Status, body)
	}
	_, body = sue.do("GET", "/scorecards/sales", nil, nil)
	if !strings.Contains(body, "Sales (version 2, active)") || !strings.Contains(body, `?version=1`) {
		t.Errorf("the versions are not shown:\n%s", body)
	}
	if got := r.audit(server.AuditScorecardSave); len(got) != 2 || got[0].Actor != "sue" {
		t.Errorf("saves audited: %+v", got)
	}

	resp, body = sue.do("GET", "/scorecards/export", nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("export: %s", resp.Status)
	}
	// The export is the policy format: it overlays onto the policy.
	p, err := scoringPolicy(t).Overlay([]byte(body))
	if err != nil || len(p.Scorecards) != 2 || p.Scorecard("sales").Sections[0].Criteria[0].Band.Max == nil || *p.Scorecard("sales").Sections[0].Criteria[0].Band.Max != 70 {
		t.Fatalf("the export does not read as a policy's scorecards: %v\n%s", err, body)
	}
	// Importing it again changes nothing; an import with a change makes a version.
	if resp, _ := sue.do("POST", "/scorecards/import", url.Values{"csrf": {sue.csrf}, "policy": {body}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %s", resp.Status)
	}
	if v, _ := r.srv.Store().ScorecardVersions(context.Background(), "sales"); len(v) != 2 {
		t.Errorf("importing the same scorecards made %d versions, want 2", len(v))
	}
	changed := strings.Replace(body, `"max": 70`, `"max": 60`, 1)
	if resp, _ := sue.do("POST", "/scorecards/import", url.Values{"csrf": {sue.csrf}, "policy": {changed}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("import with a change: %s", resp.Status)
	}
	if v, _ := r.srv.Store().ScorecardVersions(context.Background(), "sales"); len(v) != 3 || v[0].Source != server.ScorecardFromImport {
		t.Errorf("an imported change: %+v", v)
	}
	if resp, body := sue.do("POST", "/scorecards/import", url.Values{"csrf": {sue.csrf}, "policy": {`{"scorecards":[{"id":"x"}]}`}}, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "name is empty") {
		t.Errorf("a bad import: %s\n%s", resp.Status, body)
	}
}

func TestTrendsAreTheirTeamsAndAudited(t *testing.T) {
	r := newRig(t, "", nil, withScoring(t))
	olive := r.desktop("olive")
	// c2 this week (in its first minute on a Monday just after midnight),
	// c1 a week before it.
	now := time.Now()
	y, m, d := now.Date()
	monday := time.Date(y, m, d-(int(now.Weekday())+6)%7, 0, 0, 0, 0, time.Local)
	this := now.Add(-time.Hour)
	if this.Before(monday) {
		this = monday
	}
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: this.AddDate(0, 0, -7)})
	olive.uploadVoiced("c1")
	olive.call(callSpec{id: "c2", remote: "+447700900124", start: this})
	olive.uploadVoiced("c2")
	r.user("sue", server.RoleSupervisor)
	r.user("sam", server.RoleSupervisor)
	r.team("north", "olive", "sue")
	r.team("south", "sam")
	r.scored("c1")
	auto := r.scored("c2")
	// Read before the evaluation, so the store keeps the weeks the
	// evaluation then makes stale.
	early := r.browser()
	early.signIn("sue")
	if _, body := early.do("GET", "/scores/trends?officer=olive&weeks=4", nil, nil); strings.Contains(body, ": 0.0 %</title>") {
		t.Fatalf("a zero before the evaluation:\n%s", body)
	}
	if _, _, err := autoscore.Complete(context.Background(), r.srv.Store(), auto.ID, "sue", map[string]string{"empathy": "1", "ethics": "no"}, nil); err != nil {
		t.Fatal(err)
	}

	sam := r.browser()
	sam.signIn("sam")
	for _, q := range []string{"?officer=olive", "?team=north"} {
		if resp, _ := sam.do("GET", "/scores/trends"+q, nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another team's supervisor read the trends %s: %s", q, resp.Status)
		}
		if resp, _ := sam.do("GET", "/scores/trends.csv"+q, nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another team's supervisor read the CSV %s: %s", q, resp.Status)
		}
	}
	_, body := sam.do("GET", "/scores/trends", nil, nil)
	if strings.Contains(body, "<circle") {
		t.Errorf("sam's own trends (nobody he supervises has a score) show points")
	}

	sue := r.browser()
	sue.signIn("sue")
	resp, body := sue.do("GET", "/scores/trends?officer=olive&weeks=4", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("trends: %s\n%s", resp.Status, body)
	}
	// c1 last week: automatic 100 %; c2 this week: sue's evaluation, zeroed
	// by the fail-all "gave no ethical advice: no".
	if n := strings.Count(body, "<svg"); n < 3 {
		t.Errorf("%d charts, want the average, the criteria and the measures", n)
	}
	for _, want := range []string{": 100.0 %</title>", ": 0.0 %</title>", "Talk ratio 30–70 %: pass rate", `<td data-label="Talk ratio 30–70 % (pass rate %)">100.0</td>`, `">0.0</td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the trends lack %q", want)
		}
	}
	resp, body = sue.do("GET", "/scores/trends.csv?officer=olive&weeks=4", nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("csv: %s", resp.Status)
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "week,scores,average score %,") || !strings.Contains(lines[3], ",1,100.0,") || !strings.Contains(lines[4], ",1,0.0,") {
		t.Fatalf("csv:\n%s", body)
	}
	if got := r.audit(server.AuditScoreTrends); len(got) != 4 || got[1].Target != "officers:sam" || got[2].Target != "officer:olive" {
		t.Errorf("trends audited: %+v", got)
	}
}

func TestTheScorecardsPageSaysWhatCouldNotBeScored(t *testing.T) {
	r := newRig(t, "", nil, withScoring(t))
	r.user("sue", server.RoleSupervisor)
	// A call the job tried five times: it is never taken again.
	if _, err := r.srv.Store().DB().ExecContext(context.Background(),
		`INSERT INTO scoring_queue (call_id, queued_at, attempts, last_error) VALUES ('s1', 0, 5, 'the manifest is broken')`); err != nil {
		t.Fatal(err)
	}
	sue := r.browser()
	sue.signIn("sue")
	_, body := sue.do("GET", "/scorecards", nil, nil)
	if !strings.Contains(body, "1 call(s) could not be scored after five tries.") || strings.Contains(body, "waiting to be scored") {
		t.Errorf("the page does not say what could not be scored:\n%s", body)
	}
}

// TestTheExamplePoliciesScorecardsImport: on a server running each example
// policy, its scorecards are version 1 from the start, the policy file
// imports into the workspace as it is (the same cards: no new version),
// and its export overlays onto the policy again.
func TestTheExamplePoliciesScorecardsImport(t *testing.T) {
	for _, name := range assets.ExamplePolicies() {
		t.Run(name, func(t *testing.T) {
			raw, err := assets.ExamplePolicy(name)
			if err != nil {
				t.Fatal(err)
			}
			pol, err := policy.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(pol.Scorecards) == 0 {
				t.Fatalf("%s has no scorecard", name)
			}
			r := newRig(t, "", nil, func(o *central.Options) { o.Policy = pol })
			r.user("sue", server.RoleSupervisor)
			sue := r.browser()
			sue.signIn("sue")
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if v, _ := r.srv.Store().ActiveScorecards(context.Background()); len(v) == len(pol.Scorecards) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the policy's scorecards were not seeded")
				}
			}
			if resp, body := sue.do("POST", "/scorecards/import", url.Values{"csrf": {sue.csrf}, "policy": {string(raw)}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("import %s: %s\n%s", name, resp.Status, body)
			}
			for _, c := range pol.Scorecards {
				if v, err := r.srv.Store().ScorecardVersions(context.Background(), c.ID); err != nil || len(v) != 1 {
					t.Errorf("%s: %d versions after importing the same card (%v)", c.ID, len(v), err)
				}
			}
			_, export := sue.do("GET", "/scorecards/export", nil, nil)
			back, err := pol.Overlay([]byte(export))
			if err != nil || len(back.Scorecards) != len(pol.Scorecards) || back.Scorecards[0].Digest() != pol.Scorecard(back.Scorecards[0].ID).Digest() {
				t.Errorf("the export does not overlay as the same cards: %v", err)
			}
		})
	}
}

func TestTrendsWithoutTeamsAskForTheOfficer(t *testing.T) {
	r := newRig(t, "", nil, withScoring(t))
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: time.Now().Add(-time.Hour)})
	olive.uploadVoiced("c1")
	r.user("sue", server.RoleSupervisor)
	r.scored("c1")
	sue := r.browser()
	sue.signIn("sue")
	// No team: one team of everyone, every officer's trends open to sue.
	_, body := sue.do("GET", "/scores/trends", nil, nil)
	if !strings.Contains(body, `<input id="officer" name="officer" value=""`) || !strings.Contains(body, "100.0 %</title>") {
		t.Errorf("the trends of everyone without teams:\n%s", body)
	}
	if resp, body := sue.do("GET", "/scores/trends?officer=olive", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "officer olive") {
		t.Errorf("olive's trends without teams: %s", resp.Status)
	}
}
