package autoscore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/autoscore"
	"github.com/callguard/callguard/server/scoring"
)

// tenMinutes is a ten-minute call's timeline: turns of 5 s, each overlapping
// the last by 0.4 s, and a 30 s silence in the middle.
func tenMinutes() *artefact.Voice {
	const frames = 30_000
	var officer, caller [][2]int
	for f, turn := 0, 0; f < frames; f, turn = f+250, turn+1 {
		if f >= 15_000 && f < 16_500 {
			continue
		}
		span := [2]int{max(0, f-20), min(frames, f+250)}
		if turn%2 == 0 {
			officer = append(officer, span)
		} else {
			caller = append(caller, span)
		}
	}
	return &artefact.Voice{FrameMS: 20, Officer: runs(frames, officer...), Caller: runs(frames, caller...)}
}

// BenchmarkScoreACall is the server's cost of one ten-minute call's
// measures and score, without the database.
func BenchmarkScoreACall(b *testing.B) {
	pol := testPolicy(b)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	end := start.Add(10 * time.Minute)
	m := &artefact.Manifest{Started: start, Ended: &end, DurationMS: 600_000, CallerPresent: true, Channels: 2, Voice: tenMinutes()}
	call := server.Call{ID: "c1", Agent: "olive", Direction: "inbound", Started: start, Answered: &start, Ended: &end, Recorded: true, Notice: "announced"}
	card := pol.Scorecards[0]
	b.ReportAllocs()
	for b.Loop() {
		a := autoscore.Automatic{Measures: scoring.Compute(m, call, nil, pol)}
		a.Result = scoring.Score(card, 1, a.Measures, nil)
		if _, err := json.Marshal(a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBackfill scores again, on SQLite, every call of a database of
// 2,000 ten-minute calls after a scorecard's new version, as the job does
// (read the manifest, the call and its events, score, write, take it off
// the queue), and reports the cost per call; a backfill of 100,000 calls
// costs 50 times one iteration.
func BenchmarkBackfill(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { backfill(b, "sqlite:"+filepath.Join(b.TempDir(), "cg.db")) })
	b.Run("postgres", func(b *testing.B) { backfill(b, testrig.PostgreSQL(b)) })
}

func backfill(b *testing.B, url string) {
	const calls = 2000
	ctx := context.Background()
	pol := testPolicy(b)
	s := openStore(b, url, pol)
	job := autoscore.New(autoscore.Options{Store: s, Policy: pol, Logger: quiet, Batch: 500})
	if err := job.Seed(ctx); err != nil {
		b.Fatal(err)
	}
	voice, _ := json.Marshal(tenMinutes())
	p := agent(b, s, "olive")
	start := time.Now().Add(-30 * 24 * time.Hour).UTC().Truncate(time.Second)
	for i := range calls {
		id := arrive(b, s, p, fmt.Sprintf("c%05d", i), uint64(i*10+1), start.Add(time.Duration(i)*10*time.Minute), false)
		// The ten-minute timeline in place of the test's two minutes.
		q := `UPDATE recordings SET manifest = json_set(manifest, '$.voice', json(?)) WHERE call_id = ?`
		if s.Dialect() == "postgres" {
			q = `UPDATE recordings SET manifest = jsonb_set(manifest::jsonb, '{voice}', $1::jsonb)::text WHERE call_id = $2`
		}
		if _, err := s.DB().ExecContext(ctx, q, string(voice), id); err != nil {
			b.Fatal(err)
		}
	}
	drain := func() {
		for {
			n, err := job.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}
	drain()
	body := mustReadB(b, "testdata/service.json")
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.SaveScorecard(ctx, server.ScorecardVersion{ID: "service", Name: "Customer service", Body: body}, "mia", server.ScorecardFromWorkspace); err != nil {
			b.Fatal(err)
		}
		drain()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*calls), "µs/call")
}
