package scoring

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
)

// Answer is an evaluator's answer to a criterion: to a manual one on its
// scale, or an override of an automatic one (which needs a reason).
type Answer struct {
	// Value is AnswerYes, AnswerNo or AnswerNA for yes-no criteria and
	// overrides, "1" to "5" (or AnswerNA) for 1-5 criteria.
	Value string `json:"value"`
	// Reason says why an automatic answer was overridden; a comment on a
	// manual one.
	Reason string `json:"reason,omitempty"`
	By     string `json:"by,omitempty"`
}

// Answer values.
const (
	AnswerYes = "yes"
	AnswerNo  = "no"
	AnswerNA  = "na"
)

// Answers are an evaluator's answers by criterion id.
type Answers map[string]Answer

// Criterion statuses (CriterionResult.Status): the server domain's names.
const (
	StatusPass        = server.CriterionPass
	StatusFail        = server.CriterionFail
	StatusPoints      = server.CriterionPoints
	StatusNA          = server.CriterionNA
	StatusNotMeasured = server.CriterionNotMeasured
	StatusUnanswered  = server.CriterionUnanswered
)

// CriterionResult is how one criterion was answered and what it earned.
type CriterionResult struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Weight int    `json:"weight"`
	Status string `json:"status"`
	// Points are the percentage of the weight earned (0–100), for a
	// criterion that counts (pass, fail, points).
	Points float64 `json:"points"`
	// Measure, Value and Unit are what an automatic answer came from;
	// NotMeasured why there was none.
	Measure     string          `json:"measure,omitempty"`
	Value       *float64        `json:"value,omitempty"`
	Unit        string          `json:"unit,omitempty"`
	NotMeasured string          `json:"not_measured,omitempty"`
	Evidence    []artefact.Span `json:"evidence,omitempty"`
	// Answer is the evaluator's; Automatic the status the measure gave
	// before an override, with Overridden and Reason.
	Answer     string `json:"answer,omitempty"`
	Automatic  string `json:"automatic,omitempty"`
	Overridden bool   `json:"overridden,omitempty"`
	Reason     string `json:"reason,omitempty"`
	By         string `json:"by,omitempty"`
}

// SectionResult is a section's score: 0–100 over the criteria that count,
// their weights re-normalised; Counted false when none counts.
type SectionResult struct {
	Name     string            `json:"name"`
	Weight   int               `json:"weight"`
	Score    float64           `json:"score"`
	Counted  bool              `json:"counted"`
	Criteria []CriterionResult `json:"criteria"`
}

// Result is a call's score by one version of a scorecard.
type Result struct {
	Scorecard string `json:"scorecard"`
	Version   int    `json:"version"`
	// Total is 0–100 over the sections that count, their weights
	// re-normalised; 0 when a fail-all criterion failed (FailedBy names
	// them). Counted is false when nothing counts yet.
	Total    float64         `json:"total"`
	Counted  bool            `json:"counted"`
	FailedBy []string        `json:"failed_by,omitempty"`
	Sections []SectionResult `json:"sections"`
	// Complete is true when every manual criterion is answered.
	Complete bool `json:"complete"`
	// Problems are answers that were refused (and left unanswered), in
	// words.
	Problems []string `json:"problems,omitempty"`
}

// ErrBadAnswer is what CheckAnswers wraps.
var ErrBadAnswer = errors.New("answer refused")

// CheckAnswers reports every answer that does not fit the card: an
// unknown criterion, a value off the criterion's scale, an override
// without a reason. Errors wrap ErrBadAnswer.
func CheckAnswers(card policy.Scorecard, a Answers) error {
	var errs []error
	for id, ans := range a {
		if err := checkAnswer(&card, id, ans); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrBadAnswer, errors.Join(errs...))
	}
	return nil
}

func checkAnswer(card *policy.Scorecard, id string, a Answer) error {
	cr := card.Criterion(id)
	if cr == nil {
		return fmt.Errorf("%q is not a criterion of the scorecard %q", id, card.Name)
	}
	switch {
	case automatic(cr):
		if a.Value != AnswerYes && a.Value != AnswerNo && a.Value != AnswerNA {
			return fmt.Errorf("%s: an automatic answer is overridden with yes, no or not applicable, not %q", cr.Name, a.Value)
		}
		if a.Reason == "" {
			return fmt.Errorf("%s: say why the automatic answer is overridden", cr.Name)
		}
	case cr.Scale == policy.ScaleOneToFive:
		if n, err := strconv.Atoi(a.Value); a.Value != AnswerNA && (err != nil || n < 1 || n > 5) {
			return fmt.Errorf("%s: answer 1 to 5, or not applicable, not %q", cr.Name, a.Value)
		}
	default:
		if a.Value != AnswerYes && a.Value != AnswerNo && a.Value != AnswerNA {
			return fmt.Errorf("%s: answer yes, no or not applicable, not %q", cr.Name, a.Value)
		}
	}
	return nil
}

