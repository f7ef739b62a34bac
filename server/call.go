package server

import (
	"sort"
	"time"

	"github.com/callguard/callguard/policy"
)

// Call is one call as the server knows it, folded from its events by
// FoldCall. The facts retention looks at (direction, local number, flag
// reasons, declined) are kept as columns so the retention job can select on
// them.
type Call struct {
	// ID is the server's id of the call: the desktop's call id unless
	// another account's call had it first (then a new one), so two
	// accounts' calls never share an id. DesktopID is the id the desktop
	// gave it; the upload routes take that one.
	ID        string     `json:"id"`
	DesktopID string     `json:"desktop_call_id"`
	Device    string     `json:"device"`
	Agent     string     `json:"agent"`
	Direction string     `json:"direction"`
	Local     Party      `json:"local"`
	Remote    Party      `json:"remote"`
	SIPCallID string     `json:"sip_call_id,omitempty"`
	Started   time.Time  `json:"started"`
	Answered  *time.Time `json:"answered,omitempty"`
	Ended     *time.Time `json:"ended,omitempty"`
	Recorded  bool       `json:"recorded"`
	// State and StateReason are the last recording state the desktop reported.
	State       string `json:"state"`
	StateReason string `json:"state_reason,omitempty"`
	Notice      string `json:"notice"`
	Declined    bool   `json:"declined"`
	// DeclinedAt is when the caller objected (or the call went to declined).
	DeclinedAt *time.Time `json:"declined_at,omitempty"`
	Excluded   bool       `json:"excluded"`
	Failed     bool       `json:"failed"`
	Pauses     []Pause    `json:"pauses"`
	PausedMS   int64      `json:"paused_ms"`
	Flags      []Flag     `json:"flags"`
	// KeypadMasked counts the stretches of keypad tones the desktop's
	// recorder silenced ("keypad tones masked"); their times are the
	// call's keypad.masked events. No key is known anywhere.
	KeypadMasked int `json:"keypad_masked"`
	// KeypadMasks are those stretches, oldest first, for the timeline.
	KeypadMasks []KeypadMask `json:"keypad_masks"`
	// Recording is "none", "uploading", "stored" or "deleted".
	Recording string `json:"recording"`
	// RetentionRule is the id of the policy rule that set DeleteAfter.
	RetentionRule string     `json:"retention_rule"`
	DeleteAfter   *time.Time `json:"delete_after,omitempty"`
	// Held is true while a hold keeps the call, whatever its DeleteAfter.
	Held bool `json:"held"`
	// Erased is when retention or an erasure deleted the call's recording
	// and personal data; what is left is a stub beside its tombstone.
	Erased  *time.Time `json:"erased,omitempty"`
	Events  int        `json:"events"`
	Updated time.Time  `json:"updated"`
	// Received is when the server got the call's first event, on its own
	// clock. ClockSkewed is true when the desktop's Started was further
	// from it than the server allows (24 h by default): then retention and
	// holds count from Received, not from what the desktop said.
	// CountedFrom is the time they count from.
	Received    *time.Time `json:"received,omitempty"`
	ClockSkewed bool       `json:"clock_skewed"`
	CountedFrom time.Time  `json:"counted_from"`
}

// Pause is one stretch of a call during which recording was paused.
type Pause struct {
	Reason string     `json:"reason"`
	Start  time.Time  `json:"start"`
	End    *time.Time `json:"end,omitempty"`
}

// KeypadMask is one stretch of keypad tones silenced in a call's
// recording: when the desktop reported it, and where it is in the
// recording (ms from its start).
type KeypadMask struct {
	At     time.Time `json:"at"`
	FromMS int64     `json:"from_ms"`
	ToMS   int64     `json:"to_ms"`
}

// Flag is an officer's request to review (part of) a call for deletion.
type Flag struct {
	EventID string    `json:"event_id"`
	Reason  string    `json:"reason"`
	Note    string    `json:"note,omitempty"`
	FromMS  *int64    `json:"from_ms,omitempty"`
	ToMS    *int64    `json:"to_ms,omitempty"`
	At      time.Time `json:"at"`
	// Review is the flag's state in the dpos' review queue and Outcome what
	// came of it (pending, deleted, redacted, kept); set by the store.
	Review  ReviewState `json:"review,omitempty"`
	Outcome string      `json:"outcome,omitempty"`
}

