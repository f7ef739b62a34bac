package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Scorecard is a manager's evaluation form for calls: sections of
// criteria, each weighted. The server scores every recorded call of its
// categories by it, automatically where a criterion names a measure, and a
// supervisor answers the manual criteria (server/scoring). A score records
// the scorecard's version; the version is the server's, not the policy's.
type Scorecard struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Categories are the call categories (retention rule ids, or
	// "default") the card scores; empty scores every category, and is then
	// the default card, used for a call no other card names.
	Categories []string       `json:"categories"`
	Sections   []ScoreSection `json:"sections"`
}

// UnmarshalJSON replaces the whole scorecard. encoding/json decodes a
// list into the elements already there, so an overlay's card would keep
// the fields its JSON leaves out (a weight, a band) from the card it
// replaces; a strict decoder of its own also keeps unknown fields refused.
func (c *Scorecard) UnmarshalJSON(b []byte) error {
	type plain Scorecard
	var v plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("scorecard: %w", err)
	}
	*c = Scorecard(v)
	return nil
}

// ScoreSection is one weighted part of a scorecard. The sections'
// weights add up to 100.
type ScoreSection struct {
	Name     string      `json:"name"`
	Weight   int         `json:"weight"`
	Criteria []Criterion `json:"criteria"`
}

// Criterion kinds (Criterion.Kind).
const (
	// CriterionAutomatic is answered by the server from a measure.
	CriterionAutomatic = "automatic"
	// CriterionManual is answered by an evaluator on its scale.
	CriterionManual = "manual"
	// CriterionFailAll zeroes the whole score when it fails: answered by
	// an evaluator (yes-no), or by a measure when it names one.
	CriterionFailAll = "fail-all"
)

// Manual scales (Criterion.Scale).
const (
	// ScaleYesNo is yes, no or not applicable.
	ScaleYesNo = "yes-no"
	// ScaleOneToFive is 1 (poor) to 5 (excellent), or not applicable.
	ScaleOneToFive = "1-5"
)

// Criterion is one question of a scorecard. Its weight is its share of the
// section (the criteria's weights add up to 100); a fail-all criterion
// carries no weight.
type Criterion struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Weight int    `json:"weight,omitempty"`
	Kind   string `json:"kind"`
	// Measure names what an automatic (or automatic fail-all) criterion is
	// computed from: one of MeasureNames.
	Measure string `json:"measure,omitempty"`
	// Band is where the measure's value passes (either end optional; both
	// ends included). A yes-no measure without a band passes on yes.
	Band *Band `json:"band,omitempty"`
	// Bands grade the value instead: the points (0–100 % of the weight)
	// of the band it falls in, none when it falls in no band. Bands must
	// not overlap.
	Bands []PointsBand `json:"bands,omitempty"`
	// Scale is how a manual criterion is answered: ScaleYesNo or
	// ScaleOneToFive.
	Scale string `json:"scale,omitempty"`
	// Guidance tells the evaluator what to listen for.
	Guidance string `json:"guidance,omitempty"`
}

// Band is a range of a measure's values, ends included; a nil end is open.
type Band struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
}

// Contains reports whether v lies in the band.
func (b Band) Contains(v float64) bool {
	return (b.Min == nil || v >= *b.Min) && (b.Max == nil || v <= *b.Max)
}

// String is the band in words, e.g. "30 to 70", "at most 20", "at least 1".
func (b Band) String() string {
	switch {
	case b.Min != nil && b.Max != nil:
		return fmt.Sprintf("%g to %g", *b.Min, *b.Max)
	case b.Max != nil:
		return fmt.Sprintf("at most %g", *b.Max)
	case b.Min != nil:
		return fmt.Sprintf("at least %g", *b.Min)
	}
	return "any value"
}

// PointsBand is one band of a graded criterion and the points (0–100, a
// percentage of the criterion's weight) a value in it earns.
type PointsBand struct {
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Points float64  `json:"points"`
}

// Band returns the band's range.
func (b PointsBand) Band() Band { return Band{Min: b.Min, Max: b.Max} }

