package app

import (
	"encoding/json"
	"fmt"
)

// RecordingState is the recording state of a call as officers, integrations
// and the server see it. The names are a contract: RecordingState in
// server/openapi.yaml, with their meanings in docs/architecture.md.
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
)

var stateNames = [...]string{
	StateUnknown:        "unknown",
	StateIdle:           "idle",
	StateRinging:        "ringing",
	StateAwaitingNotice: "awaiting-notice",
	StateRecording:      "recording",
	StatePaused:         "paused",
	StateDeclined:       "declined",
	StateExcluded:       "excluded",
	StateFailed:         "failed",
}

// String returns the contract name of the state, such as "awaiting-notice".
func (s RecordingState) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("RecordingState(%d)", int(s))
	}
	return stateNames[s]
}

// ParseRecordingState returns the state named name.
func ParseRecordingState(name string) (RecordingState, error) {
	for i, n := range stateNames {
		if n == name {
			return RecordingState(i), nil
		}
	}
	return StateUnknown, fmt.Errorf("unknown recording state %q", name)
}

// MarshalText encodes the state as its contract name.
func (s RecordingState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a contract name.
func (s *RecordingState) UnmarshalText(b []byte) error {
	v, err := ParseRecordingState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Direction says who placed a call.
type Direction int

// Directions. The zero value means the phone system did not say.
const (
	DirectionUnknown  Direction = iota
	DirectionInbound            // the caller rang the officer
	DirectionOutbound           // the officer dialled
)

// String returns "inbound", "outbound" or "unknown".
func (d Direction) String() string {
	switch d {
	case DirectionInbound:
		return "inbound"
	case DirectionOutbound:
		return "outbound"
	}
	return "unknown"
}

// ParseDirection reads "inbound" or "outbound"; anything else is an error.
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "inbound":
		return DirectionInbound, nil
	case "outbound":
		return DirectionOutbound, nil
	}
	return DirectionUnknown, fmt.Errorf("unknown direction %q (want inbound or outbound)", s)
}

// MarshalJSON encodes the direction as its name.
func (d Direction) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON decodes a direction name; "unknown" is accepted.
func (d *Direction) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "unknown" || s == "" {
		*d = DirectionUnknown
		return nil
	}
	v, err := ParseDirection(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