// Recording statuses of a call.
const (
	RecordingNone      = "none"
	RecordingUploading = "uploading"
	RecordingStored    = "stored"
	RecordingDeleted   = "deleted"
)

// FoldCall builds a call from all of its events. Events are applied in seq
// order (the per-device sequence restores the order the desktop made them
// in, whatever order they arrived in), so folding is independent of arrival
// order and of duplicates.
func FoldCall(callID string, events []Event) Call {
	f := NewFold(callID)
	seen := map[string]bool{}
	for _, e := range SortBySeq(events) {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		f.Apply(e)
	}
	return f.Call()
}

// SortBySeq returns a copy of events in seq order (ties by time), the order
// folding applies them in.
func SortBySeq(events []Event) []Event {
	evs := append([]Event(nil), events...)
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].Seq != evs[j].Seq {
			return evs[i].Seq < evs[j].Seq
		}
		return evs[i].Time.Before(evs[j].Time)
	})
	return evs
}

// Fold is a call folded from its events so far, with what applying later
// ones needs: the store keeps it with the call, so a batch whose events
// come after every event folded (higher seqs) is applied on top of it
// without reading the call's earlier events again. Folding a call's events
// in one go and folding them in increments give the same Call.
type Fold struct {
	// State is the call as folded so far: its Flags are only those of the
	// events applied since the fold was made or loaded, and Pauses only the
	// ended ones.
	State Call `json:"call"`
	// LastSeq is the highest seq applied: events with higher seqs may be
	// applied on top, any other needs a fold from the start.
	LastSeq uint64 `json:"last_seq"`
	// Open is the pause not ended yet.
	Open *Pause `json:"open,omitempty"`
	// StartKnown: State.Started came from a call event; First is the time
	// of the first event, the start of a call whose call events never came.
	StartKnown bool      `json:"start_known"`
	First      time.Time `json:"first"`
}

// NewFold returns the fold of a call with no events yet.
func NewFold(callID string) *Fold {
	return &Fold{State: Call{ID: callID, Direction: "unknown", State: "unknown", Notice: "pending", Recording: RecordingNone}}
}

// Apply folds one more event in; events must come in seq order.
func (f *Fold) Apply(e Event) {
	c := &f.State
	if f.First.IsZero() {
		f.First = e.Time
	}
	f.LastSeq = max(f.LastSeq, e.Seq)
	c.Events++
	if c.Device == "" {
		c.Device = e.Device
	}
	if c.Agent == "" {
		c.Agent = e.Agent
	}
	if e.Time.After(c.Updated) {
		c.Updated = e.Time
	}
	closePause := func(at time.Time) {
		if f.Open == nil {
			return
		}
		end := at
		f.Open.End = &end
		c.Pauses = append(c.Pauses, *f.Open)
		f.Open = nil
	}
	switch e.Type {
	case EventCallRinging, EventCallAnswered, EventCallEnded:
		if e.Call == nil {
			return
		}
		ec := e.Call
		c.Direction = ec.Direction
		c.Local, c.Remote = ec.Local, ec.Remote
		if ec.SIPCallID != "" {
			c.SIPCallID = ec.SIPCallID
		}
		if !f.StartKnown || ec.Started.Before(c.Started) {
			c.Started, f.StartKnown = ec.Started, true
		}
		if ec.Answered != nil {
			c.Answered = ec.Answered
		}
		if ec.Ended != nil {
			c.Ended = ec.Ended
		}
		c.Recorded = c.Recorded || ec.Recorded
		if e.Type == EventCallEnded {
			end := e.Time
			if ec.Ended != nil {
				end = *ec.Ended
			}
			closePause(end)
		}
	case EventRecordingState:
		if f.Open != nil && (e.State != "paused" || e.Reason != f.Open.Reason) {
			closePause(e.Time)
		}
		if e.State == "paused" && f.Open == nil {
			f.Open = &Pause{Reason: e.Reason, Start: e.Time}
		}
		c.State, c.StateReason = e.State, e.Reason
		switch e.State {
		case "declined":
			c.declined(e.Time)
		case "excluded":
			c.Excluded = true
		case "failed":
			c.Failed = true
		case "recording":
			c.Recorded = true
		}
	case EventNotice:
		c.Notice = e.Outcome
		if e.Outcome == "objected" {
			c.declined(e.Time)
		}
	case EventFlag:
		c.Flags = append(c.Flags, Flag{EventID: e.ID, Reason: e.Reason, Note: e.Note, FromMS: e.FromMS, ToMS: e.ToMS, At: e.Time})
	case EventKeypadMasked:
		if e.FromMS != nil && e.ToMS != nil {
			c.KeypadMasks = append(c.KeypadMasks, KeypadMask{At: e.Time, FromMS: *e.FromMS, ToMS: *e.ToMS})
			c.KeypadMasked = len(c.KeypadMasks)
		}
	}
}

