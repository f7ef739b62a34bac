package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/callguard/callguard/wire"
)

// EventType names a metadata event: the ingest contract's one typed form,
// wire.EventType (openapi.yaml, Event). Decoding refuses a name that is not
// one.
type EventType = wire.EventType

// The event types the desktops send.
const (
	EventCallRinging    = wire.EventCallRinging
	EventCallAnswered   = wire.EventCallAnswered
	EventCallEnded      = wire.EventCallEnded
	EventRecordingState = wire.EventRecordingState
	EventNotice         = wire.EventNotice
	EventFlag           = wire.EventFlag
	EventLink           = wire.EventLink
	// EventKeypadMasked: keypad tones were silenced in the call's recording
	// over from_ms–to_ms. It never carries a key.
	EventKeypadMasked = wire.EventKeypadMasked
)

// Limits of the ingest contract; they live in wire, which the desktop
// imports too.
const (
	MaxBatch     = wire.MaxBatch // events in one request
	maxIDLen     = wire.MaxIDLen
	maxNumberLen = wire.MaxNumberLen
	maxNameLen   = wire.MaxNameLen
	maxURILen    = wire.MaxURILen
	maxReasonLen = wire.MaxReasonLen
	maxNoteLen   = wire.MaxNoteLen
)

// Event is one metadata event as a desktop sends it.
type Event struct {
	ID     string    `json:"id"`
	Device string    `json:"device,omitempty"`
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Type   EventType `json:"type"`
	Agent  string    `json:"agent"`
	CallID string    `json:"call_id,omitempty"`

	Call *EventCall `json:"call,omitempty"`
	// State is a recording state (wire.RecordingState) or, for a link
	// event, a link status (wire.LinkStatus); Outcome a notice outcome
	// (wire.NoticeOutcome). They stay strings so that which names are valid
	// follows the type, and a missing one is refused, not read as a zero.
	State   string `json:"state,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Note    string `json:"note,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	FromMS  *int64 `json:"from_ms,omitempty"`
	ToMS    *int64 `json:"to_ms,omitempty"`

	// Raw is the event exactly as received; the store keeps it so that a
	// later server can project fields this one does not know.
	Raw json.RawMessage `json:"-"`
}

// EventCall describes the call an event is about.
type EventCall struct {
	Direction string     `json:"direction"`
	Local     Party      `json:"local"`
	Remote    Party      `json:"remote"`
	SIPCallID string     `json:"sip_call_id,omitempty"`
	Started   time.Time  `json:"started"`
	Answered  *time.Time `json:"answered,omitempty"`
	Ended     *time.Time `json:"ended,omitempty"`
	Recorded  bool       `json:"recorded"`
}

// Party is one end of a call.
type Party struct {
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
	URI    string `json:"uri,omitempty"`
}

// BatchItem is one event of an ingest request as read: the event, and Err
// when it breaks the contract (Err wraps ErrInvalid and says why, in
// words; the event is refused, the rest of the batch goes on). An item
// that is not even an event object keeps what could be read of its id and
// seq, to name it in the answer.
type BatchItem struct {
	Event Event
	Err   error
}

// DecodeBatch reads an ingest request body {"events":[...]} and validates
// every event on its own. Unknown fields are ignored (newer desktops may
// add some). Only a body that is not such an object, or holds more than
// MaxBatch events, is an error (wrapping ErrInvalid): one bad event never
// makes the good ones wait.
func DecodeBatch(b []byte) ([]BatchItem, error) {
	var req struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("malformed JSON: %v: %w", err, ErrInvalid)
	}
	if req.Events == nil {
		return nil, fmt.Errorf(`body must be {"events":[...]}: %w`, ErrInvalid)
	}
	if len(req.Events) > MaxBatch {
		return nil, fmt.Errorf("%d events in one batch, at most %d: %w", len(req.Events), MaxBatch, ErrInvalid)
	}
	out := make([]BatchItem, len(req.Events))
	for i, raw := range req.Events {
		e := &out[i].Event
		if err := json.Unmarshal(raw, e); err != nil {
			var name struct {
				ID  any `json:"id"`
				Seq any `json:"seq"`
			}
			json.Unmarshal(raw, &name)
			*e = Event{}
			if id, ok := name.ID.(string); ok && len(id) <= maxIDLen {
				e.ID = id
			}
			if seq, ok := name.Seq.(float64); ok && seq >= 0 && seq < 1<<53 {
				e.Seq = uint64(seq)
			}
			out[i].Err = fmt.Errorf("not an event: %v: %w", err, ErrInvalid)
			continue
		}
		if err := e.Validate(); err != nil {
			out[i].Err = err
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			out[i].Err = fmt.Errorf("not an event: %v: %w", err, ErrInvalid)
			continue
		}
		e.Raw = compact.Bytes()
	}
	return out, nil
}

