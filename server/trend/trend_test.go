package trend_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/trend"
)

func TestAnEvaluationCountsInsteadOfTheAutomaticScore(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	later := at.Add(time.Hour)
	got := trend.Pick([]server.Score{
		{ID: 1, CallID: "c1", ScorecardID: "s"},
		{ID: 2, CallID: "c1", ScorecardID: "s", Evaluator: "sue", Completed: &at},
		{ID: 3, CallID: "c1", ScorecardID: "s", Evaluator: "sid", Completed: &later},
		{ID: 4, CallID: "c2", ScorecardID: "s"},
	})
	if len(got) != 2 || got[0].ID != 3 || got[1].ID != 4 {
		t.Fatalf("picked %+v, want the latest evaluation of c1 and c2's automatic score", got)
	}
}

func exactMedian(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func TestMediansOfEqualValuesAreExact(t *testing.T) {
	for _, c := range [][]float64{{3}, {5, 1, 3}, {4, 1, 3, 10}, {0, 0, 7}, {-2, -1, 0, 1}, {0.02, 0.04}, {120, 121.5, 119}} {
		var h trend.Histogram
		for _, v := range c {
			h.Add(v)
		}
		want := exactMedian(c)
		got := h.Median()
		if got == nil || math.Abs(*got-want) > trend.RelativeError*math.Abs(want) {
			t.Errorf("median of %v = %v, want %v", c, got, want)
		}
		if len(c) < 5 && c[0] != 120 && *got != want {
			t.Errorf("median of %v = %v, want exactly %v (no two values share a bin)", c, *got, want)
		}
	}
	var empty trend.Histogram
	if empty.Median() != nil {
		t.Error("nothing has a median")
	}
	empty.Add(math.NaN())
	empty.Add(math.Inf(1))
	if empty.Count() != 0 {
		t.Error("NaN and infinity were counted")
	}
}

// TestMergedMediansAreWithinTheirBound: officers' weeks of random values,
// merged, give the team's median within RelativeError of the exact one,
// for the shapes measures have (seconds, ratios, small counts).
func TestMergedMediansAreWithinTheirBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := map[string]func() float64{
		"seconds":   func() float64 { return math.Round(rng.ExpFloat64()*180*50) / 50 },
		"ratio":     func() float64 { return 30 + rng.Float64()*40 },
		"count":     func() float64 { return float64(rng.IntN(6)) },
		"lognormal": func() float64 { return math.Exp(rng.NormFloat64() * 2) },
	}
	for name, draw := range shapes {
		for trial := range 50 {
			var team trend.Histogram
			var all []float64
			for range 1 + rng.IntN(20) {
				var officer trend.Histogram
				for range 1 + rng.IntN(400) {
					v := draw()
					officer.Add(v)
					all = append(all, v)
				}
				team.Merge(&officer)
			}
			want := exactMedian(all)
			got := *team.Median()
			if math.Abs(got-want) > trend.RelativeError*math.Abs(want)+1e-12 {
				t.Fatalf("%s trial %d: median %v of %d values, want %v within %.0f %%", name, trial, got, len(all), want, 100*trend.RelativeError)
			}
			if team.Count() != int64(len(all)) {
				t.Fatalf("%s: counted %d of %d", name, team.Count(), len(all))
			}
		}
	}
}

func bucketOf(scores ...server.Score) *trend.Bucket {
	var b trend.Bucket
	for _, s := range scores {
		b.Add(s)
	}
	return &b
}

func score(total float64, counted bool, crit map[string]float64, talk float64) server.Score {
	return server.Score{ScorecardID: "s", ScorecardVersion: 2, Summary: server.ScoreSummary{
		Counted: counted, Total: total, Criteria: crit, Measures: map[string]float64{"talk_ratio": talk, "holds": 1},
	}}
}

func TestBucketsMergeAsOne(t *testing.T) {
	a := []server.Score{score(80, true, map[string]float64{"talk": 100}, 40), score(60, true, map[string]float64{"talk": 0}, 60)}
	b := []server.Score{score(0, false, nil, 50), score(100, true, map[string]float64{"talk": 100, "greet": 50}, 55)}
	merged := bucketOf(a...)
	merged.Merge(bucketOf(b...))
	whole := bucketOf(append(a, b...)...)
	if !reflect.DeepEqual(merged, whole) {
		t.Fatalf("merged %+v, want %+v", merged, whole)
	}
	if whole.Scores != 4 || *whole.Totals.Mean() != 80 {
		t.Errorf("scores %d, mean %v: the uncounted score's total counted", whole.Scores, *whole.Totals.Mean())
	}
	if c := whole.Criteria[trend.Criterion{Scorecard: "s", Version: 2, ID: "talk"}]; c.N != 3 || *c.Mean() != 200.0/3 {
		t.Errorf("talk: %+v", c)
	}
	if m := *whole.Measures["talk_ratio"].Median(); m != 52.5 {
		t.Errorf("talk ratio median %v, want 52.5", m)
	}
}

func TestABucketEncodesAndDecodes(t *testing.T) {
	b := bucketOf(score(80, true, map[string]float64{"talk": 100}, 40), score(61.5, true, map[string]float64{"talk": 0, "x": 50}, -3))
	b.Merge(bucketOf(score(0, false, nil, 0)))
	p, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back trend.Bucket
	if err := back.UnmarshalBinary(p); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, b) {
		t.Fatalf("decoded %+v, want %+v", back, *b)
	}
	q, _ := back.MarshalBinary()
	if !slices.Equal(p, q) {
		t.Error("a bucket encodes differently the second time")
	}
	var empty trend.Bucket
	e, _ := empty.MarshalBinary()
	if err := back.UnmarshalBinary(e); err != nil || back.Scores != 0 || back.Criteria != nil || back.Measures != nil {
		t.Errorf("an empty bucket: %+v %v", back, err)
	}
}

// TestACorruptBucketIsAnError: every truncation, and every byte flipped,
// of an encoded bucket decodes to an error or to some bucket, never a
// panic; the truncations are all errors.
func TestACorruptBucketIsAnError(t *testing.T) {
	b := bucketOf(score(80, true, map[string]float64{"talk": 100}, 40), score(60, true, map[string]float64{"talk": 0}, 60))
	p, _ := b.MarshalBinary()
	for i := range p {
		var back trend.Bucket
		if err := back.UnmarshalBinary(p[:i]); !errors.Is(err, trend.ErrCorrupt) {
			t.Errorf("%d of %d bytes: %v, want ErrCorrupt", i, len(p), err)
		}
		q := slices.Clone(p)
		q[i] ^= 0xff
		_ = back.UnmarshalBinary(q)
	}
	var back trend.Bucket
	if err := back.UnmarshalBinary(append(slices.Clone(p), 0)); !errors.Is(err, trend.ErrCorrupt) {
		t.Errorf("a trailing byte: %v", err)
	}
}