// The measures the server computes for a call (server/scoring, and
// docs/supervisors.md for each exact definition).
const (
	MeasureTalkOfficer           = "talk-officer"            // s the officer's channel was voiced
	MeasureTalkCaller            = "talk-caller"             // s the caller's channel was voiced
	MeasureTalkRatio             = "talk-ratio"              // officer's share of all talk, %
	MeasureOvertalk              = "overtalk"                // s both voiced at once
	MeasureOvertalkCount         = "overtalk-count"          // stretches both voiced at once
	MeasureLongestSilence        = "longest-silence"         // s, the longest stretch neither voiced, pauses left out
	MeasureSilencesOver          = "silences-over"           // silences longer than measures.silence_over
	MeasureTimeToAnswer          = "time-to-answer"          // s from ringing to answer
	MeasureHold                  = "hold"                    // s on hold
	MeasurePauses                = "pauses"                  // pauses (not hold)
	MeasurePaused                = "paused"                  // s paused (not hold)
	MeasureNoticeGiven           = "notice-given"            // yes-no
	MeasureNoticeTime            = "notice-time"             // s from answer to the notice
	MeasureNoticeBeforeRecording = "notice-before-recording" // yes-no, outbound only
	MeasureDuration              = "duration"                // s from answer to end
	MeasureDurationVsTarget      = "duration-vs-target"      // duration as % of the category's target
	MeasureFlags                 = "flags"                   // flags raised
	MeasurePauseDiscipline       = "pause-discipline"        // yes-no: a payment call had a payment pause
)

// Units of measures.
const (
	UnitSeconds = "s"
	UnitPercent = "%"
	UnitCount   = "count"
	UnitYesNo   = "yes-no"
)

var measureUnits = map[string]string{
	MeasureTalkOfficer: UnitSeconds, MeasureTalkCaller: UnitSeconds, MeasureTalkRatio: UnitPercent,
	MeasureOvertalk: UnitSeconds, MeasureOvertalkCount: UnitCount,
	MeasureLongestSilence: UnitSeconds, MeasureSilencesOver: UnitCount,
	MeasureTimeToAnswer: UnitSeconds, MeasureHold: UnitSeconds,
	MeasurePauses: UnitCount, MeasurePaused: UnitSeconds,
	MeasureNoticeGiven: UnitYesNo, MeasureNoticeTime: UnitSeconds, MeasureNoticeBeforeRecording: UnitYesNo,
	MeasureDuration: UnitSeconds, MeasureDurationVsTarget: UnitPercent,
	MeasureFlags: UnitCount, MeasurePauseDiscipline: UnitYesNo,
}

var measureLabels = map[string]string{
	MeasureTalkOfficer:           "Officer's talk time",
	MeasureTalkCaller:            "Caller's talk time",
	MeasureTalkRatio:             "Officer's share of the talk",
	MeasureOvertalk:              "Time both talked at once",
	MeasureOvertalkCount:         "Times both talked at once",
	MeasureLongestSilence:        "Longest silence",
	MeasureSilencesOver:          "Long silences",
	MeasureTimeToAnswer:          "Time to answer",
	MeasureHold:                  "Time on hold",
	MeasurePauses:                "Pauses",
	MeasurePaused:                "Time paused",
	MeasureNoticeGiven:           "Privacy notice given",
	MeasureNoticeTime:            "Time to the privacy notice",
	MeasureNoticeBeforeRecording: "Notice before recording (outbound)",
	MeasureDuration:              "Call length",
	MeasureDurationVsTarget:      "Call length against the target",
	MeasureFlags:                 "Flags for deletion review",
	MeasurePauseDiscipline:       "Payment call paused for the payment",
}

// MeasureLabel is a measure's name in words, for pages and forms ("" for
// an unknown name).
func MeasureLabel(name string) string { return measureLabels[name] }

