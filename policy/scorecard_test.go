package policy_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

// withScoring returns the default policy with the scorecards section and
// the measures section given as JSON, parsed: the error is Parse's.
func withScoring(t *testing.T, doc string) (*policy.Policy, error) {
	t.Helper()
	base, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return base.Overlay([]byte(doc))
}

const goodCard = `{"scorecards": [{"id": "quality", "name": "Call quality", "categories": [], "sections": [
  {"name": "Conversation", "weight": 60, "criteria": [
    {"id": "talk-ratio", "name": "Talk ratio 30-70 %", "kind": "automatic", "weight": 50, "measure": "talk-ratio", "band": {"min": 30, "max": 70}},
    {"id": "silence", "name": "Longest silence", "kind": "automatic", "weight": 50, "measure": "longest-silence",
     "bands": [{"max": 10, "points": 100}, {"min": 10, "max": 20, "points": 50}]},
    {"id": "notice", "name": "Notice before recording", "kind": "fail-all", "measure": "notice-before-recording"}
  ]},
  {"name": "Service", "weight": 40, "criteria": [
    {"id": "tone", "name": "Tone", "kind": "manual", "weight": 100, "scale": "1-5", "guidance": "Courteous and clear."},
    {"id": "ethics", "name": "Gave no ethical advice", "kind": "fail-all", "scale": "yes-no"}
  ]}]}],
  "measures": {"silence_over": "15s", "targets": [{"category": "default", "target": "6m"}], "payment_categories": ["default"]}}`

func TestAScorecardInThePolicy(t *testing.T) {
	p, err := withScoring(t, goodCard)
	if err != nil {
		t.Fatal(err)
	}
	c := p.ScorecardFor("anything")
	if c == nil || c.ID != "quality" || len(c.Sections) != 2 {
		t.Fatalf("the default card is not found: %+v", c)
	}
	if cr := c.Criterion("silence"); cr == nil || len(cr.Bands) != 2 || cr.Bands[1].Points != 50 {
		t.Errorf("criterion silence: %+v", cr)
	}
	if got := p.Measures.SilenceThreshold().Seconds(); got != 15 {
		t.Errorf("silence threshold %v s, want 15", got)
	}
	if got := p.Measures.Target("default").Minutes(); got != 6 {
		t.Errorf("default target %v min, want 6", got)
	}
	if !p.Measures.PaymentCategory("default") || p.Measures.PaymentCategory("other") {
		t.Error("payment categories are not the policy's")
	}
	var none policy.Measures
	if none.SilenceThreshold() != policy.DefaultSilenceOver || none.Target("default") != 0 {
		t.Error("the measures' defaults are not 10 s and no target")
	}
}

func TestAScorecardNamedForACategoryWinsOverTheDefault(t *testing.T) {
	b, err := assets.ExamplePolicy("council-contact-centre")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if c := p.ScorecardFor("payments-line"); c == nil || c.ID != "payments" {
		t.Errorf("payments line scored by %+v", c)
	}
	p.Scorecards[1].Categories = []string{"default"}
	if c := p.ScorecardFor(""); c == nil || c.ID != "contact-centre" {
		t.Errorf("a call of no retention rule scored by %+v", c)
	}
	if c := p.ScorecardFor("default"); c == nil || c.ID != "contact-centre" {
		t.Errorf("other calls scored by %+v", c)
	}
}

