package scoring_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server/scoring"
)

func f(v float64) *float64 { return &v }

// card: Conversation (60): talk ratio 30–70 (50), longest silence graded
// (50: ≤10 s 100 points, 10–20 s 50 points), notice fail-all; Service (40):
// tone 1-5 (60), resolved yes-no (40), ethics fail-all manual.
func card() policy.Scorecard {
	return policy.Scorecard{ID: "quality", Name: "Call quality", Sections: []policy.ScoreSection{
		{Name: "Conversation", Weight: 60, Criteria: []policy.Criterion{
			{ID: "ratio", Name: "Talk ratio", Kind: policy.CriterionAutomatic, Weight: 50, Measure: policy.MeasureTalkRatio, Band: &policy.Band{Min: f(30), Max: f(70)}},
			{ID: "silence", Name: "Longest silence", Kind: policy.CriterionAutomatic, Weight: 50, Measure: policy.MeasureLongestSilence,
				Bands: []policy.PointsBand{{Max: f(10), Points: 100}, {Min: f(10), Max: f(20), Points: 50}}},
			{ID: "notice", Name: "Notice before recording", Kind: policy.CriterionFailAll, Measure: policy.MeasureNoticeGiven},
		}},
		{Name: "Service", Weight: 40, Criteria: []policy.Criterion{
			{ID: "tone", Name: "Tone", Kind: policy.CriterionManual, Weight: 60, Scale: policy.ScaleOneToFive},
			{ID: "resolved", Name: "Resolved", Kind: policy.CriterionManual, Weight: 40, Scale: policy.ScaleYesNo},
			{ID: "ethics", Name: "Gave no ethical advice", Kind: policy.CriterionFailAll, Scale: policy.ScaleYesNo},
		}},
	}}
}

func measured(vals map[string]float64) scoring.Measures {
	ms := scoring.Measures{}
	for _, n := range policy.MeasureNames() {
		if v, ok := vals[n]; ok {
			ms[n] = scoring.Measure{Name: n, Measured: true, Value: v, Unit: policy.MeasureUnit(n)}
		} else {
			ms[n] = scoring.Measure{Name: n, Unit: policy.MeasureUnit(n), NotMeasured: "not in this test"}
		}
	}
	return ms
}

