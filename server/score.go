package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Where a scorecard version came from.
const (
	// ScorecardFromPolicy is a version seeded from the policy's scorecards.
	ScorecardFromPolicy = "policy"
	// ScorecardFromWorkspace is a version a manager or supervisor saved in
	// the web workspace.
	ScorecardFromWorkspace = "workspace"
	// ScorecardFromImport is a version imported from a policy file.
	ScorecardFromImport = "import"
)

// ScorecardVersion is one saved version of a scorecard. Every save is a
// new version; one version of each scorecard id is active, and scores
// record the version they used. Body is the scorecard in the policy's
// format (JSON), which package policy reads and checks.
type ScorecardVersion struct {
	ID        string          `json:"id"`
	Version   int             `json:"version"`
	Name      string          `json:"name"`
	Body      json.RawMessage `json:"body"`
	Active    bool            `json:"active"`
	Source    string          `json:"source"`
	Created   time.Time       `json:"created"`
	CreatedBy string          `json:"created_by"`
}

// Kinds of an officer's note on a score.
const (
	// CommentNote is a comment.
	CommentNote = "comment"
	// CommentDispute disputes the score: the officer disagrees with it.
	CommentDispute = "dispute"
)

// MaxCommentLength is the longest comment or dispute, in characters.
const MaxCommentLength = 2000

// ScoreComment is a comment or a dispute on a score, by the officer it
// scores (or a supervisor answering).
type ScoreComment struct {
	ID      int64     `json:"id"`
	ScoreID int64     `json:"score_id"`
	Author  string    `json:"author"`
	Kind    string    `json:"kind"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"`
}

// ValidComment checks a comment's kind and text.
func ValidComment(kind, text string) error {
	if kind != CommentNote && kind != CommentDispute {
		return fmt.Errorf("a note on a score is a comment or a dispute, not %q: %w", kind, ErrInvalid)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return fmt.Errorf("write the %s first: %w", kind, ErrInvalid)
	}
	if utf8.RuneCountInString(text) > MaxCommentLength {
		return fmt.Errorf("a %s has at most %d characters: %w", kind, MaxCommentLength, ErrInvalid)
	}
	return nil
}

// Override is an evaluator's answer in place of an automatic one, with
// the reason for it (required).
type Override struct {
	Answer string `json:"answer"`
	Reason string `json:"reason"`
}

// Score is a call's score by one version of a scorecard. The automatic
// score (Evaluator "") is written by the scoring job; an evaluator's score
// copies its automatic answers and adds the manual answers and the
// overrides, so two evaluators of one call are two scores. Automatic is
// the scoring package's result as JSON. A score whose scorecard got a new
// version is Superseded, and kept.
type Score struct {
	ID               int64               `json:"id"`
	CallID           string              `json:"call_id"`
	Agent            string              `json:"agent"`
	CallStarted      time.Time           `json:"call_started"`
	ScorecardID      string              `json:"scorecard_id"`
	ScorecardVersion int                 `json:"scorecard_version"`
	Evaluator        string              `json:"evaluator,omitempty"`
	Automatic        json.RawMessage     `json:"automatic"`
	Manual           map[string]string   `json:"manual"`
	Overrides        map[string]Override `json:"overrides"`
	// Total is the score in per cent, nil until it can be worked out.
	Total *float64 `json:"total,omitempty"`
	// Summary is what trends count of it.
	Summary    ScoreSummary   `json:"summary"`
	Scored     time.Time      `json:"scored"`
	Completed  *time.Time     `json:"completed,omitempty"`
	Superseded *time.Time     `json:"superseded,omitempty"`
	Comments   []ScoreComment `json:"comments,omitempty"`
}

// ScoreSummary is what trends count of a score, kept beside it so that a
// trend of thousands of calls reads no evidence: the total, each
// criterion's points (0–100) by id for those that counted (passed 100,
// failed 0, graded their points; one not measured or not applicable is
// absent), and each measured measure's value by name.
type ScoreSummary struct {
	Counted  bool               `json:"counted"`
	Total    float64            `json:"total"`
	Criteria map[string]float64 `json:"criteria,omitempty"`
	Measures map[string]float64 `json:"measures,omitempty"`
}

// Evaluation is what an evaluator's completion of a score saves: the
// answers to the manual criteria, the automatic answers changed (each with
// its reason), and the total and summary they give.
type Evaluation struct {
	Manual    map[string]string
	Overrides map[string]Override
	Total     *float64
	Summary   ScoreSummary
}

// ScoreFilter selects scores. Empty fields match anything.
type ScoreFilter struct {
	Agent string
	// Agents keeps to scores of these officers (nil: any).
	Agents        map[string]bool
	CallID        string
	ScorecardID   string
	CompletedOnly bool
	// Current leaves out superseded scores.
	Current bool
	// SummaryOnly leaves Automatic, the answers, the overrides and the
	// comments out: for trends, which read the summary.
	SummaryOnly bool
	// From and To bound the calls' start.
	From, To time.Time
	Limit    int
}

// Audit actions of scoring. Scores are personal data about officers:
// every read of one is audited like a call's.
const (
	AuditScoreRead     = "score.read"     // a call's scores shown
	AuditScoreList     = "score.list"     // an officer's scores listed (the desktop's My calls)
	AuditScoreComplete = "score.complete" // an evaluator completed or changed a score
	AuditScoreComment  = "score.comment"  // a comment or a dispute added
	AuditScoreTrends   = "score.trends"   // trends of an officer or a team read
	AuditScorecardSave = "scorecard.save" // a scorecard version saved or imported
)

// OfficerScore is a completed score as the officer it scores sees it on
// the desktop ("My calls"): the answers and the evaluator's reasons, the
// comments, and never anything of the recording but the times the
// evidence points at.
type OfficerScore struct {
	ID               int64              `json:"id"`
	CallID           string             `json:"call_id"`
	DesktopCallID    string             `json:"desktop_call_id"`
	CallStarted      time.Time          `json:"call_started"`
	Scorecard        string             `json:"scorecard"`
	ScorecardVersion int                `json:"scorecard_version"`
	Evaluator        string             `json:"evaluator"`
	Total            *float64           `json:"total,omitempty"`
	Completed        time.Time          `json:"completed"`
	Criteria         []OfficerCriterion `json:"criteria"`
	// ZeroedBy names the fail-all criteria that zeroed the score.
	ZeroedBy []string       `json:"zeroed_by,omitempty"`
	Comments []ScoreComment `json:"comments"`
}

// OfficerCriterion is one criterion of an OfficerScore, in words.
type OfficerCriterion struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	// Status is pass, fail, points, na, not-measured or unanswered
	// (server/scoring's statuses); Points the percentage of its weight
	// earned (0-100).
	Status string  `json:"status"`
	Points float64 `json:"points"`
	// Value is what an automatic answer was measured as ("40 %"), or why
	// it was not measured.
	Value string `json:"value,omitempty"`
	// Answer is the evaluator's, Reason why an automatic answer was
	// changed.
	Answer string `json:"answer,omitempty"`
	Reason string `json:"reason,omitempty"`
}