func TestEveryExamplePolicyHasAScorecardThatFits(t *testing.T) {
	for _, name := range assets.ExamplePolicies() {
		p := load(t, name)
		if len(p.Scorecards) == 0 {
			t.Errorf("%s: no scorecard", name)
			continue
		}
		if p.ScorecardFor("default") == nil {
			t.Errorf("%s: no card scores the default category", name)
		}
		for _, c := range p.Scorecards {
			if err := c.Validate(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

func TestBadScorecardsAreRefusedInWords(t *testing.T) {
	card := func(sections string) string {
		return `{"scorecards": [{"id": "q", "name": "Q", "categories": [], "sections": [` + sections + `]}]}`
	}
	auto := func(id string, weight int, extra string) string {
		return `{"id": "` + id + `", "name": "N", "kind": "automatic", "weight": ` + itoa(weight) + `, "measure": "talk-ratio", "band": {"max": 70}` + extra + `}`
	}
	section := func(weight int, criteria ...string) string {
		return `{"name": "S", "weight": ` + itoa(weight) + `, "criteria": [` + strings.Join(criteria, ",") + `]}`
	}
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"sections that add up to 90", card(section(50, auto("a", 100, "")) + "," + section(40, auto("b", 100, ""))),
			[]string{"the sections' weights add up to 90, not 100"}},
		{"criteria that add up to 110", card(section(100, auto("a", 60, ""), auto("b", 50, ""))),
			[]string{"the criteria's weights add up to 110, not 100"}},
		{"an unknown measure", card(section(100, `{"id": "a", "name": "N", "kind": "automatic", "weight": 100, "measure": "politeness", "band": {"max": 1}}`)),
			[]string{`measure "politeness" is not one callguard computes`, "talk-ratio", "longest-silence", "pause-discipline"}},
		{"overlapping bands", card(section(100, `{"id": "a", "name": "N", "kind": "automatic", "weight": 100, "measure": "longest-silence", "bands": [{"max": 20, "points": 100}, {"min": 10, "max": 30, "points": 50}]}`)),
			[]string{"bands[1]: band 10 to 30 overlaps band 0 (at most 20)"}},
		{"a band of one value inside another", card(section(100, `{"id": "a", "name": "N", "kind": "automatic", "weight": 100, "measure": "flags", "bands": [{"min": 0, "max": 2, "points": 100}, {"min": 2, "max": 2, "points": 0}]}`)),
			[]string{"overlaps band 0"}},
		{"a manual criterion without a scale", card(section(100, `{"id": "a", "name": "Tone", "kind": "manual", "weight": 100}`)),
			[]string{`a manual criterion needs a scale: "yes-no" or "1-5"`}},
		{"a criterion id used twice", card(section(50, auto("a", 100, "")) + "," + section(50, auto("a", 100, ""))),
			[]string{`id "a" is used by another criterion of this scorecard`}},
		{"a scorecard id used twice", `{"scorecards": [{"id": "q", "name": "Q", "categories": [], "sections": [` + section(100, auto("a", 100, "")) + `]},{"id": "q", "name": "Q2", "categories": [], "sections": [` + section(100, auto("a", 100, "")) + `]}]}`,
			[]string{`id "q" is used by another scorecard`}},
		{"a fail-all with a weight", card(section(100, auto("a", 100, ""), `{"id": "f", "name": "F", "kind": "fail-all", "weight": 10, "scale": "yes-no"}`)),
			[]string{"a fail-all criterion carries no weight"}},
		{"a fail-all on a 1-5 scale", card(section(100, auto("a", 100, ""), `{"id": "f", "name": "F", "kind": "fail-all", "scale": "1-5"}`)),
			[]string{`a fail-all criterion answered by an evaluator takes scale "yes-no"`}},
		{"an automatic criterion on seconds without a band", card(section(100, `{"id": "a", "name": "N", "kind": "automatic", "weight": 100, "measure": "overtalk"}`)),
			[]string{`measure "overtalk" is in s: give a band`}},
		{"an unknown kind", card(section(100, `{"id": "a", "name": "N", "kind": "keyword", "weight": 100}`)),
			[]string{`kind "keyword" must be automatic, manual or fail-all`}},
		{"an unknown category", `{"scorecards": [{"id": "q", "name": "Q", "categories": ["repairs"], "sections": [` + section(100, auto("a", 100, "")) + `]}]}`,
			[]string{`category "repairs" is not one of the categories`}},
		{"points over 100", card(section(100, `{"id": "a", "name": "N", "kind": "automatic", "weight": 100, "measure": "flags", "bands": [{"max": 0, "points": 150}]}`)),
			[]string{"points 150 must be between 0 and 100"}},
		{"an unknown field", `{"scorecards": [{"id": "q", "name": "Q", "colour": "red", "sections": []}]}`,
			[]string{`unknown field "colour"`}},
		{"a target for an unknown category", `{"measures": {"targets": [{"category": "rent", "target": "5m"}]}}`,
			[]string{`measures.targets[0]: category "rent" is not one of the categories`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := withScoring(t, tc.doc)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestBandsMayShareAnEnd(t *testing.T) {
	_, err := withScoring(t, `{"scorecards": [{"id": "q", "name": "Q", "categories": [], "sections": [{"name": "S", "weight": 100, "criteria": [
	  {"id": "a", "name": "N", "kind": "automatic", "weight": 100, "measure": "longest-silence", "bands": [{"max": 10, "points": 100}, {"min": 10, "max": 20, "points": 50}, {"min": 20, "points": 0}]}]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestAScorecardEditedInTheWorkspaceIsCheckedAgainstThePolicy(t *testing.T) {
	p, err := withScoring(t, goodCard)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Scorecards[0]
	if err := p.ValidateScorecard(c, "quality"); err != nil {
		t.Errorf("the card replacing itself: %v", err)
	}
	if err := p.ValidateScorecard(c, ""); err == nil || !strings.Contains(err.Error(), `id "quality" is used by another scorecard`) {
		t.Errorf("a new card with a used id: %v", err)
	}
	c.ID, c.Categories = "rent", []string{"rent-line"}
	if err := p.ValidateScorecard(c, ""); err == nil || !strings.Contains(err.Error(), `category "rent-line" is not one of the categories (default`) {
		t.Errorf("an unknown category: %v", err)
	}
	c.Categories = nil
	c.Sections = append([]policy.ScoreSection(nil), c.Sections...)
	c.Sections[0].Weight = 70
	if err := p.ValidateScorecard(c, ""); err == nil || !strings.Contains(err.Error(), "add up to 110, not 100") {
		t.Errorf("weights off: %v", err)
	}
}

func TestAScorecardsDigestChangesWithTheCard(t *testing.T) {
	p, err := withScoring(t, goodCard)
	if err != nil {
		t.Fatal(err)
	}
	a := p.Scorecards[0]
	q, _ := withScoring(t, goodCard)
	if a.Digest() != q.Scorecards[0].Digest() {
		t.Error("the same card has two digests")
	}
	b := q.Scorecards[0]
	b.Sections[0].Criteria[0].Band.Max = new(float64)
	*b.Sections[0].Criteria[0].Band.Max = 75
	if a.Digest() == b.Digest() {
		t.Error("a changed band keeps the digest")
	}
}

func TestEveryMeasureHasAUnitAndWords(t *testing.T) {
	names := policy.MeasureNames()
	if len(names) != 18 {
		t.Errorf("%d measures: %v", len(names), names)
	}
	for _, n := range names {
		if policy.MeasureUnit(n) == "" || policy.MeasureLabel(n) == "" {
			t.Errorf("measure %s: unit %q, label %q", n, policy.MeasureUnit(n), policy.MeasureLabel(n))
		}
	}
	if policy.MeasureUnit("politeness") != "" || policy.MeasureLabel("politeness") != "" {
		t.Error("an unknown measure has a unit or words")
	}
}

// The example in docs/supervisors.md ("Scorecards", The format) is a valid
// section of a policy that has a payments line (the council example's).
func TestTheSupervisorsGuidesExampleIsValid(t *testing.T) {
	doc, err := os.ReadFile("../docs/supervisors.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "### The format\n\n```json\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/supervisors.md has no JSON example under The format")
	}
	b, err := assets.ExamplePolicy("council-contact-centre")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.Overlay([]byte("{" + block + "}"))
	if err != nil {
		t.Fatalf("the guide's example: %v", err)
	}
	if len(q.Scorecards) != 1 || q.Measures.SilenceThreshold() != 10*time.Second {
		t.Errorf("the guide's example read as %+v, %+v", q.Scorecards, q.Measures)
	}
}

// An overlay's scorecards replace the policy's whole: a field the new card
// leaves out is not taken from the card it replaces.
func TestAnOverlaysScorecardKeepsNothingOfTheOldOne(t *testing.T) {
	p, err := withScoring(t, goodCard)
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.Overlay([]byte(`{"scorecards": [{"id": "quality", "name": "Call quality", "categories": [], "sections": [
	  {"name": "Only", "weight": 100, "criteria": [{"id": "tone", "name": "Tone", "kind": "manual", "weight": 100, "scale": "yes-no"}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cr := q.Scorecards[0].Sections[0].Criteria[0]
	if cr.Measure != "" || cr.Band != nil || len(cr.Bands) != 0 || cr.Guidance != "" || len(q.Scorecards[0].Sections[0].Criteria) != 1 {
		t.Errorf("the new card kept the old one's fields: %+v", cr)
	}
	if p.Scorecards[0].Sections[0].Criteria[0].Measure != policy.MeasureTalkRatio {
		t.Error("the overlay changed the policy below it")
	}
	_, err = p.Overlay([]byte(`{"scorecards": [{"id": "quality", "name": "Q", "categories": [], "sections": [
	  {"name": "Only", "weight": 100, "criteria": [{"id": "tone", "name": "Tone", "kind": "manual", "weight": 100, "scale": "yes-no", "colour": "red"}]}]}]}`))
	if err == nil || !strings.Contains(err.Error(), `unknown field "colour"`) {
		t.Errorf("an unknown field in a criterion: %v", err)
	}
}
