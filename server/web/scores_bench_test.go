package web_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/autoscore"
)

// BenchmarkScorePages measures the scoring pages over HTTP, signed in as a
// supervisor, on SQLite: a call's page with its automatic score and an
// evaluation, the scorecards, and the trends of an officer with 5,000
// scored calls over the last 12 weeks. Each reports its p50 and p95 in
// milliseconds.
func BenchmarkScorePages(b *testing.B) {
	r := newRig(b, "", nil, withScoring(b))
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: time.Now().Add(-time.Hour)})
	olive.uploadVoiced("c1")
	r.user("sue", server.RoleSupervisor)
	r.team("north", "olive", "sue")
	auto := r.scored("c1")
	ctx := context.Background()
	st := r.srv.Store()
	if _, _, err := autoscore.Complete(ctx, st, auto.ID, "sue", map[string]string{"empathy": "4", "ethics": "yes"}, nil); err != nil {
		b.Fatal(err)
	}
	const n = 5000
	err := st.Tx(ctx, func(ctx context.Context) error {
		for i := range n {
			sc := auto
			sc.CallID = fmt.Sprintf("seed%05d", i)
			sc.CallStarted = time.Now().Add(-time.Duration(i) * 84 * 24 * time.Hour / n)
			if err := st.WriteAutomaticScores(ctx, sc.CallID, []server.Score{sc}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	sue := r.browser()
	sue.signIn("sue")
	pages := []struct{ name, path string }{
		{"call-with-scores", "/calls/c1"},
		{"scorecards", "/scorecards"},
		{"scorecard", "/scorecards/service"},
		{"trends-officer-12-weeks-5000-calls", "/scores/trends?officer=olive"},
		{"trends-team-12-weeks", "/scores/trends?team=north"},
		{"trends-csv", "/scores/trends.csv?officer=olive"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var times []time.Duration
			for range max(b.N, 20) {
				req, _ := http.NewRequest("GET", r.base+p.path, nil)
				t0 := time.Now()
				resp, err := sue.c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				times = append(times, time.Since(t0))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %s", p.path, resp.Status)
				}
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// BenchmarkTeamTrends measures a team's score trends over HTTP on SQLite:
// 20 officers with 5,000 scored calls each over the last 12 weeks
// (100,000 scores), read by their supervisor as the page and as CSV, the
// first read (which works out the weeks no read has yet) and the read
// after every officer has a new score apart from the reads after them. Each reports its p50 and p95 in milliseconds.
func BenchmarkTeamTrends(b *testing.B) {
	r := newRig(b, "", nil, withScoring(b))
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: time.Now().Add(-time.Hour)})
	olive.uploadVoiced("c1")
	r.user("sue", server.RoleSupervisor)
	auto := r.scored("c1")
	ctx := context.Background()
	st := r.srv.Store()
	const officers, calls = 20, 5000
	rng := rand.New(rand.NewPCG(1, 2))
	team := []string{"sue"}
	for o := range officers {
		agent := fmt.Sprintf("officer%02d", o)
		r.user(agent, server.RoleAgent)
		team = append(team, agent)
		err := st.Tx(ctx, func(ctx context.Context) error {
			for i := range calls {
				sc := auto
				sc.Agent = agent
				sc.CallID = fmt.Sprintf("%s-%05d", agent, i)
				sc.Summary = varied(auto.Summary, rng)
				sc.CallStarted = time.Now().Add(-time.Duration(i) * 84 * 24 * time.Hour / calls)
				if err := st.WriteAutomaticScores(ctx, sc.CallID, []server.Score{sc}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	r.team("north", team...)
	sue := r.browser()
	sue.signIn("sue")
	get := func(b *testing.B, path string) time.Duration {
		req, _ := http.NewRequest("GET", r.base+path, nil)
		t0 := time.Now()
		resp, err := sue.c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %s", path, resp.Status)
		}
		return time.Since(t0)
	}
	first := get(b, "/scores/trends?team=north")
	b.Run("first-read", func(b *testing.B) {
		b.ReportMetric(float64(first.Microseconds())/1000, "ms")
	})
	// A new score of each officer's this week makes their week stale: the
	// read after it works 20 weeks of about 420 scores out again.
	b.Run("after-a-new-score-each", func(b *testing.B) {
		var times []time.Duration
		for n := range max(b.N, 20) {
			for o := range officers {
				sc := auto
				sc.Agent = fmt.Sprintf("officer%02d", o)
				sc.CallID = fmt.Sprintf("%s-new-%d", sc.Agent, n)
				sc.CallStarted = time.Now()
				if err := st.WriteAutomaticScores(ctx, sc.CallID, []server.Score{sc}); err != nil {
					b.Fatal(err)
				}
			}
			times = append(times, get(b, "/scores/trends?team=north"))
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
	})
	for _, path := range []string{"/scores/trends?team=north", "/scores/trends.csv?team=north"} {
		b.Run(path, func(b *testing.B) {
			var times []time.Duration
			for range max(b.N, 20) {
				times = append(times, get(b, path))
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// varied is sum with each measure spread over half to one and a half
// times its value, in 20 ms steps, as calls' measures spread.
func varied(sum server.ScoreSummary, rng *rand.Rand) server.ScoreSummary {
	m := make(map[string]float64, len(sum.Measures))
	for k, v := range sum.Measures {
		m[k] = math.Round(v*(0.5+rng.Float64())*50) / 50
	}
	sum.Measures = m
	return sum
}
