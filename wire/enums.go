package wire

import (
	"errors"
	"fmt"
	"slices"
)

// ErrUnknownName is what decoding a contract name that is not one gives
// (wrapped with the kind and the name): a new name is added here, on both
// sides at once, never guessed at.
var ErrUnknownName = errors.New("wire: unknown name")

// RecordingState is the recording state of a call as officers,
// integrations and the server see it (RecordingState in
// server/openapi.yaml; meanings in docs/architecture.md). As text it is
// its contract name.
type RecordingState int

// The recording states. The zero value is StateUnknown, so a state that was
// never set reads as "cannot tell", never as recording or not recording.
const (
	StateUnknown        RecordingState = iota // lost contact with the phone system
	StateIdle                                 // no call
	StateRinging                              // ringing or dialling; nothing recorded
	StateAwaitingNotice                       // outbound call answered; waits for the notice
	StateRecording                            // audio is being recorded
	StatePaused                               // paused with a reason; audio is silence
	StateDeclined                             // caller objected; nothing more recorded
	StateExcluded                             // a policy rule says never record this call
	StateFailed                               // should record but cannot: an alarm
	// StateUnconfirmed: the phone system's recorder did not confirm a
	// pause or a stop in time, or refused it, so it may still be
	// recording: an alarm (do not take card details).
	StateUnconfirmed
)

var recordingStateNames = []string{
	StateUnknown:        "unknown",
	StateIdle:           "idle",
	StateRinging:        "ringing",
	StateAwaitingNotice: "awaiting-notice",
	StateRecording:      "recording",
	StatePaused:         "paused",
	StateDeclined:       "declined",
	StateExcluded:       "excluded",
	StateFailed:         "failed",
	StateUnconfirmed:    "unconfirmed",
}

// String returns the contract name of the state, such as "awaiting-notice".
func (s RecordingState) String() string { return nameOf("RecordingState", recordingStateNames, s) }

// ParseRecordingState returns the state named name.
func ParseRecordingState(name string) (RecordingState, error) {
	return parse[RecordingState]("recording state", recordingStateNames, name)
}

// RecordingStateNames lists the contract names of the recording states.
func RecordingStateNames() []string { return slices.Clone(recordingStateNames) }

// MarshalText encodes the state as its contract name; a value that is
// none of the states is an error.
func (s RecordingState) MarshalText() ([]byte, error) {
	return marshal("recording state", recordingStateNames, s)
}

// UnmarshalText decodes a contract name and refuses any other.
func (s *RecordingState) UnmarshalText(b []byte) error { return unmarshal(s, ParseRecordingState, b) }

// Direction says who placed a call.
type Direction int

// Directions. The zero value means the phone system did not say.
const (
	DirectionUnknown  Direction = iota
	DirectionInbound            // the caller rang the officer
	DirectionOutbound           // the officer dialled
)

var directionNames = []string{DirectionUnknown: "unknown", DirectionInbound: "inbound", DirectionOutbound: "outbound"}

// String returns "inbound", "outbound" or "unknown".
func (d Direction) String() string {
	if d == DirectionInbound || d == DirectionOutbound {
		return directionNames[d]
	}
	return "unknown"
}

// ParseDirection returns the direction named name: "inbound", "outbound"
// or "unknown".
func ParseDirection(name string) (Direction, error) {
	return parse[Direction]("direction", directionNames, name)
}

// DirectionNames lists the direction names.
func DirectionNames() []string { return slices.Clone(directionNames) }

// MarshalText encodes the direction as its name; a value that is none of
// the directions is an error.
func (d Direction) MarshalText() ([]byte, error) { return marshal("direction", directionNames, d) }

// UnmarshalText decodes a direction name and refuses any other.
func (d *Direction) UnmarshalText(b []byte) error { return unmarshal(d, ParseDirection, b) }

// NoticeOutcome is what happened with the privacy notice on a call, as
// manifests and notice events name it.
type NoticeOutcome int

// Notice outcomes. The zero value means nothing happened yet.
const (
	NoticePending   NoticeOutcome = iota // not given yet
	NoticeRead                           // the officer read it and the caller did not object
	NoticeObjected                       // the caller objected or asked not to be recorded
	NoticeAnnounced                      // the phone system announced recording (inbound)
	NoticeNotNeeded                      // the call is not recorded at all
)

var noticeNames = []string{"pending", "read", "objected", "announced", "not-needed"}

