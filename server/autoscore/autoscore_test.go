package autoscore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/autoscore"
	"github.com/callguard/callguard/server/scoring"
	"github.com/callguard/callguard/server/store"

	_ "github.com/callguard/callguard/server/store/pglisten"
	_ "modernc.org/sqlite"
)

func TestMain(m *testing.M) { testrig.Main(m) }

var dialects = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "callguard.db") }},
	{"postgres", func(t *testing.T) string { return testrig.PostgreSQL(t) }},
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testPolicy is the default policy with the test's scorecard.
func testPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/service.json")
	if err != nil {
		t.Fatal(err)
	}
	var card policy.Scorecard
	if err := json.Unmarshal(b, &card); err != nil {
		t.Fatal(err)
	}
	if err := card.Validate(); err != nil {
		t.Fatal(err)
	}
	pol.Scorecards = []policy.Scorecard{card}
	return pol
}

func openStore(t testing.TB, url string, pol *policy.Policy) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url, store.WithPolicy(pol), store.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func agent(t testing.TB, s *store.Store, name string) server.Principal {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, name, server.RoleAgent, "", false)
	if err != nil {
		t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	if err := s.CreateDevice(ctx, auth.NewID(), u.ID, name+"-pc", hash); err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, auth.HashToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runs encodes frames [from, to) of total as voiced.
func runs(total int, voiced ...[2]int) []int32 {
	var r artefact.VoiceRuns
	for f := 0; f < total; f++ {
		on := false
		for _, v := range voiced {
			if f >= v[0] && f < v[1] {
				on = true
			}
		}
		r.Add(on)
	}
	return r.Runs()
}

// arrive ingests a two-minute call of p's and stores its recording with a
// manifest whose timeline has the officer talk 0–40 s and the caller
// 40–100 s (a talk ratio of 40 %, the longest silence 20 s at the end);
// voice false leaves the timeline out (an older desktop).
func arrive(t testing.TB, s *store.Store, p server.Principal, ref string, seq uint64, start time.Time, voice bool) string {
	t.Helper()
	ctx := context.Background()
	at := func(sec int) time.Time { return start.Add(time.Duration(sec) * time.Second) }
	answered, ended := at(0), at(120)
	call := func(a, e *time.Time) *server.EventCall {
		return &server.EventCall{Direction: "inbound", Local: server.Party{Number: "2001"}, Remote: server.Party{Number: "+441632960001"},
			Started: start, Answered: a, Ended: e, Recorded: a != nil}
	}
	evs := []server.Event{
		{Type: server.EventCallRinging, Call: call(nil, nil), Time: at(0)},
		{Type: server.EventCallAnswered, Call: call(&answered, nil), Time: at(0)},
		{Type: server.EventNotice, Outcome: "announced", Time: at(0)},
		{Type: server.EventRecordingState, State: "recording", Time: at(0)},
		{Type: server.EventCallEnded, Call: call(&answered, &ended), Time: at(120)},
	}
	for i := range evs {
		evs[i].ID, evs[i].Seq, evs[i].CallID = fmt.Sprintf("%s-e%d", ref, i), seq+uint64(i), ref
	}
	if _, err := s.Ingest(ctx, p, evs); err != nil {
		t.Fatal(err)
	}
	rec, err := s.ClaimRecording(ctx, p, ref)
	if err != nil {
		t.Fatal(err)
	}
	m := artefact.Manifest{Version: 3, CallID: ref, Agent: p.Username, Direction: "inbound", CallStarted: start, Started: start, Ended: &ended,
		DurationMS: 120_000, Notice: "announced", Complete: true, Channels: 2, SampleRate: 16000, CallerPresent: true}
	if voice {
		m.Voice = &artefact.Voice{FrameMS: 20, Officer: runs(6000, [2]int{0, 2000}), Caller: runs(6000, [2]int{2000, 5000})}
	}
	body, _ := json.Marshal(m)
	if err := s.StoreRecording(ctx, rec.CallID, 1000, "sum-"+ref, body); err != nil {
		t.Fatal(err)
	}
	return rec.CallID
}

func criterion(t testing.TB, a autoscore.Automatic, id string) scoring.CriterionResult {
	t.Helper()
	for _, s := range a.Result.Sections {
		for _, c := range s.Criteria {
			if c.ID == id {
				return c
			}
		}
	}
	t.Fatalf("no criterion %q in %+v", id, a.Result)
	return scoring.CriterionResult{}
}

func TestACallIsScoredByTheActiveScorecard(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			pol := testPolicy(t)
			s := openStore(t, d.url(t), pol)
			job := autoscore.New(autoscore.Options{Store: s, Policy: pol, Logger: quiet})
			if err := job.Seed(ctx); err != nil {
				t.Fatal(err)
			}
			olive := agent(t, s, "olive")
			start := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
			withVoice := arrive(t, s, olive, "c1", 1, start, true)
			older := arrive(t, s, olive, "c2", 10, start.Add(5*time.Minute), false)
			if n, err := job.RunOnce(ctx); err != nil || n != 2 {
				t.Fatalf("RunOnce: %d, %v", n, err)
			}
			got, err := s.Scores(ctx, server.ScoreFilter{CallID: withVoice})
			if err != nil || len(got) != 1 {
				t.Fatalf("scores of c1: %+v, %v", got, err)
			}
			a, err := autoscore.DecodeAutomatic(got[0].Automatic)
			if err != nil {
				t.Fatal(err)
			}
			if got[0].ScorecardID != "service" || got[0].ScorecardVersion != 1 || got[0].Agent != "olive" {
				t.Fatalf("score: %+v", got[0])
			}
			talk := criterion(t, a, "talk")
			if talk.Status != scoring.StatusPass || talk.Value == nil || *talk.Value != 40 {
				t.Fatalf("talk ratio: %+v", talk)
			}
			silence := criterion(t, a, "silence")
			if silence.Status != scoring.StatusPass || silence.Value == nil || *silence.Value != 20 || len(silence.Evidence) == 0 {
				t.Fatalf("longest silence: %+v", silence)
			}
			if e := silence.Evidence[0]; e.FromMS != 100_000 || e.ToMS != 120_000 {
				t.Fatalf("the silence's evidence is %+v, want 100–120 s", e)
			}
			if got[0].Total == nil || *got[0].Total != 100 {
				t.Fatalf("automatic total %v, want 100 (only the automatic criteria count until the manual ones are answered)", got[0].Total)
			}
			// An older desktop's manifest: the timeline's criteria are not
			// measured, never zero, and nothing counts yet.
			old, err := s.Scores(ctx, server.ScoreFilter{CallID: older})
			if err != nil || len(old) != 1 {
				t.Fatalf("scores of c2: %+v, %v", old, err)
			}
			oa, _ := autoscore.DecodeAutomatic(old[0].Automatic)
			if c := criterion(t, oa, "talk"); c.Status != scoring.StatusNotMeasured || c.NotMeasured == "" {
				t.Fatalf("talk ratio without a timeline: %+v", c)
			}
			if old[0].Total != nil {
				t.Fatalf("a call with nothing measured has total %v, want none", *old[0].Total)
			}

			// A new version re-scores both calls; the old scores stay.
			var card policy.Scorecard
			json.Unmarshal(mustRead(t, "testdata/service.json"), &card)
			card.Sections[0].Criteria[0].Band.Max = ptr(35.0)
			body, _ := json.Marshal(card)
			if _, err := s.SaveScorecard(ctx, server.ScorecardVersion{ID: "service", Name: card.Name, Body: body}, "mia", server.ScorecardFromWorkspace); err != nil {
				t.Fatal(err)
			}
			if n, err := job.RunOnce(ctx); err != nil || n != 2 {
				t.Fatalf("RunOnce after the new version: %d, %v", n, err)
			}
			all, _ := s.Scores(ctx, server.ScoreFilter{CallID: withVoice})
			if len(all) != 2 || all[0].ScorecardVersion != 2 || all[1].Superseded == nil {
				t.Fatalf("after re-scoring: %+v", all)
			}
			a2, _ := autoscore.DecodeAutomatic(all[0].Automatic)
			if c := criterion(t, a2, "talk"); c.Status != scoring.StatusFail {
				t.Fatalf("talk ratio 40 %% by a 30–35 %% band: %+v", c)
			}
		})
	}
}

