package app

import "time"

// CallEventKind says what happened to a dialog or to the link with the phone system.
type CallEventKind int

// Kinds of call event. The zero value is not a valid event.
const (
	CallEventInvalid CallEventKind = iota
	CallRinging                    // a dialog is early: ringing (inbound) or dialling (outbound)
	CallAnswered                   // a dialog is confirmed: the call is connected
	CallEnded                      // a dialog is terminated (answered or not)
	LinkLost                       // the phone system cannot be heard: state is unknown
	LinkUp                         // the phone system is heard again; dialog events follow
	CallHeld                       // the phone system says the officer put the connected call on hold
	CallResumed                    // the phone system says the held call is back on the line
)

var callEventNames = [...]string{"invalid", "ringing", "answered", "ended", "link-lost", "link-up", "held", "resumed"}

// String names the kind.
func (k CallEventKind) String() string {
	if k < 0 || int(k) >= len(callEventNames) {
		return "invalid"
	}
	return callEventNames[k]
}

// Party is one end of a call as the phone system identifies it.
type Party struct {
	Number string `json:"number"`         // user part of the URI: an extension or E.164 number
	Name   string `json:"name,omitempty"` // display name, when the phone system gives one
	URI    string `json:"uri,omitempty"`
}

// CallEvent is what the phone-system link reports about one dialog of the
// officer's extension, or about the link itself (LinkLost, LinkUp).
type CallEvent struct {
	Kind     CallEventKind
	DialogID string // stable id of the dialog for the life of the call
	CallID   string // SIP Call-ID, for correlation with the phone system's own records
	// LocalTag is the officer's SIP tag in the dialog (RFC 4235 local-tag,
	// often only once the dialog is confirmed): it tells the officer's
	// packets from the caller's in the phone system's own recording.
	LocalTag  string
	Direction Direction
	Local     Party // the officer's side (or the queue / number dialled, for inbound)
	Remote    Party // the other party
	At        time.Time
	Reason    string // for LinkLost: why the link is down; for CallEnded: why, if known
}