func crit(t *testing.T, r scoring.Result, id string) scoring.CriterionResult {
	t.Helper()
	for _, s := range r.Sections {
		for _, c := range s.Criteria {
			if c.ID == id {
				return c
			}
		}
	}
	t.Fatalf("criterion %s is not in the result", id)
	return scoring.CriterionResult{}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAScoreWeighsSectionsAndCriteria(t *testing.T) {
	ms := measured(map[string]float64{policy.MeasureTalkRatio: 55, policy.MeasureLongestSilence: 14, policy.MeasureNoticeGiven: 1})
	r := scoring.Score(card(), 3, ms, scoring.Answers{
		"tone": {Value: "4"}, "resolved": {Value: "no"}, "ethics": {Value: "yes"},
	})
	// Conversation: (50×100 + 50×50)/100 = 75. Service: (60×75 + 40×0)/100 = 45.
	// Total: (60×75 + 40×45)/100 = 63.
	if r.Scorecard != "quality" || r.Version != 3 {
		t.Errorf("card %s version %d", r.Scorecard, r.Version)
	}
	if !near(r.Sections[0].Score, 75) || !near(r.Sections[1].Score, 45) || !near(r.Total, 63) || !r.Counted {
		t.Errorf("sections %v and %v, total %v; want 75, 45, 63", r.Sections[0].Score, r.Sections[1].Score, r.Total)
	}
	if !r.Complete || len(r.FailedBy) != 0 || len(r.Problems) != 0 {
		t.Errorf("complete %v, failed by %v, problems %v", r.Complete, r.FailedBy, r.Problems)
	}
	if c := crit(t, r, "silence"); c.Status != scoring.StatusPoints || c.Points != 50 || *c.Value != 14 || c.Unit != "s" {
		t.Errorf("silence: %+v", c)
	}
	if c := crit(t, r, "ratio"); c.Status != scoring.StatusPass || c.Points != 100 {
		t.Errorf("ratio: %+v", c)
	}
}

func TestBandsAndTheirEnds(t *testing.T) {
	for _, tc := range []struct {
		silence float64
		status  string
		points  float64
	}{
		{0, scoring.StatusPoints, 100}, {10, scoring.StatusPoints, 100}, {10.02, scoring.StatusPoints, 50},
		{20, scoring.StatusPoints, 50}, {20.02, scoring.StatusFail, 0},
	} {
		r := scoring.Score(card(), 1, measured(map[string]float64{policy.MeasureLongestSilence: tc.silence}), nil)
		if c := crit(t, r, "silence"); c.Status != tc.status || c.Points != tc.points {
			t.Errorf("silence %v s: %s %v, want %s %v", tc.silence, c.Status, c.Points, tc.status, tc.points)
		}
	}
	for _, tc := range []struct {
		ratio float64
		want  string
	}{{29.9, scoring.StatusFail}, {30, scoring.StatusPass}, {70, scoring.StatusPass}, {70.1, scoring.StatusFail}} {
		r := scoring.Score(card(), 1, measured(map[string]float64{policy.MeasureTalkRatio: tc.ratio}), nil)
		if c := crit(t, r, "ratio"); c.Status != tc.want {
			t.Errorf("ratio %v: %s, want %s", tc.ratio, c.Status, tc.want)
		}
	}
}

func TestNotMeasuredIsLeftOutNeverZero(t *testing.T) {
	// An older desktop: no timeline, so neither ratio nor silence.
	ms := measured(map[string]float64{policy.MeasureNoticeGiven: 1})
	r := scoring.Score(card(), 1, ms, scoring.Answers{"tone": {Value: "5"}, "resolved": {Value: "yes"}, "ethics": {Value: "yes"}})
	for _, id := range []string{"ratio", "silence"} {
		if c := crit(t, r, id); c.Status != scoring.StatusNotMeasured || c.NotMeasured != "not in this test" || c.Value != nil {
			t.Errorf("%s: %+v", id, c)
		}
	}
	if r.Sections[0].Counted {
		t.Errorf("a section with nothing measured counted: %+v", r.Sections[0])
	}
	// Only Service counts: 100.
	if !near(r.Total, 100) {
		t.Errorf("total %v, want 100 (Service alone)", r.Total)
	}
	// One of two criteria measured: the section is that criterion's.
	ms = measured(map[string]float64{policy.MeasureTalkRatio: 80, policy.MeasureNoticeGiven: 1})
	r = scoring.Score(card(), 1, ms, nil)
	if !near(r.Sections[0].Score, 0) || !r.Sections[0].Counted || r.Complete {
		t.Errorf("conversation %+v, complete %v", r.Sections[0], r.Complete)
	}
	if r.Sections[1].Counted || !near(r.Total, 0) || !r.Counted {
		t.Errorf("total %v counted %v, service %+v", r.Total, r.Counted, r.Sections[1])
	}
	// Nothing at all counts yet.
	r = scoring.Score(card(), 1, measured(nil), nil)
	if r.Counted || r.Total != 0 {
		t.Errorf("nothing measured or answered: total %v counted %v", r.Total, r.Counted)
	}
	if c := crit(t, r, "notice"); c.Status != scoring.StatusNotMeasured || len(r.FailedBy) != 0 {
		t.Errorf("a fail-all not measured failed the call: %+v, %v", c, r.FailedBy)
	}
}

func TestAFailAllZeroesTheTotal(t *testing.T) {
	good := measured(map[string]float64{policy.MeasureTalkRatio: 50, policy.MeasureLongestSilence: 3, policy.MeasureNoticeGiven: 1})
	all := scoring.Answers{"tone": {Value: "5"}, "resolved": {Value: "yes"}, "ethics": {Value: "yes"}}
	if r := scoring.Score(card(), 1, good, all); !near(r.Total, 100) {
		t.Fatalf("a perfect call: %v", r.Total)
	}
	all["ethics"] = scoring.Answer{Value: "no", Reason: "advised on a client's therapy", By: "sue"}
	r := scoring.Score(card(), 1, good, all)
	if r.Total != 0 || !r.Counted || len(r.FailedBy) != 1 || r.FailedBy[0] != "ethics" {
		t.Errorf("manual fail-all: total %v, failed by %v", r.Total, r.FailedBy)
	}
	if !near(r.Sections[0].Score, 100) {
		t.Errorf("the sections keep their scores: %v", r.Sections[0].Score)
	}
	all["ethics"] = scoring.Answer{Value: "na"}
	noNotice := measured(map[string]float64{policy.MeasureTalkRatio: 50, policy.MeasureLongestSilence: 3, policy.MeasureNoticeGiven: 0})
	r = scoring.Score(card(), 1, noNotice, all)
	if r.Total != 0 || len(r.FailedBy) != 1 || r.FailedBy[0] != "notice" || crit(t, r, "ethics").Status != scoring.StatusNA {
		t.Errorf("automatic fail-all: total %v, failed by %v", r.Total, r.FailedBy)
	}
}

func TestAnOverrideKeepsTheAutomaticAnswerAndItsReason(t *testing.T) {
	ms := measured(map[string]float64{policy.MeasureTalkRatio: 85, policy.MeasureLongestSilence: 3, policy.MeasureNoticeGiven: 0})
	r := scoring.Score(card(), 1, ms, scoring.Answers{
		"ratio":  {Value: "yes", Reason: "the caller needed step-by-step instructions", By: "sue"},
		"notice": {Value: "na", Reason: "a call back the caller asked for; notice given on the first call", By: "sue"},
	})
	c := crit(t, r, "ratio")
	if c.Status != scoring.StatusPass || c.Automatic != scoring.StatusFail || !c.Overridden || c.By != "sue" ||
		!strings.Contains(c.Reason, "step-by-step") || *c.Value != 85 {
		t.Errorf("ratio overridden: %+v", c)
	}
	if len(r.FailedBy) != 0 || !near(r.Sections[0].Score, 100) {
		t.Errorf("overridden fail-all still fails: %v, section %v", r.FailedBy, r.Sections[0].Score)
	}
	// Without a reason the override is refused and the automatic answer stands.
	r = scoring.Score(card(), 1, ms, scoring.Answers{"ratio": {Value: "yes"}})
	if c := crit(t, r, "ratio"); c.Status != scoring.StatusFail || c.Overridden {
		t.Errorf("an override without a reason was taken: %+v", c)
	}
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "say why") {
		t.Errorf("problems %v", r.Problems)
	}
}