// MeasureNames lists the measures' names, sorted.
func MeasureNames() []string {
	out := make([]string, 0, len(measureUnits))
	for n := range measureUnits {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// MeasureUnit returns the unit of a measure ("" for an unknown name).
func MeasureUnit(name string) string { return measureUnits[name] }

// Measures holds the settings of the measures scorecards use.
type Measures struct {
	// SilenceOver is the silence that counts towards silences-over [10s].
	SilenceOver Duration `json:"silence_over,omitempty"`
	// Targets are call durations the categories aim for (duration-vs-target).
	Targets []DurationTarget `json:"targets,omitempty"`
	// PaymentCategories are the categories (retention rule ids or
	// "default") whose calls take card payments: such a call without a
	// payment pause fails pause-discipline.
	PaymentCategories []string `json:"payment_categories,omitempty"`
}

// DefaultSilenceOver is Measures.SilenceOver when it is not set.
const DefaultSilenceOver = 10 * time.Second

// SilenceThreshold is SilenceOver, or 10 s when it is not set.
func (m Measures) SilenceThreshold() time.Duration {
	if m.SilenceOver <= 0 {
		return DefaultSilenceOver
	}
	return m.SilenceOver.D()
}

// Target returns the duration target of a category ("" is "default"), or
// 0 when it has none.
func (m Measures) Target(category string) time.Duration {
	if category == "" {
		category = "default"
	}
	for _, t := range m.Targets {
		if t.Category == category {
			return t.Target.D()
		}
	}
	return 0
}

// PaymentCategory reports whether calls of the category ("" is
// "default") take payments.
func (m Measures) PaymentCategory(category string) bool {
	if category == "" {
		category = "default"
	}
	return slices.Contains(m.PaymentCategories, category)
}

// DurationTarget is how long calls of one category should take.
type DurationTarget struct {
	Category string   `json:"category"`
	Target   Duration `json:"target"`
}

// Scorecard returns the scorecard with the given id, or nil.
func (p *Policy) Scorecard(id string) *Scorecard {
	for i := range p.Scorecards {
		if p.Scorecards[i].ID == id {
			return &p.Scorecards[i]
		}
	}
	return nil
}

// ScorecardFor returns the scorecard that scores calls of a category (""
// is "default", a call no retention rule matched): the first that names
// it, else the first default card (no categories), else nil.
func (p *Policy) ScorecardFor(category string) *Scorecard {
	if category == "" {
		category = "default"
	}
	var def *Scorecard
	for i := range p.Scorecards {
		c := &p.Scorecards[i]
		if slices.Contains(c.Categories, category) {
			return c
		}
		if len(c.Categories) == 0 && def == nil {
			def = c
		}
	}
	return def
}

// Criterion returns the card's criterion with the given id, or nil.
func (c *Scorecard) Criterion(id string) *Criterion {
	for i := range c.Sections {
		for j := range c.Sections[i].Criteria {
			if c.Sections[i].Criteria[j].ID == id {
				return &c.Sections[i].Criteria[j]
			}
		}
	}
	return nil
}

// categoryIDs are the categories a call can be in: "default" and every
// retention rule's id.
func (p *Policy) categoryIDs() []string {
	ids := []string{"default"}
	for _, r := range p.Retention.Rules {
		ids = append(ids, r.ID)
	}
	return ids
}

// Validate reports every problem in the scorecard at once, each prefixed
// with where: the scorecard on its own, without the policy's categories
// (Policy.Validate checks those).
func (c *Scorecard) Validate() error {
	var errs []string
	c.validate(func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }, "scorecard")
	if len(errs) > 0 {
		return fmt.Errorf("invalid scorecard: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (p *Policy) validateScoring(bad func(format string, a ...any)) {
	cats := p.categoryIDs()
	known := func(cat string) bool { return slices.Contains(cats, cat) }
	seen := map[string]bool{}
	for i := range p.Scorecards {
		c := &p.Scorecards[i]
		where := fmt.Sprintf("scorecards[%d]", i)
		if c.ID != "" {
			where += " (" + c.ID + ")"
		}
		if seen[c.ID] && c.ID != "" {
			bad("%s: id %q is used by another scorecard", where, c.ID)
		}
		seen[c.ID] = true
		for _, cat := range c.Categories {
			if !known(cat) {
				bad("%s: category %q is not one of the categories (%s)", where, cat, strings.Join(cats, ", "))
			}
		}
		c.validate(bad, where)
	}
	m := p.Measures
	if m.SilenceOver < 0 || m.SilenceOver.D() > time.Hour {
		bad("measures.silence_over: %v must be between 0 (the default, 10 s) and 1 hour", m.SilenceOver.D())
	}
	seen = map[string]bool{}
	for i, t := range m.Targets {
		if !known(t.Category) {
			bad("measures.targets[%d]: category %q is not one of the categories (%s)", i, t.Category, strings.Join(cats, ", "))
		}
		if seen[t.Category] {
			bad("measures.targets[%d]: category %q has a target already", i, t.Category)
		}
		seen[t.Category] = true
		if t.Target <= 0 {
			bad("measures.targets[%d] (%s): target must be a positive duration like \"6m\"", i, t.Category)
		}
	}
	for i, cat := range m.PaymentCategories {
		if !known(cat) {
			bad("measures.payment_categories[%d]: category %q is not one of the categories (%s)", i, cat, strings.Join(cats, ", "))
		}
	}
}

func (c *Scorecard) validate(bad func(format string, a ...any), where string) {
	if !idPattern.MatchString(c.ID) {
		bad("%s: id %q must be lower-case letters, digits and '-'", where, c.ID)
	}
	if strings.TrimSpace(c.Name) == "" {
		bad("%s: name is empty", where)
	}
	if len(c.Sections) == 0 {
		bad("%s: a scorecard needs at least one section", where)
	}
	sum := 0
	ids := map[string]bool{}
	for i, s := range c.Sections {
		sw := fmt.Sprintf("%s.sections[%d]", where, i)
		if s.Name != "" {
			sw += " (" + s.Name + ")"
		}
		if strings.TrimSpace(s.Name) == "" {
			bad("%s: name is empty", sw)
		}
		if s.Weight < 0 {
			bad("%s: weight %d is negative", sw, s.Weight)
		}
		sum += s.Weight
		csum, weighted := 0, 0
		for j := range s.Criteria {
			cr := &s.Criteria[j]
			cw := fmt.Sprintf("%s.criteria[%d]", sw, j)
			if cr.ID != "" {
				cw += " (" + cr.ID + ")"
			}
			switch {
			case !idPattern.MatchString(cr.ID):
				bad("%s: id %q must be lower-case letters, digits and '-'", cw, cr.ID)
			case ids[cr.ID]:
				bad("%s: id %q is used by another criterion of this scorecard", cw, cr.ID)
			}
			ids[cr.ID] = true
			cr.validate(bad, cw)
			if cr.Kind != CriterionFailAll {
				csum += cr.Weight
				weighted++
			}
		}
		if weighted == 0 {
			bad("%s: a section needs at least one criterion that carries weight", sw)
		} else if csum != 100 {
			bad("%s: the criteria's weights add up to %d, not 100", sw, csum)
		}
	}
	if len(c.Sections) > 0 && sum != 100 {
		bad("%s: the sections' weights add up to %d, not 100", where, sum)
	}
}

func (cr *Criterion) validate(bad func(format string, a ...any), where string) {
	if strings.TrimSpace(cr.Name) == "" {
		bad("%s: name is empty", where)
	}
	automatic := cr.Kind == CriterionAutomatic || (cr.Kind == CriterionFailAll && cr.Measure != "")
	switch cr.Kind {
	case CriterionAutomatic, CriterionManual:
		if cr.Weight <= 0 {
			bad("%s: weight %d must be positive", where, cr.Weight)
		}
	case CriterionFailAll:
		if cr.Weight != 0 {
			bad("%s: a fail-all criterion carries no weight (it zeroes the score instead), not %d", where, cr.Weight)
		}
	default:
		bad("%s: kind %q must be automatic, manual or fail-all", where, cr.Kind)
		return
	}
	if !automatic {
		switch {
		case cr.Scale == "":
			bad("%s: a manual criterion needs a scale: %q or %q", where, ScaleYesNo, ScaleOneToFive)
		case cr.Kind == CriterionFailAll && cr.Scale != ScaleYesNo:
			bad("%s: a fail-all criterion answered by an evaluator takes scale %q, not %q", where, ScaleYesNo, cr.Scale)
		case cr.Scale != ScaleYesNo && cr.Scale != ScaleOneToFive:
			bad("%s: scale %q must be %q or %q", where, cr.Scale, ScaleYesNo, ScaleOneToFive)
		}
		if cr.Band != nil || len(cr.Bands) > 0 {
			bad("%s: a manual criterion has no band: only a criterion with a measure does", where)
		}
		return
	}
	if cr.Scale != "" {
		bad("%s: an automatic criterion has no scale (its answer comes from the measure)", where)
	}
	unit, ok := measureUnits[cr.Measure]
	if !ok {
		if cr.Measure == "" {
			bad("%s: an automatic criterion needs a measure, one of: %s", where, strings.Join(MeasureNames(), ", "))
		} else {
			bad("%s: measure %q is not one callguard computes; the measures are: %s", where, cr.Measure, strings.Join(MeasureNames(), ", "))
		}
		return
	}
	if cr.Band != nil && len(cr.Bands) > 0 {
		bad("%s: give either band (pass or fail) or bands (points), not both", where)
	}
	if cr.Kind == CriterionFailAll && len(cr.Bands) > 0 {
		bad("%s: a fail-all criterion passes or fails: give it a band, not bands", where)
	}
	if cr.Band == nil && len(cr.Bands) == 0 && unit != UnitYesNo {
		bad("%s: measure %q is in %s: give a band (min and/or max) where it passes", where, cr.Measure, unit)
	}
	if cr.Band != nil {
		checkBand(bad, where+".band", *cr.Band)
	}
	for k, b := range cr.Bands {
		bw := fmt.Sprintf("%s.bands[%d]", where, k)
		checkBand(bad, bw, b.Band())
		if b.Points < 0 || b.Points > 100 || math.IsNaN(b.Points) {
			bad("%s: points %g must be between 0 and 100 (a percentage of the criterion's weight)", bw, b.Points)
		}
		for l := range k {
			if overlap(cr.Bands[l].Band(), b.Band()) {
				bad("%s: band %s overlaps band %d (%s); bands may share an end, no more", bw, b.Band(), l, cr.Bands[l].Band())
			}
		}
	}
}

func checkBand(bad func(format string, a ...any), where string, b Band) {
	switch {
	case b.Min == nil && b.Max == nil:
		bad("%s: give min, max or both", where)
	case b.Min != nil && b.Max != nil && *b.Min > *b.Max:
		bad("%s: min %g is above max %g", where, *b.Min, *b.Max)
	}
	for _, v := range []*float64{b.Min, b.Max} {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			bad("%s: %g is not a number", where, *v)
		}
	}
}

// overlap reports whether two bands share more than an end point.
func overlap(a, b Band) bool {
	lo := func(x Band) float64 {
		if x.Min == nil {
			return math.Inf(-1)
		}
		return *x.Min
	}
	hi := func(x Band) float64 {
		if x.Max == nil {
			return math.Inf(1)
		}
		return *x.Max
	}
	from, to := math.Max(lo(a), lo(b)), math.Min(hi(a), hi(b))
	if from < to {
		return true
	}
	// A band of one value on the other's end lies inside it.
	return from == to && (lo(a) == hi(a) || lo(b) == hi(b))
}

// ValidateScorecard checks a scorecard as it would be in this policy: on
// its own, its categories among the policy's, and its id not another
// card's unless it replaces that card (replaces is the id it replaces, ""
// for a new card). It is for a card edited in the workspace before it
// goes into the policy.
func (p *Policy) ValidateScorecard(c Scorecard, replaces string) error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	c.validate(bad, "scorecard")
	cats := p.categoryIDs()
	for _, cat := range c.Categories {
		if !slices.Contains(cats, cat) {
			bad("scorecard: category %q is not one of the categories (%s)", cat, strings.Join(cats, ", "))
		}
	}
	if c.ID != replaces && p.Scorecard(c.ID) != nil {
		bad("scorecard: id %q is used by another scorecard", c.ID)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid scorecard: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Digest is a fingerprint of everything in the scorecard that changes a
// score (names and guidance too: an evaluator answers what they read), for
// telling whether a card changed and needs a new version.
func (c Scorecard) Digest() string {
	b, err := json.Marshal(c)
	if err != nil {
		// A Scorecard holds only strings, numbers and slices of them.
		panic(fmt.Sprintf("policy: marshal scorecard: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