func mustReadB(t testing.TB, path string) []byte { return mustRead(t, path) }

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// failing is a store whose writes of scores fail, as a server that stops
// before the transaction commits.
type failing struct {
	*store.Store
}

func (failing) WriteAutomaticScores(context.Context, string, []server.Score) error {
	return errors.New("the server stopped")
}

func TestNothingIsLostWhenTheServerStopsMidway(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			pol := testPolicy(t)
			url := d.url(t)
			s := openStore(t, url, pol)
			olive := agent(t, s, "olive")
			id := arrive(t, s, olive, "c1", 1, time.Now().Add(-time.Hour).UTC(), true)
			broken := autoscore.New(autoscore.Options{Store: failing{s}, Policy: pol, Logger: quiet})
			if err := broken.Seed(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := broken.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Scores(ctx, server.ScoreFilter{CallID: id}); len(got) != 0 {
				t.Fatalf("scores written by a job that failed: %+v", got)
			}
			s.Close()
			// The server starts again on the same database.
			s2 := openStore(t, url, pol)
			job := autoscore.New(autoscore.Options{Store: s2, Policy: pol, Logger: quiet})
			if n, err := job.RunOnce(ctx); err != nil || n != 1 {
				t.Fatalf("after the restart: %d, %v", n, err)
			}
			if got, _ := s2.Scores(ctx, server.ScoreFilter{CallID: id}); len(got) != 1 {
				t.Fatalf("the call queued before the stop was not scored after it: %+v", got)
			}
			if waiting, stuck, err := s2.ScoringQueued(ctx); err != nil || waiting != 0 || stuck != 0 {
				t.Fatalf("queue: %d waiting, %d stuck, %v", waiting, stuck, err)
			}
		})
	}
}

