package app

import (
	"fmt"

	"github.com/callguard/callguard/wire"
)

// RecordingState is the recording state of a call as officers, integrations
// and the server see it: the contract's one typed form, wire.RecordingState
// (names in server/openapi.yaml, meanings in docs/architecture.md). The core
// calls it by its own name because it is the core's central value.
type RecordingState = wire.RecordingState

// The recording states. The zero value is StateUnknown, so a state that was
// never set reads as "cannot tell", never as recording or not recording.
const (
	StateUnknown        = wire.StateUnknown        // lost contact with the phone system
	StateIdle           = wire.StateIdle           // no call
	StateRinging        = wire.StateRinging        // ringing or dialling; nothing recorded
	StateAwaitingNotice = wire.StateAwaitingNotice // outbound call answered; waits for the notice
	StateRecording      = wire.StateRecording      // audio is being recorded
	StatePaused         = wire.StatePaused         // paused with a reason; audio is silence
	StateDeclined       = wire.StateDeclined       // caller objected; nothing more recorded
	StateExcluded       = wire.StateExcluded       // a policy rule says never record this call
	StateFailed         = wire.StateFailed         // should record but cannot: an alarm
	// StateUnconfirmed: the phone system's recorder did not confirm a pause
	// or stop; it may still be recording (an alarm).
	StateUnconfirmed = wire.StateUnconfirmed
)

// Direction says who placed a call (wire.Direction).
type Direction = wire.Direction

// Directions. The zero value means the phone system did not say.
const (
	DirectionUnknown  = wire.DirectionUnknown
	DirectionInbound  = wire.DirectionInbound  // the caller rang the officer
	DirectionOutbound = wire.DirectionOutbound // the officer dialled
)

// ParseDirection reads "inbound" or "outbound", as a call marked by hand
// must say; anything else, "unknown" too, is an error.
func ParseDirection(s string) (Direction, error) {
	if d, err := wire.ParseDirection(s); err == nil && d != DirectionUnknown {
		return d, nil
	}
	return DirectionUnknown, fmt.Errorf("unknown direction %q (want inbound or outbound)", s)
}
