package server

// A criterion's status in a score (OfficerCriterion.Status), named once for
// the scoring package that decides it and the desktop that shows it.
const (
	// CriterionPass: the criterion passed (full points).
	CriterionPass = "pass"
	// CriterionFail: it failed (no points; a fail-all zeroes the total).
	CriterionFail = "fail"
	// CriterionPoints: a graded or 1-5 answer earned Points.
	CriterionPoints = "points"
	// CriterionNA: not applicable; left out of the total.
	CriterionNA = "na"
	// CriterionNotMeasured: the call does not tell; left out of the total.
	CriterionNotMeasured = "not-measured"
	// CriterionUnanswered: a manual criterion no one answered yet.
	CriterionUnanswered = "unanswered"
)
