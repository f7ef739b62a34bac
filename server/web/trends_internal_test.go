package web

import (
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/scoring"
)

func TestMedianAndMean(t *testing.T) {
	for _, c := range []struct {
		in           []float64
		median, mean float64
	}{
		{[]float64{3}, 3, 3},
		{[]float64{5, 1, 3}, 3, 3},
		{[]float64{4, 1, 3, 10}, 3.5, 4.5},
	} {
		if m := median(c.in); m == nil || *m != c.median {
			t.Errorf("median(%v) = %v, want %v", c.in, m, c.median)
		}
		if m := mean(c.in); m == nil || *m != c.mean {
			t.Errorf("mean(%v) = %v, want %v", c.in, m, c.mean)
		}
	}
	if median(nil) != nil || mean(nil) != nil {
		t.Error("nothing has a median or a mean")
	}
}

func TestAnEvaluationCountsInsteadOfTheAutomaticScore(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	later := at.Add(time.Hour)
	got := pickScores([]server.Score{
		{ID: 1, CallID: "c1", ScorecardID: "s"},
		{ID: 2, CallID: "c1", ScorecardID: "s", Evaluator: "sue", Completed: &at},
		{ID: 3, CallID: "c1", ScorecardID: "s", Evaluator: "sid", Completed: &later},
		{ID: 4, CallID: "c2", ScorecardID: "s"},
	})
	if len(got) != 2 || got[0].ID != 3 || got[1].ID != 4 {
		t.Fatalf("picked %+v, want the latest evaluation of c1 and c2's automatic score", got)
	}
}

func TestTrendsByWeek(t *testing.T) {
	monday := weekStart(time.Date(2026, 3, 4, 12, 0, 0, 0, time.Local)) // a Wednesday
	if monday.Weekday() != time.Monday || monday.Day() != 2 {
		t.Fatalf("week start %v", monday)
	}
	card := policy.Scorecard{ID: "s", Name: "S", Sections: []policy.ScoreSection{{Criteria: []policy.Criterion{{ID: "talk", Name: "Talk"}, {ID: "x", Name: "Unmeasured"}}}}}
	item := func(day int, total float64, status string, talk float64) scored {
		points := 0.0
		if status == scoring.StatusPass {
			points = 100
		}
		return scored{
			score: server.Score{ScorecardID: "s", CallStarted: monday.AddDate(0, 0, day).Add(9 * time.Hour),
				Summary: server.ScoreSummary{Counted: true, Total: total, Criteria: map[string]float64{"talk": points},
					Measures: map[string]float64{policy.MeasureTalkRatio: talk}}},
			card: card,
		}
	}
	tr := computeTrends([]scored{
		item(0, 80, scoring.StatusPass, 40), item(1, 60, scoring.StatusFail, 60), item(6, 100, scoring.StatusPass, 50), // week 1
		item(14, 50, scoring.StatusFail, 20), // week 3
		item(-1, 10, scoring.StatusFail, 0),  // before: left out
	}, monday, 3)
	if len(tr.Weeks) != 3 || tr.Weeks[0].Scores != 3 || tr.Weeks[1].Scores != 0 || tr.Weeks[2].Scores != 1 {
		t.Fatalf("weeks: %+v", tr.Weeks)
	}
	w1 := tr.Weeks[0]
	if *w1.Average != 80 || *w1.Criteria["s/talk"] != 100*2.0/3 || *w1.Medians[policy.MeasureTalkRatio] != 50 {
		t.Fatalf("week 1: average %v, talk %v, median %v", *w1.Average, *w1.Criteria["s/talk"], *w1.Medians[policy.MeasureTalkRatio])
	}
	if tr.Weeks[1].Average != nil || tr.Weeks[1].Criteria["s/talk"] != nil {
		t.Fatalf("an empty week has values: %+v", tr.Weeks[1])
	}
	if len(tr.Criteria) != 1 || tr.Criteria[0].Key != "s/talk" || len(tr.Measures) != 1 {
		t.Fatalf("series: %+v %+v (a criterion never counted and a measure never measured are left out)", tr.Criteria, tr.Measures)
	}
}

func TestTheChartIsEscapedAndBreaksAtEmptyWeeks(t *testing.T) {
	v := func(f float64) *float64 { return &f }
	svg := string(chart{Title: `<script>"x"`, Labels: []string{"a", "b", "c", "d"}, Values: []*float64{v(10), v(20), nil, v(30)}, Max: 100, Unit: "%"}.SVG())
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "&lt;script&gt;") {
		t.Fatalf("the title is not escaped: %s", svg)
	}
	if n := strings.Count(svg, "<polyline"); n != 1 {
		t.Errorf("%d lines, want 1 (a lone point after the gap has no line)", n)
	}
	if n := strings.Count(svg, "<circle"); n != 3 {
		t.Errorf("%d points, want 3", n)
	}
	if strings.Contains(svg, "style=") {
		t.Error("a style attribute, which the page's Content-Security-Policy refuses")
	}
}