// automatic reports whether the criterion is answered from a measure.
func automatic(cr *policy.Criterion) bool {
	return cr.Kind == policy.CriterionAutomatic || (cr.Kind == policy.CriterionFailAll && cr.Measure != "")
}

// Score scores measures and an evaluator's answers by version version of
// card. Answers CheckAnswers refuses are left out and listed in Problems.
// A criterion counts when it passed, failed or earned points; a section's
// score and the total re-weigh what counts, so a criterion not measured
// or not applicable neither helps nor harms. A failed fail-all criterion
// makes the total 0.
func Score(card policy.Scorecard, version int, ms Measures, manual Answers) Result {
	r := Result{Scorecard: card.ID, Version: version, Complete: true, Sections: make([]SectionResult, 0, len(card.Sections))}
	valid := make(Answers, len(manual))
	for id, a := range manual {
		if err := checkAnswer(&card, id, a); err != nil {
			r.Problems = append(r.Problems, err.Error())
			continue
		}
		valid[id] = a
	}
	slices.Sort(r.Problems)
	var sum, weights float64
	for _, s := range card.Sections {
		sr := SectionResult{Name: s.Name, Weight: s.Weight, Criteria: make([]CriterionResult, 0, len(s.Criteria))}
		var ssum, sw float64
		for i := range s.Criteria {
			cr := &s.Criteria[i]
			res := criterion(cr, ms, valid)
			if res.Status == StatusUnanswered {
				r.Complete = false
			}
			if cr.Kind == policy.CriterionFailAll {
				if res.Status == StatusFail {
					r.FailedBy = append(r.FailedBy, cr.ID)
				}
			} else if counts(res.Status) {
				ssum += float64(cr.Weight) * res.Points
				sw += float64(cr.Weight)
			}
			sr.Criteria = append(sr.Criteria, res)
		}
		if sw > 0 {
			sr.Counted, sr.Score = true, ssum/sw
			sum += float64(s.Weight) * sr.Score
			weights += float64(s.Weight)
		}
		r.Sections = append(r.Sections, sr)
	}
	if weights > 0 {
		r.Counted, r.Total = true, sum/weights
	}
	if len(r.FailedBy) > 0 {
		r.Counted, r.Total = true, 0
	}
	return r
}

func counts(status string) bool {
	return status == StatusPass || status == StatusFail || status == StatusPoints
}

func criterion(cr *policy.Criterion, ms Measures, answers Answers) CriterionResult {
	res := CriterionResult{ID: cr.ID, Name: cr.Name, Kind: cr.Kind, Weight: cr.Weight}
	a, answered := answers[cr.ID]
	if automatic(cr) {
		m := ms.Get(cr.Measure)
		res.Measure, res.Unit = cr.Measure, m.Unit
		if !m.Measured {
			res.Status, res.NotMeasured = StatusNotMeasured, m.NotMeasured
		} else {
			v := m.Value
			res.Value, res.Evidence = &v, m.Evidence
			res.Status, res.Points = grade(cr, v)
		}
		if answered {
			res.Automatic, res.Overridden, res.Reason, res.By = res.Status, true, a.Reason, a.By
			res.Answer = a.Value
			res.Status, res.Points = yesNoNA(a.Value)
		}
		return res
	}
	if !answered {
		res.Status = StatusUnanswered
		return res
	}
	res.Answer, res.Reason, res.By = a.Value, a.Reason, a.By
	if cr.Scale == policy.ScaleOneToFive && a.Value != AnswerNA {
		n, _ := strconv.Atoi(a.Value) // checked by checkAnswer
		res.Status, res.Points = StatusPoints, float64(n-1)*25
		return res
	}
	res.Status, res.Points = yesNoNA(a.Value)
	return res
}

func yesNoNA(v string) (string, float64) {
	switch v {
	case AnswerYes:
		return StatusPass, 100
	case AnswerNo:
		return StatusFail, 0
	}
	return StatusNA, 0
}

// grade answers an automatic criterion from its measure's value: the
// band it must lie in, the bands' points (the highest band a value on a
// shared end lies in), or, for a yes-no measure without a band, yes.
func grade(cr *policy.Criterion, v float64) (string, float64) {
	switch {
	case len(cr.Bands) > 0:
		best, found := 0.0, false
		for _, b := range cr.Bands {
			if b.Band().Contains(v) && (!found || b.Points > best) {
				best, found = b.Points, true
			}
		}
		if !found {
			return StatusFail, 0
		}
		return StatusPoints, best
	case cr.Band != nil:
		if cr.Band.Contains(v) {
			return StatusPass, 100
		}
		return StatusFail, 0
	case v == 1:
		return StatusPass, 100
	}
	return StatusFail, 0
}
