package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Hold reasons: why a dpo keeps calls past their retention.
const (
	HoldComplaint     = "complaint"
	HoldInvestigation = "investigation"
	HoldLitigation    = "litigation"
)

// HoldReasons lists the valid hold reasons.
var HoldReasons = []string{HoldComplaint, HoldInvestigation, HoldLitigation}

// Hold keeps calls from being deleted: one call, or every call of a number
// or of an agent, optionally within a date range of the calls' start.
// There is no limit on how many holds or how many calls a hold covers.
type Hold struct {
	ID     int64      `json:"id"`
	CallID string     `json:"call_id,omitempty"`
	Number string     `json:"number,omitempty"`
	Agent  string     `json:"agent,omitempty"`
	From   *time.Time `json:"from,omitempty"` // calls started at or after
	To     *time.Time `json:"to,omitempty"`   // calls started before
	Reason string     `json:"reason"`
	Note   string     `json:"note,omitempty"`
	// Owner is who answers for the hold (a case handler); ReviewAt is when
	// the hold must be looked at again.
	Owner     string     `json:"owner"`
	ReviewAt  *time.Time `json:"review_at,omitempty"`
	Created   time.Time  `json:"created"`
	CreatedBy string     `json:"created_by"`
	// A lift asked for by one dpo and not yet done by a second.
	LiftRequestedBy string     `json:"lift_requested_by,omitempty"`
	LiftRequestedAt *time.Time `json:"lift_requested_at,omitempty"`
	LiftReason      string     `json:"lift_reason,omitempty"`
	Lifted          *time.Time `json:"lifted,omitempty"`
	LiftedBy        string     `json:"lifted_by,omitempty"`
	// Calls is how many calls (not yet erased) the hold covers now.
	Calls int `json:"calls"`
}

// Active reports whether the hold still keeps calls.
func (h *Hold) Active() bool { return h.Lifted == nil }

// Validate checks a new hold; errors wrap ErrInvalid.
func (h *Hold) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	targets := 0
	for _, v := range []string{h.CallID, h.Number, h.Agent} {
		if v != "" {
			targets++
		}
	}
	if targets != 1 {
		bad("a hold names exactly one of call_id, number or agent")
	}
	if h.CallID != "" && !validID(h.CallID) {
		bad("call_id is not a call id")
	}
	if h.CallID != "" && (h.From != nil || h.To != nil) {
		bad("a hold on one call has no date range")
	}
	if h.Number != "" && NumberKey(h.Number) == "" || len(h.Number) > maxNumberLen {
		bad("number %q is not a phone number", h.Number)
	}
	if len(h.Agent) > maxNameLen {
		bad("agent is longer than %d bytes", maxNameLen)
	}
	if h.From != nil && h.To != nil && !h.To.After(*h.From) {
		bad("to must be after from")
	}
	if !oneOf(h.Reason, HoldReasons) {
		bad("reason %q must be complaint, investigation or litigation", h.Reason)
	}
	if strings.TrimSpace(h.Owner) == "" || len(h.Owner) > maxNameLen {
		bad("owner is required (who answers for the hold)")
	}
	if len(h.Note) > maxNoteLen {
		bad("note is longer than %d bytes", maxNoteLen)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", errors.Join(errs...), ErrInvalid)
	}
	return nil
}

// NumberKey is the form a phone number is matched by, for holds, erasure,
// the audit's keyed hash and the release register: E.164 when it is a
// whole number in any common spelling ("07700 900123", "+44 7700 900123",
// "0044 7700 900123" and "+44 (0)7700 900123" are one number), else the
// number without its spacing and brackets (an extension, a short code).
func NumberKey(n string) string {
	if e := E164OrEmpty(n); e != "" {
		return e
	}
	return spacingless(n)
}

// spacingless is n without the spaces, dashes, brackets and dots people
// write in numbers: the form numbers were matched by before NumberKey
// became E.164 (migration 0012).
func spacingless(n string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.', '\t':
			return -1
		}
		return r
	}, n)
}

// ReviewState is the state of an item in the dpos' review queue
// (ReviewState in server/openapi.yaml). Decoding refuses a name that is not
// one.
type ReviewState string

