package app

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// EventType names a metadata event. The names are part of the server's ingest
// contract (server/openapi.yaml).
type EventType string

// Metadata event types.
const (
	EventCallRinging    EventType = "call.ringing"    // Call set
	EventCallAnswered   EventType = "call.answered"   // Call set
	EventCallEnded      EventType = "call.ended"      // Call set
	EventRecordingState EventType = "recording.state" // State and Reason set
	EventNotice         EventType = "notice"          // Outcome set
	EventFlag           EventType = "flag"            // Reason, Note and the interval set
	EventLink           EventType = "link"            // State is "up", "lost" or "manual"
)

// Event is one metadata event: every change the core makes produces one. The
// core fills ID, Time, Type, Agent and the payload; the outbox that stores it
// stamps Device and a per-device Seq that only grows, before it is sent.
type Event struct {
	ID     string    `json:"id"`
	Device string    `json:"device,omitempty"`
	Seq    uint64    `json:"seq,omitempty"`
	Time   time.Time `json:"time"`
	Type   EventType `json:"type"`
	Agent  string    `json:"agent"`
	CallID string    `json:"call_id,omitempty"`

	Call    *EventCall `json:"call,omitempty"`
	State   string     `json:"state,omitempty"`
	Reason  string     `json:"reason,omitempty"`
	Note    string     `json:"note,omitempty"`
	Outcome string     `json:"outcome,omitempty"`
	// For flags: the part of the recording the flag is about, in ms from the
	// start of the recording. Nil when the call was not recorded.
	FromMS *int64 `json:"from_ms,omitempty"`
	ToMS   *int64 `json:"to_ms,omitempty"`
}

// EventCall describes the call an event is about.
type EventCall struct {
	Direction Direction  `json:"direction"`
	Local     Party      `json:"local"`
	Remote    Party      `json:"remote"`
	SIPCallID string     `json:"sip_call_id,omitempty"`
	Started   time.Time  `json:"started"`
	Answered  *time.Time `json:"answered,omitempty"`
	Ended     *time.Time `json:"ended,omitempty"`
	Recorded  bool       `json:"recorded"`
}

// NewID returns a random 128-bit identifier in hex, for events and calls.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("callguard: no randomness: " + err.Error()) // crypto/rand never fails on supported OSes
	}
	return hex.EncodeToString(b[:])
}