// Validate checks the event against the ingest contract; errors wrap ErrInvalid.
func (e *Event) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !validID(e.ID) {
		bad("id must be 1–%d letters, digits, '-' or '_'", maxIDLen)
	}
	if e.Seq == 0 {
		bad("seq must be 1 or more")
	}
	// Any time is stored as the desktop said it; the server's own clock
	// decides retention (see store: a call more than the allowed skew from
	// its arrival is counted from its arrival).
	if e.Time.IsZero() {
		bad("time is missing")
	}
	tooLong := func(field, v string, limit int) {
		if len(v) > limit {
			bad("%s is %d bytes, at most %d", field, len(v), limit)
		}
	}
	tooLong("agent", e.Agent, maxNameLen)
	tooLong("device", e.Device, maxIDLen)
	if e.CallID != "" && !validID(e.CallID) {
		bad("call_id must be 1–%d letters, digits, '-' or '_'", maxIDLen)
	}
	tooLong("reason", e.Reason, maxReasonLen)
	tooLong("note", e.Note, maxNoteLen)
	needCall := func() {
		if e.CallID == "" {
			bad("%s needs call_id", e.Type)
		}
	}
	switch e.Type {
	case EventCallRinging, EventCallAnswered, EventCallEnded:
		needCall()
		if e.Call == nil {
			bad("%s needs call", e.Type)
		} else if err := e.Call.validate(); err != nil {
			errs = append(errs, err)
		}
	case EventRecordingState:
		needCall()
		if _, err := wire.ParseRecordingState(e.State); err != nil {
			bad("state %q is not a recording state", e.State)
		}
	case EventNotice:
		needCall()
		if _, err := wire.ParseNoticeOutcome(e.Outcome); err != nil {
			bad("outcome %q is not a notice outcome", e.Outcome)
		}
	case EventFlag:
		needCall()
		if e.Reason == "" {
			bad("flag needs a reason")
		}
		if (e.FromMS == nil) != (e.ToMS == nil) {
			bad("from_ms and to_ms come together")
		} else if e.FromMS != nil && (*e.FromMS < 0 || *e.ToMS < *e.FromMS) {
			bad("interval %d–%d ms is not valid", *e.FromMS, *e.ToMS)
		}
	case EventKeypadMasked:
		needCall()
		if e.FromMS == nil || e.ToMS == nil {
			bad("keypad.masked needs from_ms and to_ms")
		} else if *e.FromMS < 0 || *e.ToMS < *e.FromMS {
			bad("interval %d–%d ms is not valid", *e.FromMS, *e.ToMS)
		}
		if e.Reason != "" || e.Note != "" || e.State != "" || e.Outcome != "" {
			bad("keypad.masked carries its interval only")
		}
	case EventLink:
		if _, err := wire.ParseLinkStatus(e.State); err != nil {
			bad("link state %q must be up, lost or manual", e.State)
		}
	default:
		bad("unknown event type %q", e.Type)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", errors.Join(errs...), ErrInvalid)
	}
	return nil
}

func (c *EventCall) validate() error {
	var errs []error
	if _, err := wire.ParseDirection(c.Direction); err != nil {
		errs = append(errs, fmt.Errorf("call.direction %q must be inbound, outbound or unknown", c.Direction))
	}
	tooLong := func(field, v string, limit int) {
		if len(v) > limit {
			errs = append(errs, fmt.Errorf("call.%s is %d bytes, at most %d", field, len(v), limit))
		}
	}
	for _, p := range []struct {
		name string
		v    Party
	}{{"local", c.Local}, {"remote", c.Remote}} {
		tooLong(p.name+".number", p.v.Number, maxNumberLen)
		tooLong(p.name+".name", p.v.Name, maxNameLen)
		tooLong(p.name+".uri", p.v.URI, maxURILen)
	}
	tooLong("sip_call_id", c.SIPCallID, maxURILen)
	if c.Started.IsZero() {
		errs = append(errs, errors.New("call.started is missing"))
	}
	return errors.Join(errs...)
}

// ValidID reports whether s can name an event, call or device: 1–64
// letters, digits, '-' or '_'. Call ids name files on disk, so nothing else
// is allowed.
func ValidID(s string) bool { return wire.ValidID(s) }

func validID(s string) bool { return wire.ValidID(s) }

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
