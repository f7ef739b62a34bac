package uplink

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// Play streams a recording, decrypted by the server, as a WAV file (PCM16
// 16 kHz stereo: left officer, right caller) into w. The server audits it
// as a play.
func (c *Client) Play(ctx context.Context, callID string, w io.Writer) error {
	req, err := c.request(ctx, http.MethodGet, "/api/v1/recordings/"+url.PathEscape(callID)+"/play", nil)
	if err != nil {
		return err
	}
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return c.finish(resp, err, nil)
	}
	if resp.StatusCode != http.StatusOK {
		return c.finish(resp, nil, nil)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("play %s: %w", callID, err)
	}
	return nil
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

// AuditRecord is one record of the audit log.
type AuditRecord struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Device   string    `json:"device"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	Detail   string    `json:"detail"` // a JSON object
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// AuditQuery selects audit records; empty fields match everything.
type AuditQuery struct {
	Call   string
	User   string
	Action string // exact, or a prefix ending in '.', e.g. "recording."
	From   time.Time
	To     time.Time
	After  int64 // seq to page on
	Limit  int
}

// AuditSearch searches the audit log (supervisors and dpos).
func (c *Client) AuditSearch(ctx context.Context, q AuditQuery) ([]AuditRecord, error) {
	v := url.Values{}
	for k, s := range map[string]string{"call": q.Call, "user": q.User, "action": q.Action} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339))
	}
	if q.After > 0 {
		v.Set("after", strconv.FormatInt(q.After, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var r struct {
		Records []AuditRecord `json:"records"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/audit?"+v.Encode(), nil, &r, 60*time.Second)
	return r.Records, err
}

// Erasure is the erasure of everything about one phone number.
type Erasure struct {
	ID          int64      `json:"id"`
	Number      string     `json:"number"` // masked
	Reference   string     `json:"reference"`
	State       string     `json:"state"` // awaiting-approval, approved, done, rejected
	RequestedBy string     `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	ApprovedBy  string     `json:"approved_by"`
	ApprovedAt  *time.Time `json:"approved_at,omitempty"`
	Done        *time.Time `json:"done,omitempty"`
	Erased      int        `json:"erased"`
	Calls       []string   `json:"calls"`
	Held        []struct {
		CallID string  `json:"call_id"`
		Holds  []int64 `json:"holds"`
	} `json:"held"`
}

// RequestErasure erases everything about a phone number (or, under the
// two-person rule, asks a second dpo to approve it).
func (c *Client) RequestErasure(ctx context.Context, number, reference string) (Erasure, error) {
	var e Erasure
	err := c.doJSON(ctx, http.MethodPost, "/api/v1/erasures", map[string]string{"number": number, "reference": reference}, &e, 5*time.Minute)
	return e, err
}

// ApproveErasure approves (carries out) or rejects another dpo's erasure.
func (c *Client) ApproveErasure(ctx context.Context, id int64, approve bool) (Erasure, error) {
	var e Erasure
	err := c.doJSON(ctx, http.MethodPost, "/api/v1/erasures/"+strconv.FormatInt(id, 10)+"/approve", map[string]bool{"approve": approve}, &e, 5*time.Minute)
	return e, err
}

// Call is a call as the server lists it, for finding calls by number and
// date (to play them or to place holds).
type Call struct {
	ID            string     `json:"id"`
	Agent         string     `json:"agent"`
	Direction     string     `json:"direction"`
	Remote        Party      `json:"remote"`
	Local         Party      `json:"local"`
	Started       time.Time  `json:"started"`
	Ended         *time.Time `json:"ended,omitempty"`
	State         string     `json:"state"`
	Declined      bool       `json:"declined"`
	Recording     string     `json:"recording"`
	RetentionRule string     `json:"retention_rule"`
	DeleteAfter   *time.Time `json:"delete_after,omitempty"`
	Held          bool       `json:"held"`
	Erased        *time.Time `json:"erased,omitempty"`
}

// Party is one end of a call.
type Party struct {
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
}

// CallQuery selects calls; empty fields match everything.
type CallQuery struct {
	Number string // a substring of the remote or local number
	Agent  string
	From   time.Time
	To     time.Time
	Limit  int
	Offset int
}

// SearchCalls finds calls by number, agent and date, newest first.
func (c *Client) SearchCalls(ctx context.Context, q CallQuery) ([]Call, error) {
	v := url.Values{}
	if q.Number != "" {
		v.Set("number", q.Number)
	}
	if q.Agent != "" {
		v.Set("agent", q.Agent)
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	var r struct {
		Calls []Call `json:"calls"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/calls?"+v.Encode(), nil, &r, 60*time.Second)
	return r.Calls, err
}

// doJSON is do with a body encoded as JSON.
func (c *Client) doJSON(ctx context.Context, method, path string, body, out any, timeout time.Duration) error {
	b, err := jsonMarshal(body)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, b, out, timeout)
}

// SubjectAccess writes the subject-access bundle (a zip: the calls of the
// number still kept, and their recordings, decrypted when the server can)
// into w. reference is the request's case number, kept in the audit.
func (c *Client) SubjectAccess(ctx context.Context, number, reference string, w io.Writer) error {
	v := url.Values{"number": {number}}
	if reference != "" {
		v.Set("reference", reference)
	}
	req, err := c.request(ctx, http.MethodGet, "/api/v1/subject-access?"+v.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return c.finish(resp, err, nil)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("subject access: %w", err)
	}
	return nil
}