// TestACallIsScoredWithinSecondsOfItsManifest runs the job as the server
// does and measures the time from the stored manifest to its score.
func TestACallIsScoredWithinSecondsOfItsManifest(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pol := testPolicy(t)
			s := openStore(t, d.url(t), pol)
			job := autoscore.New(autoscore.Options{Store: s, Policy: pol, Logger: quiet})
			if err := job.Seed(ctx); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); job.Run(ctx) }()
			defer func() { cancel(); <-done }()
			olive := agent(t, s, "olive")
			stored := time.Now()
			id := arrive(t, s, olive, "c1", 1, stored.Add(-time.Hour).UTC(), true)
			deadline := stored.Add(time.Minute)
			for {
				got, err := s.Scores(ctx, server.ScoreFilter{CallID: id})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == 1 {
					t.Logf("%s: scored %v after its manifest was stored", d.name, time.Since(stored).Round(time.Millisecond))
					return
				}
				if time.Now().After(deadline) {
					t.Fatal("the call was not scored within a minute of its manifest")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestTwoServersScoreEachCallOnce: two server instances on one
// PostgreSQL run their jobs at once over the same queue; every call ends
// with one automatic score and the queue empty.
func TestTwoServersScoreEachCallOnce(t *testing.T) {
	ctx := context.Background()
	pol := testPolicy(t)
	url := testrig.PostgreSQL(t)
	a, b := openStore(t, url, pol), openStore(t, url, pol)
	olive := agent(t, a, "olive")
	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	const calls = 60
	for i := range calls {
		arrive(t, a, olive, fmt.Sprintf("c%02d", i), uint64(i*10+1), start.Add(time.Duration(i)*time.Minute), i%2 == 0)
	}
	jobs := []*autoscore.Job{
		autoscore.New(autoscore.Options{Store: a, Policy: pol, Logger: quiet, Batch: 7}),
		autoscore.New(autoscore.Options{Store: b, Policy: pol, Logger: quiet, Batch: 7}),
	}
	if err := jobs[0].Seed(ctx); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for _, j := range jobs {
		go func() {
			for {
				n, err := j.RunOnce(ctx)
				if err != nil || n == 0 {
					errs <- err
					return
				}
			}
		}()
	}
	for range jobs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Scores(ctx, server.ScoreFilter{})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, s := range got {
		per[s.CallID]++
	}
	if len(got) != calls || len(per) != calls {
		t.Fatalf("%d scores of %d calls, want one each of %d", len(got), len(per), calls)
	}
	if waiting, stuck, err := a.ScoringQueued(ctx); err != nil || waiting != 0 || stuck != 0 {
		t.Fatalf("queue: %d waiting, %d stuck, %v", waiting, stuck, err)
	}
}

// TestAChangedPolicyScorecardIsANewVersionUnlessEditedInTheWorkspace: IT
// deploys a policy whose scorecard changed; its version from the policy
// is followed by a new one, but one a supervisor saved stands.
func TestAChangedPolicyScorecardIsANewVersionUnlessEditedInTheWorkspace(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			pol := testPolicy(t)
			s := openStore(t, d.url(t), pol)
			seed := func(p *policy.Policy) {
				t.Helper()
				if err := autoscore.New(autoscore.Options{Store: s, Policy: p, Logger: quiet}).Seed(ctx); err != nil {
					t.Fatal(err)
				}
			}
			seed(pol)
			seed(pol) // the same policy again: nothing new
			changed := testPolicy(t)
			changed.Scorecards[0].Name = "Customer service (2027)"
			seed(changed)
			v, err := s.ScorecardVersions(ctx, "service")
			if err != nil || len(v) != 2 || v[0].Name != "Customer service (2027)" || v[0].Source != server.ScorecardFromPolicy {
				t.Fatalf("after a changed policy: %+v, %v", v, err)
			}
			body, _ := json.Marshal(changed.Scorecards[0])
			if _, err := s.SaveScorecard(ctx, server.ScorecardVersion{ID: "service", Name: "Edited", Body: body}, "sue", server.ScorecardFromWorkspace); err != nil {
				t.Fatal(err)
			}
			seed(pol)
			if v, _ := s.ScorecardVersions(ctx, "service"); len(v) != 3 || v[0].CreatedBy != "sue" {
				t.Fatalf("the policy replaced a supervisor's scorecard: %+v", v)
			}
		})
	}
}
