package uplink

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Errors of the data-protection calls; test them with errors.Is.
var (
	// ErrConflict: the item was decided meanwhile, a second dpo must act,
	// or the recording is not (yet) on the server.
	ErrConflict = errors.New("conflict: the server's state has moved on or a second dpo must act")
	// ErrGone: the recording was deleted (retention, review or erasure).
	ErrGone = errors.New("the recording was deleted")
	// ErrNoKey: the server has no organisation key, so it cannot play or
	// redact; downloading the encrypted file still works.
	ErrNoKey = errors.New("the server has no organisation key to decrypt recordings")
)

// FlagOutcome is one of the officer's own flags and what came of it:
// "pending", "deleted", "redacted" or "kept" (never the dpo's reason).
type FlagOutcome struct {
	ID      string     `json:"id"`
	CallID  string     `json:"call_id"`
	Reason  string     `json:"reason"`
	At      time.Time  `json:"at"`
	FromMS  *int64     `json:"from_ms,omitempty"`
	ToMS    *int64     `json:"to_ms,omitempty"`
	Outcome string     `json:"outcome"`
	Decided *time.Time `json:"decided,omitempty"`
}

// MyFlags returns this device's account's flags of the last 30 days,
// newest first, with their outcome, for the officer's window.
func (c *Client) MyFlags(ctx context.Context) ([]FlagOutcome, error) {
	var r struct {
		Flags []FlagOutcome `json:"flags"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/flags/mine", nil, &r, 30*time.Second)
	return r.Flags, err
}

// ReviewItem is one entry of the dpos' review queue: an officer's flag
// (Kind "flag") or a declined call (Kind "declined").
type ReviewItem struct {
	ID      string     `json:"id"`
	Kind    string     `json:"kind"`
	CallID  string     `json:"call_id"`
	Officer string     `json:"officer"`
	Reason  string     `json:"reason"`
	Label   string     `json:"reason_label"`
	Note    string     `json:"note"`
	FromMS  *int64     `json:"from_ms,omitempty"`
	ToMS    *int64     `json:"to_ms,omitempty"`
	At      time.Time  `json:"at"`
	State   string     `json:"state"`   // open, awaiting-approval, approved, redaction-pending, auto-redacted, done
	Pending string     `json:"pending"` // why a card redaction waits: no-key, no-recording
	Outcome string     `json:"outcome"`
	Updated *time.Time `json:"updated,omitempty"`

	Decision       string     `json:"decision"`
	DecisionFromMS *int64     `json:"decision_from_ms,omitempty"`
	DecisionToMS   *int64     `json:"decision_to_ms,omitempty"`
	DecisionNote   string     `json:"decision_note"`
	DecidedBy      string     `json:"decided_by"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	ApprovedBy     string     `json:"approved_by"`
	ApprovedAt     *time.Time `json:"approved_at,omitempty"`

	Started       time.Time  `json:"call_started"`
	Direction     string     `json:"direction"`
	Remote        string     `json:"remote"`
	Recording     string     `json:"recording"` // none, uploading, stored, deleted
	RetentionRule string     `json:"retention_rule"`
	DeleteAfter   *time.Time `json:"delete_after,omitempty"`
	Held          bool       `json:"held"`
}

// ReviewQueue is the review queue with what the dpo's window needs to know
// about the server.
type ReviewQueue struct {
	Items []ReviewItem `json:"items"`
	// TwoPersonDeletion: a deletion waits for a second dpo's approval.
	TwoPersonDeletion bool `json:"two_person_deletion"`
	// ServerHasKey: the server can play and redact.
	ServerHasKey bool `json:"server_has_key"`
}

// Review returns the review queue: state "" lists every item not done,
// "all" everything, or a state name (or a comma-separated list).
func (c *Client) Review(ctx context.Context, state string) (ReviewQueue, error) {
	var q ReviewQueue
	v := url.Values{}
	if state != "" {
		v.Set("state", state)
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/review?"+v.Encode(), nil, &q, 30*time.Second)
	return q, err
}

// Decision is a dpo's decision on a review item.
type Decision struct {
	// Action is "delete" (the whole recording), "delete-interval" (silence
	// FromMS–ToMS, default the flag's interval), "keep" (Note required) or
	// "confirm" (an automatic redaction of card details).
	Action string `json:"action"`
	FromMS *int64 `json:"from_ms,omitempty"`
	ToMS   *int64 `json:"to_ms,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Decide records a decision on a review item; with the two-person rule a
// deletion then waits for Approve by another dpo.
func (c *Client) Decide(ctx context.Context, itemID string, d Decision) (ReviewItem, error) {
	var it ReviewItem
	err := c.doJSON(ctx, http.MethodPost, "/api/v1/review/"+url.PathEscape(itemID)+"/decide", d, &it, 5*time.Minute)
	return it, err
}

// Approve approves (carries out) or rejects another dpo's deletion.
func (c *Client) Approve(ctx context.Context, itemID string, approve bool) (ReviewItem, error) {
	var it ReviewItem
	err := c.doJSON(ctx, http.MethodPost, "/api/v1/review/"+url.PathEscape(itemID)+"/approve", map[string]bool{"approve": approve}, &it, 5*time.Minute)
	return it, err
}

// Hold keeps calls from deletion: exactly one of CallID, Number or Agent,
// with From/To bounding the calls' start for a number or an agent.
type Hold struct {
	ID              int64      `json:"id,omitempty"`
	CallID          string     `json:"call_id,omitempty"`
	Number          string     `json:"number,omitempty"`
	Agent           string     `json:"agent,omitempty"`
	From            *time.Time `json:"from,omitempty"`
	To              *time.Time `json:"to,omitempty"`
	Reason          string     `json:"reason"` // complaint, investigation, litigation
	Note            string     `json:"note,omitempty"`
	Owner           string     `json:"owner"`
	ReviewAt        *time.Time `json:"review_at,omitempty"`
	Created         time.Time  `json:"created,omitzero"`
	CreatedBy       string     `json:"created_by,omitempty"`
	LiftRequestedBy string     `json:"lift_requested_by,omitempty"`
	LiftRequestedAt *time.Time `json:"lift_requested_at,omitempty"`
	LiftReason      string     `json:"lift_reason,omitempty"`
	Lifted          *time.Time `json:"lifted,omitempty"`
	LiftedBy        string     `json:"lifted_by,omitempty"`
	Calls           int        `json:"calls,omitempty"`
}

// Holds lists the active holds (all: lifted ones too) and whether lifting
// needs two dpos.
func (c *Client) Holds(ctx context.Context, all bool) ([]Hold, bool, error) {
	var r struct {
		Holds         []Hold `json:"holds"`
		TwoPersonLift bool   `json:"two_person_lift"`
	}
	path := "/api/v1/holds"
	if all {
		path += "?all=1"
	}
	err := c.do(ctx, http.MethodGet, path, nil, &r, 30*time.Second)
	return r.Holds, r.TwoPersonLift, err
}

// PlaceHold places a hold and returns it with how many calls it covers.
func (c *Client) PlaceHold(ctx context.Context, h Hold) (Hold, error) {
	var out Hold
	err := c.doJSON(ctx, http.MethodPost, "/api/v1/holds", h, &out, 30*time.Second)
	return out, err
}

// LiftHold asks to lift a hold; lifted is false when a second dpo must
// lift it too (the policy's two_person_hold_lift).
func (c *Client) LiftHold(ctx context.Context, id int64, reason string) (h Hold, lifted bool, err error) {
	var r struct {
		Hold   Hold `json:"hold"`
		Lifted bool `json:"lifted"`
	}
	err = c.doJSON(ctx, http.MethodPost, "/api/v1/holds/"+strconv.FormatInt(id, 10)+"/lift", map[string]string{"reason": reason}, &r, 30*time.Second)
	return r.Hold, r.Lifted, err
}

// DueCall is a call retention will delete soon.
type DueCall struct {
	CallID      string    `json:"call_id"`
	Agent       string    `json:"agent"`
	Started     time.Time `json:"started"`
	DeleteAfter time.Time `json:"delete_after"`
	Rule        string    `json:"rule"`
	Recording   string    `json:"recording"`
}

// RetentionReport lists the holds due for review and the calls due for
// deletion soon.
type RetentionReport struct {
	Now          time.Time `json:"now"`
	Until        time.Time `json:"until"`
	HoldsDue     []Hold    `json:"holds_due"`
	Due          []DueCall `json:"due"`
	DueCount     int       `json:"due_count"`
	Overdue      int       `json:"overdue"`
	HeldPastDate int       `json:"held_past_date"`
	Unfinished   int       `json:"unfinished"`
}

// RetentionReport returns the report for the next days (7 if 0).
func (c *Client) RetentionReport(ctx context.Context, days int) (RetentionReport, error) {
	if days <= 0 {
		days = 7
	}
	var r RetentionReport
	err := c.do(ctx, http.MethodGet, "/api/v1/retention/report?days="+strconv.Itoa(days), nil, &r, 60*time.Second)
	return r, err
}

// doJSON is do with a body encoded as JSON.
func (c *Client) doJSON(ctx context.Context, method, path string, body, out any, timeout time.Duration) error {
	b, err := jsonMarshal(body)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, b, out, timeout)
}