// String returns the outcome's name as written in manifests and events.
func (o NoticeOutcome) String() string { return nameOf("NoticeOutcome", noticeNames, o) }

// ParseNoticeOutcome returns the outcome named name.
func ParseNoticeOutcome(name string) (NoticeOutcome, error) {
	return parse[NoticeOutcome]("notice outcome", noticeNames, name)
}

// NoticeOutcomeNames lists the notice outcomes' names.
func NoticeOutcomeNames() []string { return slices.Clone(noticeNames) }

// MarshalText writes the outcome's name; a value that is none of the
// outcomes is an error.
func (o NoticeOutcome) MarshalText() ([]byte, error) {
	return marshal("notice outcome", noticeNames, o)
}

// UnmarshalText decodes an outcome's name and refuses any other.
func (o *NoticeOutcome) UnmarshalText(b []byte) error { return unmarshal(o, ParseNoticeOutcome, b) }

// LinkStatus says whether the desktop can hear the phone system, as
// heartbeats and link events name it. Like EventType it is written as it
// is (a string); reading refuses a name that is not one.
type LinkStatus string

// Link statuses.
const (
	LinkManual LinkStatus = "manual" // no phone system: calls are marked by hand
	LinkOK     LinkStatus = "up"     // subscribed and hearing the phone system
	LinkDown   LinkStatus = "lost"   // not hearing it: the state is unknown
)

var linkNames = []LinkStatus{LinkOK, LinkDown, LinkManual}

// ParseLinkStatus returns the status named name.
func ParseLinkStatus(name string) (LinkStatus, error) {
	return parseString("link status", linkNames, name)
}

// LinkStatuses lists the link statuses.
func LinkStatuses() []LinkStatus { return slices.Clone(linkNames) }

// UnmarshalText decodes a status and refuses any other.
func (l *LinkStatus) UnmarshalText(b []byte) error { return unmarshal(l, ParseLinkStatus, b) }

// EventType names a metadata event (the ingest contract: Event in
// server/openapi.yaml).
type EventType string

// The event types a desktop sends.
const (
	EventCallRinging    EventType = "call.ringing"    // Call set
	EventCallAnswered   EventType = "call.answered"   // Call set
	EventCallEnded      EventType = "call.ended"      // Call set
	EventRecordingState EventType = "recording.state" // State and Reason set
	EventNotice         EventType = "notice"          // Outcome set
	EventFlag           EventType = "flag"            // Reason, Note and the interval set
	EventLink           EventType = "link"            // State is a LinkStatus
	// EventKeypadMasked: keypad tones were silenced in the call's recording
	// over from_ms–to_ms. It never carries a key.
	EventKeypadMasked EventType = "keypad.masked"
)

var eventTypes = []EventType{EventCallRinging, EventCallAnswered, EventCallEnded, EventRecordingState, EventNotice, EventFlag, EventLink, EventKeypadMasked}

// ParseEventType returns the event type named name.
func ParseEventType(name string) (EventType, error) {
	return parseString("event type", eventTypes, name)
}

// EventTypes lists the event types.
func EventTypes() []EventType { return slices.Clone(eventTypes) }

// UnmarshalText decodes a type and refuses any other.
func (t *EventType) UnmarshalText(b []byte) error { return unmarshal(t, ParseEventType, b) }

// nameOf is v's name, or kind(v) for a value that has none.
func nameOf[T ~int](kind string, names []string, v T) string {
	if v < 0 || int(v) >= len(names) {
		return fmt.Sprintf("%s(%d)", kind, int(v))
	}
	return names[v]
}

func parse[T ~int](kind string, names []string, name string) (T, error) {
	if i := slices.Index(names, name); i >= 0 {
		return T(i), nil
	}
	return 0, fmt.Errorf("unknown %s %q: %w", kind, name, ErrUnknownName)
}

func marshal[T ~int](kind string, names []string, v T) ([]byte, error) {
	if v < 0 || int(v) >= len(names) {
		return nil, fmt.Errorf("unknown %s %d: %w", kind, int(v), ErrUnknownName)
	}
	return []byte(names[v]), nil
}

func parseString[T ~string](kind string, names []T, name string) (T, error) {
	if slices.Contains(names, T(name)) {
		return T(name), nil
	}
	return "", fmt.Errorf("unknown %s %q: %w", kind, name, ErrUnknownName)
}

func unmarshal[T any](dst *T, parse func(string) (T, error), b []byte) error {
	v, err := parse(string(b))
	if err != nil {
		return err
	}
	*dst = v
	return nil
}