// Review states of an item in the dpos' review queue.
const (
	ReviewOpen             ReviewState = "open"              // waiting for a dpo's decision
	ReviewAwaitingApproval ReviewState = "awaiting-approval" // decided; a second dpo must approve (two-person rule)
	ReviewRedactionPending ReviewState = "redaction-pending" // card details: redacted as soon as the server can (see Pending)
	ReviewAutoRedacted     ReviewState = "auto-redacted"     // card details redacted at once; a dpo confirms
	ReviewApproved         ReviewState = "approved"          // a deletion decided (and approved) and being carried out
	ReviewDone             ReviewState = "done"
)

var reviewStates = []ReviewState{ReviewOpen, ReviewAwaitingApproval, ReviewApproved, ReviewRedactionPending, ReviewAutoRedacted, ReviewDone}

// ReviewStates lists the review states.
func ReviewStates() []ReviewState { return slices.Clone(reviewStates) }

// ParseReviewState returns the review state named name; errors wrap
// ErrInvalid.
func ParseReviewState(name string) (ReviewState, error) {
	if slices.Contains(reviewStates, ReviewState(name)) {
		return ReviewState(name), nil
	}
	return "", fmt.Errorf("unknown review state %q: %w", name, ErrInvalid)
}

// UnmarshalText decodes a review state and refuses a name that is not one.
func (s *ReviewState) UnmarshalText(b []byte) error {
	v, err := ParseReviewState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Why an automatic redaction waits (ReviewItem.Pending).
const (
	PendingNoKey       = "no-key"       // the server has no organisation identity (--identity)
	PendingNoRecording = "no-recording" // the recording has not been uploaded yet
	PendingFailed      = "failed"       // the redaction failed (see the server's log); it is retried every minute
)

// Review item kinds.
const (
	ReviewKindFlag     = "flag"     // an officer flagged the call
	ReviewKindDeclined = "declined" // the caller objected to recording
)

// Decisions a dpo takes on a review item.
const (
	DecisionDelete         = "delete"          // delete the whole recording
	DecisionDeleteInterval = "delete-interval" // silence an interval and re-encrypt
	DecisionKeep           = "keep"            // keep it, with a reason
	DecisionConfirm        = "confirm"         // confirm an automatic redaction
)

// ReviewApprove, in ReviewItem.Allows, says a second dpo may approve or
// reject the decision the item waits on.
const ReviewApprove = "approve"

// Outcomes of a review item as the officer who flagged it sees them.
const (
	OutcomePending  = "pending"
	OutcomeDeleted  = "deleted"
	OutcomeRedacted = "redacted"
	OutcomeKept     = "kept"
)

// ReviewItem is one entry of the dpos' review queue: an officer's flag or a
// declined call, with the call it is about.
type ReviewItem struct {
	ID      string      `json:"id"`
	Kind    string      `json:"kind"`
	CallID  string      `json:"call_id"`
	Officer string      `json:"officer"`
	Reason  string      `json:"reason"`
	Label   string      `json:"reason_label,omitempty"`
	Note    string      `json:"note,omitempty"`
	FromMS  *int64      `json:"from_ms,omitempty"`
	ToMS    *int64      `json:"to_ms,omitempty"`
	At      time.Time   `json:"at"`
	State   ReviewState `json:"state"`
	Pending string      `json:"pending,omitempty"`
	Outcome string      `json:"outcome"`
	Updated *time.Time  `json:"updated,omitempty"`

	Decision       string     `json:"decision,omitempty"`
	DecisionFromMS *int64     `json:"decision_from_ms,omitempty"`
	DecisionToMS   *int64     `json:"decision_to_ms,omitempty"`
	DecisionNote   string     `json:"decision_note,omitempty"`
	DecidedBy      string     `json:"decided_by,omitempty"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	ApprovedBy     string     `json:"approved_by,omitempty"`
	ApprovedAt     *time.Time `json:"approved_at,omitempty"`

	// The call.
	Started       time.Time  `json:"call_started"`
	Direction     string     `json:"direction"`
	Remote        string     `json:"remote"`
	Recording     string     `json:"recording"` // none, uploading, stored, deleted
	RetentionRule string     `json:"retention_rule"`
	DeleteAfter   *time.Time `json:"delete_after,omitempty"`
	Held          bool       `json:"held"`

	// Allows lists what a dpo may do with the item now, by the rules the
	// server applies to a decision: the decisions (delete, delete-interval,
	// keep, confirm) and ReviewApprove. The server fills it in its answers
	// (protect.Service.Allows), so a client offers exactly these and never
	// derives the rules itself.
	Allows []string `json:"allows,omitempty"`
}

// ReviewQueue is the answer of GET /api/v1/review: the items, and what a
// dpo's client needs to know about the server to offer the right actions.
type ReviewQueue struct {
	Items []ReviewItem `json:"items"`
	// TwoPersonDeletion: a deletion waits for a second dpo's approval.
	TwoPersonDeletion bool `json:"two_person_deletion"`
	// ServerHasKey: the server can play and redact.
	ServerHasKey bool `json:"server_has_key"`
}

// Decision is what a dpo decides on a review item.
type Decision struct {
	Action string `json:"action"`
	// FromMS and ToMS are the interval to silence for delete-interval, in
	// ms from the recording's start; they default to the flag's interval.
	FromMS *int64 `json:"from_ms,omitempty"`
	ToMS   *int64 `json:"to_ms,omitempty"`
	// Note is the dpo's reason; required to keep. The officer never sees it.
	Note string `json:"note,omitempty"`
}

// Validate checks a decision; errors wrap ErrInvalid.
func (d *Decision) Validate() error {
	switch d.Action {
	case DecisionDelete, DecisionKeep, DecisionConfirm, DecisionDeleteInterval:
	default:
		return fmt.Errorf("action %q must be delete, delete-interval, keep or confirm: %w", d.Action, ErrInvalid)
	}
	if d.Action == DecisionKeep && strings.TrimSpace(d.Note) == "" {
		return fmt.Errorf("keeping a flagged recording needs a reason (note): %w", ErrInvalid)
	}
	if len(d.Note) > maxNoteLen {
		return fmt.Errorf("note is longer than %d bytes: %w", maxNoteLen, ErrInvalid)
	}
	if (d.FromMS == nil) != (d.ToMS == nil) {
		return fmt.Errorf("from_ms and to_ms come together: %w", ErrInvalid)
	}
	if d.FromMS != nil && (*d.FromMS < 0 || *d.ToMS <= *d.FromMS) {
		return fmt.Errorf("interval %d–%d ms is not valid: %w", *d.FromMS, *d.ToMS, ErrInvalid)
	}
	return nil
}

// FlagOutcome is one of an officer's own flags as they see it: what
// happened, not why.
type FlagOutcome struct {
	ID      string     `json:"id"`
	CallID  string     `json:"call_id"`
	Reason  string     `json:"reason"`
	At      time.Time  `json:"at"`
	FromMS  *int64     `json:"from_ms,omitempty"`
	ToMS    *int64     `json:"to_ms,omitempty"`
	Outcome string     `json:"outcome"` // pending, deleted, redacted, kept
	Decided *time.Time `json:"decided,omitempty"`
}

// Tombstone causes.
const (
	CauseRetention = "retention"
	CauseErasure   = "erasure"
)

// Tombstone is the evidence that a call's recording and personal metadata
// were deleted: when, why, under which rule, and the sha256 of what went.
type Tombstone struct {
	CallID          string     `json:"call_id"`
	Started         time.Time  `json:"started"`
	Ended           *time.Time `json:"ended,omitempty"`
	Rule            string     `json:"rule"`
	Cause           string     `json:"cause"`         // retention or erasure
	Ref             string     `json:"ref,omitempty"` // the erasure's id
	Actor           string     `json:"actor"`
	State           string     `json:"state"` // pending (begun) or done
	Begun           time.Time  `json:"begun"`
	Deleted         time.Time  `json:"deleted"`
	RecordingStatus string     `json:"recording_status"` // what the recording was: none, uploading, stored, deleted
	RecordingBytes  int64      `json:"recording_bytes"`
	SHA256Recording string     `json:"sha256_recording,omitempty"`
	SHA256Metadata  string     `json:"sha256_metadata"`
}

// Erasure states.
const (
	ErasureAwaitingApproval = "awaiting-approval"
	ErasureDone             = "done"
	ErasureRejected         = "rejected"
)

// Erasure is the erasure of everything about one phone number: every call
// with it as the remote number that no hold keeps.
type Erasure struct {
	ID          int64      `json:"id"`
	Number      string     `json:"number"` // masked: only the last three digits
	Reference   string     `json:"reference,omitempty"`
	State       string     `json:"state"`
	RequestedBy string     `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	ApprovedBy  string     `json:"approved_by,omitempty"`
	ApprovedAt  *time.Time `json:"approved_at,omitempty"`
	Done        *time.Time `json:"done,omitempty"`
	// Erased counts the calls erased; Calls are their ids.
	Erased int      `json:"erased"`
	Calls  []string `json:"calls"`
	// Held are the calls a hold kept, with the holds.
	Held []HeldCall `json:"held"`
}

// HeldCall is a call that holds kept from a deletion.
type HeldCall struct {
	CallID string  `json:"call_id"`
	Holds  []int64 `json:"holds"`
}

// DueCall is a call that retention will delete soon.
type DueCall struct {
	CallID      string    `json:"call_id"`
	Agent       string    `json:"agent"`
	Started     time.Time `json:"started"`
	DeleteAfter time.Time `json:"delete_after"`
	Rule        string    `json:"rule"`
	Recording   string    `json:"recording"`
}

// RetentionReport is what the dpo looks at each week: holds due for review
// and calls due for deletion soon.
type RetentionReport struct {
	Now   time.Time `json:"now"`
	Until time.Time `json:"until"`
	// HoldsDue are active holds whose review date is before Until.
	HoldsDue []Hold `json:"holds_due"`
	// Due are the calls (not held) whose delete_after is after Now and
	// before Until, soonest first, up to a limit; DueCount counts them all.
	Due      []DueCall `json:"due"`
	DueCount int       `json:"due_count"`
	// Overdue counts calls whose date has come, which the next run deletes.
	Overdue int `json:"overdue"`
	// HeldPastDate counts calls whose date has come that holds keep.
	HeldPastDate int `json:"held_past_date"`
	// Unfinished counts deletions begun and not yet finished (a run was
	// interrupted; the next one finishes them).
	Unfinished int `json:"unfinished"`
}

// ExpiryReport says what one retention run did.
type ExpiryReport struct {
	Started  time.Time     `json:"started"`
	Took     time.Duration `json:"took_ns"`
	Deleted  int           `json:"deleted"` // calls erased in this run
	Resumed  int           `json:"resumed"` // of them, deletions an earlier run had begun
	Blobs    int           `json:"blobs"`   // recordings (stored or partial) removed
	Missing  int           `json:"missing"` // recordings already gone: not an error
	Batches  int           `json:"batches"`
	HeldPast int           `json:"held_past"` // calls past their date kept by holds
}

// AuditFilter selects audit records. Empty fields match everything.
type AuditFilter struct {
	Target string // a call id, username, hold…
	// Targets widens Target: a record whose target is any of them (or
	// Target) matches.
	Targets []string
	Actor   string
	Action  string    // exact, or a prefix ending in '.', e.g. "hold."
	From    time.Time // at or after
	To      time.Time // before
	// AfterSeq pages on; Limit caps the result (default 100, at most 1000).
	AfterSeq int64
	Limit    int
}

// AuditCheckpoint is a signed statement of the audit chain's hash at seq.
type AuditCheckpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
	PublicKey string    `json:"public_key"` // ed25519, hex
	Signature string    `json:"signature"`  // hex
}

// NumberHMAC is the keyed hash (HMAC-SHA256 under the server's secret) of
// a whole phone number, as the audit records a lookup of it: a dpo can
// find who looked up a number, while the audit never holds the number and
// one who holds the database but not the secret cannot test guesses.
func NumberHMAC(secret []byte, number string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(NumberKey(number)))
	return hex.EncodeToString(m.Sum(nil))
}

// NumberTarget is the audit target of a lookup of number: "number:<hmac>".
func NumberTarget(secret []byte, number string) string { return "number:" + NumberHMAC(secret, number) }

// NumberTargets are the audit targets a lookup of number may have been
// recorded under: NumberTarget's, and, for lookups audited before numbers
// were keyed in E.164 (migration 0012), the hash of the number as it was
// then keyed (without its spacing) when that differs.
func NumberTargets(secret []byte, number string) []string {
	targets := []string{NumberTarget(secret, number)}
	if old := spacingless(number); old != NumberKey(number) {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(old))
		targets = append(targets, "number:"+hex.EncodeToString(m.Sum(nil)))
	}
	return targets
}
