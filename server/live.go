package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/callguard/callguard/wire"
)

// Heartbeat is what a desktop reports every few seconds: the state its
// officer is in now. Times are the desktop's clock; At lets the server
// correct for skew.
type Heartbeat struct {
	At      time.Time      `json:"at"`
	State   string         `json:"state"`
	Reason  string         `json:"reason,omitempty"`
	Since   time.Time      `json:"since"`
	Link    string         `json:"link,omitempty"`
	Call    *HeartbeatCall `json:"call,omitempty"`
	Pending int            `json:"pending"`
	// Refused is how many events the server refused that the desktop keeps
	// aside (they never block the others, but someone should look).
	Refused int `json:"refused,omitempty"`
}

// HeartbeatCall is the officer's current call in a heartbeat.
type HeartbeatCall struct {
	ID        string    `json:"id"`
	Direction string    `json:"direction"`
	Remote    string    `json:"remote"`
	Started   time.Time `json:"started"`
	// KeypadMasked counts the stretches of keypad tones silenced in the
	// call's recording so far.
	KeypadMasked int `json:"keypad_masked,omitempty"`
}

// Validate checks a heartbeat; errors wrap ErrInvalid.
func (h *Heartbeat) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if h.At.IsZero() {
		bad("at is missing")
	}
	if _, err := wire.ParseRecordingState(h.State); err != nil {
		bad("state %q is not a recording state", h.State)
	}
	if len(h.Reason) > maxReasonLen {
		bad("reason is longer than %d bytes", maxReasonLen)
	}
	if _, err := wire.ParseLinkStatus(h.Link); h.Link != "" && err != nil {
		bad("link %q must be up, lost or manual", h.Link)
	}
	if h.Pending < 0 {
		bad("pending is negative")
	}
	if h.Refused < 0 {
		bad("refused is negative")
	}
	if c := h.Call; c != nil {
		if !validID(c.ID) {
			bad("call.id must be 1–%d letters, digits, '-' or '_'", maxIDLen)
		}
		if _, err := wire.ParseDirection(c.Direction); c.Direction != "" && err != nil {
			bad("call.direction %q must be inbound, outbound or unknown", c.Direction)
		}
		if len(c.Remote) > maxNumberLen {
			bad("call.remote is longer than %d bytes", maxNumberLen)
		}
		if c.KeypadMasked < 0 {
			bad("call.keypad_masked is negative")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", errors.Join(errs...), ErrInvalid)
	}
	return nil
}

// AgentState is one row of the supervisors' live board.
type AgentState struct {
	Agent  string `json:"agent"`
	Device string `json:"device,omitempty"`
	Online bool   `json:"online"`
	// LastSeen is when the server last heard from the agent (server clock).
	LastSeen time.Time `json:"last_seen"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	// ReasonLabel is the pause reason in words, from the policy.
	ReasonLabel string `json:"reason_label,omitempty"`
	// Since is when State began, on the server's clock.
	Since   time.Time `json:"since"`
	Link    string    `json:"link,omitempty"`
	Call    *LiveCall `json:"call,omitempty"`
	Pending int       `json:"pending"`
	// Refused is how many of the desktop's events the server refused.
	Refused int     `json:"refused,omitempty"`
	Alerts  []Alert `json:"alerts"`
}

// LiveCall is an agent's current call on the board. Remote is masked: only
// its last three digits are shown, as supervisors need the state, not the
// caller's number (data minimisation).
type LiveCall struct {
	ID        string    `json:"id"`
	Direction string    `json:"direction"`
	Remote    string    `json:"remote"`
	Started   time.Time `json:"started"`
	// KeypadMasked counts the stretches of keypad tones silenced in the
	// call's recording: the board shows "keypad tones masked" when it is
	// not zero.
	KeypadMasked int `json:"keypad_masked,omitempty"`
}

// KeypadMaskedText is how the boards and the call's timeline say that
// keypad tones were silenced.
const KeypadMaskedText = "keypad tones masked"

// UnconfirmedText is what the boards say of a call whose phone-system
// recorder did not confirm a pause: the officer's banner says the same.
const UnconfirmedText = "The phone system may still be recording — do not take card details"

// AlertKind says what needs a supervisor's attention.
type AlertKind string

// Alert kinds.
const (
	AlertPauseLong       AlertKind = "pause-long"       // paused past the reason's remind_after
	AlertRecordingFailed AlertKind = "recording-failed" // should record but does not
	// AlertRecordingUnconfirmed: the phone system's recorder did not
	// confirm a pause or stop, so it may still be recording.
	AlertRecordingUnconfirmed AlertKind = "recording-unconfirmed"
	AlertStateUnknown         AlertKind = "state-unknown"  // the desktop cannot hear the phone system
	AlertOffline              AlertKind = "offline"        // no heartbeat within the window
	AlertEventsRefused        AlertKind = "events-refused" // the server refused some of the desktop's events
)

// Alert is one thing on an agent's row that needs attention.
type Alert struct {
	Kind    AlertKind `json:"kind"`
	Since   time.Time `json:"since"`
	Message string    `json:"message"`
}

// MaskNumber keeps the last three digits of a number and replaces the rest
// with '•', so "+441632960123" reads "••••••••••123".
func MaskNumber(n string) string {
	r := []rune(n)
	if len(r) <= 3 {
		return n
	}
	out := make([]rune, len(r))
	for i := range r {
		if i < len(r)-3 {
			out[i] = '•'
		} else {
			out[i] = r[i]
		}
	}
	return string(out)
}
