package web_test

import (
	"context"
	"fmt"
	"io"
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