// Call returns the call as folded so far: the open pause listed last, the
// paused time of the ended ones, and, for a call whose call events never
// came, its first event's time as its start.
func (f *Fold) Call() Call {
	c := f.State
	c.Pauses = append([]Pause(nil), c.Pauses...)
	if f.Open != nil {
		c.Pauses = append(c.Pauses, *f.Open)
	}
	c.PausedMS = 0
	for _, p := range c.Pauses {
		if p.End != nil {
			c.PausedMS += p.End.Sub(p.Start).Milliseconds()
		}
	}
	if !f.StartKnown || c.Started.IsZero() {
		c.Started = f.First
	}
	return c
}

func (c *Call) declined(at time.Time) {
	c.Declined = true
	if c.DeclinedAt == nil || at.Before(*c.DeclinedAt) {
		t := at
		c.DeclinedAt = &t
	}
}

// FlagReasons lists the distinct reasons the call was flagged for.
func (c *Call) FlagReasons() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range c.Flags {
		if !seen[f.Reason] {
			seen[f.Reason] = true
			out = append(out, f.Reason)
		}
	}
	return out
}

// Retention returns the rule and the delete_after date the policy gives a
// call with facts f: the period of the first matching rule, counted from
// from (the call's start, or its arrival when the desktop's clock was off:
// see CountedFrom).
func Retention(p *policy.Policy, from time.Time, f policy.CallFacts) (rule string, deleteAfter time.Time) {
	period, rule := p.RetentionFor(f)
	return rule, period.After(from).UTC()
}

// CountFrom returns the time retention and holds count a call from: when
// it started, if that is within skew of when the server received it, else
// when it was received. A desktop's clock can be wrong or set on purpose;
// the server's decides.
func CountFrom(started, received time.Time, skew time.Duration) (from time.Time, skewed bool) {
	if d := started.Sub(received); d > skew || d < -skew {
		return received, true
	}
	return started, false
}

// CallFilter selects calls for a search. Empty fields match everything.
type CallFilter struct {
	// Number matches the remote or local number, as a substring.
	Number string
	Agent  string
	// Supervisor, if set, keeps to the calls of agents who share a team
	// with her (see Team).
	Supervisor string
	From       time.Time // calls started at or after
	To         time.Time // calls started before
	// E164, if set, matches the remote or the local number exactly, in
	// E.164 (see E164): a number typed in any form finds its calls.
	E164 string
	// Team keeps to the calls of the team's members.
	Team string
	// Direction is "inbound" or "outbound".
	Direction string
	// Flag keeps to calls an officer flagged: for that reason, or for any
	// with FlagAny.
	Flag string
	// Category keeps to calls the retention rule of that id applies to.
	Category string
	// Recording keeps to calls with a stored recording (RecordingYes) or
	// without one (RecordingNo).
	Recording string
	// Limit caps the result (default 100, at most 1000); Offset skips
	// that many calls, newest first, to page on.
	Limit  int
	Offset int
	// After pages on by keyset: only calls after this one in the order of
	// the results (newest first), which stays fast however deep the page.
	After *CallCursor
}

// FlagAny is CallFilter.Flag for a flag of any reason.
const FlagAny = "*"

// CallFilter.Recording values.
const (
	RecordingYes = "yes"
	RecordingNo  = "no"
)

// CallCursor is where a page of calls ended: the last call's start and id.
type CallCursor struct {
	Started time.Time
	ID      string
}