func TestBadAnswersAreRefusedInWords(t *testing.T) {
	ans := scoring.Answers{
		"tone":     {Value: "7"},
		"resolved": {Value: "maybe"},
		"nope":     {Value: "yes"},
		"silence":  {Value: "3", Reason: "x"},
		"ethics":   {Value: "yes"},
	}
	err := scoring.CheckAnswers(card(), ans)
	if !errors.Is(err, scoring.ErrBadAnswer) {
		t.Fatalf("CheckAnswers: %v", err)
	}
	for _, w := range []string{`Tone: answer 1 to 5, or not applicable, not "7"`, `Resolved: answer yes, no or not applicable, not "maybe"`,
		`"nope" is not a criterion`, "Longest silence: an automatic answer is overridden with yes, no or not applicable"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
	r := scoring.Score(card(), 1, measured(nil), ans)
	if len(r.Problems) != 4 || r.Complete || crit(t, r, "tone").Status != scoring.StatusUnanswered || crit(t, r, "ethics").Status != scoring.StatusPass {
		t.Errorf("problems %v, complete %v", r.Problems, r.Complete)
	}
	if _, ok := ans["tone"]; !ok {
		t.Error("Score changed the caller's answers")
	}
	if err := scoring.CheckAnswers(card(), scoring.Answers{"tone": {Value: "1"}, "resolved": {Value: "na"}}); err != nil {
		t.Errorf("good answers refused: %v", err)
	}
}

func TestCompleteWhenEveryManualCriterionIsAnswered(t *testing.T) {
	ms := measured(map[string]float64{policy.MeasureTalkRatio: 50})
	for _, tc := range []struct {
		ans  scoring.Answers
		want bool
	}{
		{nil, false},
		{scoring.Answers{"tone": {Value: "3"}, "resolved": {Value: "yes"}}, false},
		{scoring.Answers{"tone": {Value: "na"}, "resolved": {Value: "na"}, "ethics": {Value: "na"}}, true},
		{scoring.Answers{"tone": {Value: "1"}, "resolved": {Value: "no"}, "ethics": {Value: "yes"}}, true},
	} {
		if r := scoring.Score(card(), 1, ms, tc.ans); r.Complete != tc.want {
			t.Errorf("%v: complete %v, want %v", tc.ans, r.Complete, tc.want)
		}
	}
	// 1–5 is 0, 25, 50, 75, 100 points.
	for n, want := range map[string]float64{"1": 0, "2": 25, "3": 50, "4": 75, "5": 100} {
		if c := crit(t, scoring.Score(card(), 1, ms, scoring.Answers{"tone": {Value: n}}), "tone"); c.Points != want || c.Status != scoring.StatusPoints {
			t.Errorf("tone %s: %+v", n, c)
		}
	}
}

func TestEveryExamplePolicysCardScoresAComputedCall(t *testing.T) {
	m, call, events := knownCall("inbound")
	for _, name := range []string{"bacp-membership", "council-contact-centre", "county-council-dpia", "housing-association", "housing-inbound-only"} {
		p := examplePolicy(t, name)
		ms := scoring.Compute(m, call, events, p)
		for _, c := range p.Scorecards {
			r := scoring.Score(c, 1, ms, nil)
			if len(r.Problems) != 0 || r.Complete {
				t.Errorf("%s/%s: problems %v, complete %v with nothing answered", name, c.ID, r.Problems, r.Complete)
			}
			if r.Total < 0 || r.Total > 100 {
				t.Errorf("%s/%s: total %v", name, c.ID, r.Total)
			}
		}
	}
}

// An older desktop's recording (no timeline) is scored on the events: the
// timeline's criteria are shown not measured and left out, never 0.
func TestARecordingWithoutATimelineIsScoredOnItsEvents(t *testing.T) {
	p := examplePolicy(t, "bacp-membership")
	card := *p.ScorecardFor("default")
	m, call, events := knownCall("inbound")
	with := scoring.Score(card, 1, scoring.Compute(m, call, events, p), nil)
	m.Voice = nil
	without := scoring.Score(card, 1, scoring.Compute(m, call, events, p), nil)
	for _, id := range []string{"talk-ratio", "dead-air", "overtalk"} {
		if c := crit(t, without, id); c.Status != scoring.StatusNotMeasured || c.NotMeasured != scoring.ErrNoTimeline.Error() {
			t.Errorf("%s without a timeline: %+v", id, c)
		}
		if c := crit(t, with, id); c.Status == scoring.StatusNotMeasured {
			t.Errorf("%s with a timeline: %+v", id, c)
		}
	}
	// The call was flagged once (no-flags fails) and lasted 55 s (within
	// the 8-minute target): Data protection 0 of what counts, Service 100.
	if c := crit(t, without, "no-flags"); c.Status != scoring.StatusFail {
		t.Errorf("no-flags: %+v", c)
	}
	if c := crit(t, without, "duration"); c.Status != scoring.StatusPoints || c.Points != 100 {
		t.Errorf("duration: %+v", c)
	}
	if without.Sections[1].Counted {
		t.Errorf("Conversation counted with nothing measured: %+v", without.Sections[1])
	}
	// Sections that count: Data protection (30) at 0, Service (40) at 100.
	if !near(without.Total, 100*40.0/70) {
		t.Errorf("total %v, want %v", without.Total, 100*40.0/70)
	}
}
