package app

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/callguard/callguard/wire"
)

// EventType names a metadata event (wire.EventType: the server's ingest
// contract, server/openapi.yaml).
type EventType = wire.EventType

// Metadata event types.
const (
	EventCallRinging    = wire.EventCallRinging    // Call set
	EventCallAnswered   = wire.EventCallAnswered   // Call set
	EventCallEnded      = wire.EventCallEnded      // Call set
	EventRecordingState = wire.EventRecordingState // State and Reason set
	EventNotice         = wire.EventNotice         // Outcome set
	EventFlag           = wire.EventFlag           // Reason, Note and the interval set
	EventLink           = wire.EventLink           // State is "up", "lost" or "manual"
	// EventKeypadMasked: keypad tones were silenced in the call's recording
	// over FromMS–ToMS (ms from its start). It never says which keys.
	EventKeypadMasked = wire.EventKeypadMasked
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
