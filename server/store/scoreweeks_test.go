package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
	"github.com/callguard/callguard/server/trend"
)

// weekly returns n+1 bounds of weeks from the Monday of 2026-03-02 (UTC)
// moved by shift.
func weekly(n int, shift time.Duration) []time.Time {
	first := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Add(shift)
	b := make([]time.Time, n+1)
	for i := range b {
		b[i] = first.AddDate(0, 0, 7*i)
	}
	return b
}

// direct works the buckets out from every score, as the trends did
// before the store kept buckets: the truth ScoreWeeks must equal.
func direct(t *testing.T, s *store.Store, agents map[string]bool, bounds []time.Time) []trend.Bucket {
	t.Helper()
	scores, err := s.Scores(context.Background(), server.ScoreFilter{Current: true, SummaryOnly: true, From: bounds[0], To: bounds[len(bounds)-1]})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]trend.Bucket, len(bounds)-1)
	for _, sc := range trend.Pick(scores) {
		if agents != nil && !agents[sc.Agent] {
			continue
		}
		for i := range out {
			if !sc.CallStarted.Before(bounds[i]) && sc.CallStarted.Before(bounds[i+1]) {
				out[i].Add(sc)
			}
		}
	}
	return out
}

func sameWeeks(t *testing.T, what string, s *store.Store, agents map[string]bool, bounds []time.Time) {
	t.Helper()
	got, err := s.ScoreWeeks(context.Background(), agents, bounds)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if want := direct(t, s, agents, bounds); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: the kept weeks differ from the scores:\n got %+v\nwant %+v", what, got, want)
	}
}

// summarised is an automatic score with a summary whose numbers add up
// exactly in any order (so merged buckets equal directly counted ones).
func summarised(t *testing.T, callID, agent string, version int, at time.Time, total float64) server.Score {
	sc := auto(t, callID, agent, "service", version, total)
	sc.CallStarted = at
	sc.Summary = server.ScoreSummary{Counted: true, Total: total, Criteria: map[string]float64{"talk": total},
		Measures: map[string]float64{"talk_ratio": total / 2, "holds": float64(version)}}
	return sc
}

// TestScoreWeeksFollowEveryChange: the weeks the store keeps equal the
// weeks worked out from every score after each kind of change to a score
// (a new one, an evaluation, a new scorecard version superseding the old,
// a score changed behind the store's back), for one officer, a team and
// everyone, and for weeks of another zone.
func TestScoreWeeksFollowEveryChange(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		bounds := weekly(3, 0)
		olive, owen := map[string]bool{"olive": true}, map[string]bool{"olive": true, "owen": true}
		for i := range 12 {
			agent := []string{"olive", "owen"}[i%2]
			at := bounds[0].Add(time.Duration(i) * 40 * time.Hour)
			id := fmt.Sprintf("c%02d", i)
			if err := s.WriteAutomaticScores(ctx, id, []server.Score{summarised(t, id, agent, 1, at, float64(10*i))}); err != nil {
				t.Fatal(err)
			}
		}
		sameWeeks(t, "first read", s, owen, bounds)
		var kept int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM score_weeks`).Scan(&kept); err != nil || kept != 6 {
			t.Fatalf("kept %d weeks (%v), want 2 officers × 3", kept, err)
		}
		sameWeeks(t, "second read", s, owen, bounds)
		sameWeeks(t, "one officer", s, olive, bounds)
		sameWeeks(t, "everyone", s, nil, bounds)

		// An evaluation counts instead of the automatic score.
		c00, err := s.Scores(ctx, server.ScoreFilter{CallID: "c00"})
		if err != nil || len(c00) != 1 {
			t.Fatal(c00, err)
		}
		clk.Add(time.Minute)
		e := server.Evaluation{Summary: server.ScoreSummary{Counted: true, Total: 0, Criteria: map[string]float64{"talk": 0}, Measures: map[string]float64{"talk_ratio": 99}}}
		if _, err := s.CompleteScore(ctx, c00[0].ID, "sue", e); err != nil {
			t.Fatal(err)
		}
		sameWeeks(t, "after an evaluation", s, owen, bounds)
		// Version 2 of the scorecard re-scores c01 and supersedes version 1.
		if err := s.WriteAutomaticScores(ctx, "c01", []server.Score{summarised(t, "c01", "owen", 2, bounds[0].Add(40*time.Hour), 55)}); err != nil {
			t.Fatal(err)
		}
		sameWeeks(t, "after a re-score", s, owen, bounds)
		// A score changed by hand in the database.
		if _, err := s.DB().ExecContext(ctx, `UPDATE scores SET summary = '{"counted":true,"total":1}' WHERE call_id = 'c02'`); err != nil {
			t.Fatal(err)
		}
		sameWeeks(t, "after an update in the database", s, owen, bounds)
		if _, err := s.DB().ExecContext(ctx, `DELETE FROM scores WHERE call_id = 'c03'`); err != nil {
			t.Fatal(err)
		}
		sameWeeks(t, "after a delete in the database", s, owen, bounds)
		// Weeks of another zone are weeks of their own.
		sameWeeks(t, "weeks an hour later", s, owen, weekly(3, time.Hour))
		sameWeeks(t, "the first weeks again", s, owen, bounds)
		sameWeeks(t, "longer", s, owen, weekly(5, -7*24*time.Hour))

		if got, err := s.ScoreWeeks(ctx, map[string]bool{}, bounds); err != nil || len(got) != 3 || got[0].Scores != 0 {
			t.Errorf("no officer: %+v, %v", got, err)
		}
		if _, err := s.ScoreWeeks(ctx, nil, []time.Time{bounds[1], bounds[0]}); !errors.Is(err, server.ErrInvalid) {
			t.Errorf("bounds out of order: %v", err)
		}
		// The kept weeks are what a read reads: a corrupt one is an error.
		if _, err := s.DB().ExecContext(ctx, `UPDATE score_weeks SET body = `+map[bool]string{true: "$1", false: "?"}[s.Dialect() == store.PostgreSQL], []byte{1, 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ScoreWeeks(ctx, owen, bounds); !errors.Is(err, trend.ErrCorrupt) {
			t.Errorf("a corrupt kept week: %v, want ErrCorrupt", err)
		}
	})
}

// TestAWeekIsNotOvertakenByAScoreWrittenWhileItIsWorkedOut: a read works
// a week out and keeps it in a transaction that stays open while a score
// of that week is written. The write must wait for the read (or the read
// for the write): were the week kept after the write had deleted the stale
// one, it would stay wrong for good.
func TestAWeekIsNotOvertakenByAScoreWrittenWhileItIsWorkedOut(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		bounds := weekly(2, 0)
		agents := map[string]bool{"olive": true}
		if err := s.WriteAutomaticScores(ctx, "c1", []server.Score{summarised(t, "c1", "olive", 1, bounds[0].Add(time.Hour), 40)}); err != nil {
			t.Fatal(err)
		}
		wrote := make(chan error, 1)
		err := s.Tx(ctx, func(ctx context.Context) error {
			if _, err := s.ScoreWeeks(ctx, agents, bounds); err != nil {
				return err
			}
			go func() {
				wrote <- s.WriteAutomaticScores(context.Background(), "c2", []server.Score{summarised(t, "c2", "olive", 1, bounds[0].Add(2*time.Hour), 80)})
			}()
			select {
			case err := <-wrote:
				wrote <- err // the write did not wait
			case <-time.After(300 * time.Millisecond):
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
		sameWeeks(t, "after the write", s, agents, bounds)
	})
}
