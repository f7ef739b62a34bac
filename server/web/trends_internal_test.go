package web

import (
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/scoring"
	"github.com/callguard/callguard/server/trend"
)

func TestTrendsByWeek(t *testing.T) {
	monday := weekStart(time.Date(2026, 3, 4, 12, 0, 0, 0, time.Local)) // a Wednesday
	if monday.Weekday() != time.Monday || monday.Day() != 2 {
		t.Fatalf("week start %v", monday)
	}
	card := policy.Scorecard{ID: "s", Name: "S", Sections: []policy.ScoreSection{{Criteria: []policy.Criterion{{ID: "talk", Name: "Talk"}, {ID: "x", Name: "Unmeasured"}}}}}
	item := func(day int, total float64, status string, talk float64) server.Score {
		points := 0.0
		if status == scoring.StatusPass {
			points = 100
		}
		return server.Score{ScorecardID: "s", ScorecardVersion: 1, CallStarted: monday.AddDate(0, 0, day).Add(9 * time.Hour),
			Summary: server.ScoreSummary{Counted: true, Total: total, Criteria: map[string]float64{"talk": points, "gone": 0},
				Measures: map[string]float64{policy.MeasureTalkRatio: talk}}}
	}
	// As the store buckets them: by week from monday, the one before left out.
	buckets := make([]trend.Bucket, 3)
	for _, sc := range []server.Score{
		item(0, 80, scoring.StatusPass, 40), item(1, 60, scoring.StatusFail, 60), item(6, 100, scoring.StatusPass, 50), // week 1
		item(14, 50, scoring.StatusFail, 20), // week 3
		item(-1, 10, scoring.StatusFail, 0),  // before: left out
	} {
		if i := int(sc.CallStarted.Sub(monday) / (7 * 24 * time.Hour)); sc.CallStarted.After(monday) && i < 3 {
			buckets[i].Add(sc)
		}
	}
	tr := computeTrends(buckets, monday, map[cardVersion]policy.Scorecard{{"s", 1}: card})
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
		t.Fatalf("series: %+v %+v (a criterion never counted, one the card does not have and a measure never measured are left out)", tr.Criteria, tr.Measures)
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
