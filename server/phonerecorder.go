package server

import (
	"fmt"
	"strings"
)

// The commands a desktop asks the server to give the phone system's
// recorder (PhoneRecorderCommand.Command).
const (
	RecorderRecord = "record" // record the call from now on (start, resume)
	RecorderStop   = "stop"   // stop recording it from now on (pause, declined)
)

// PhoneRecorderCommand is a desktop's request that the server, which holds
// the phone system's recorder address (rtpengine's ng port), start or stop
// the recording of a call (POST /api/v1/phone-recorder).
type PhoneRecorderCommand struct {
	CallID    string `json:"call_id"`     // callguard's call id
	SIPCallID string `json:"sip_call_id"` // the dialog's call-id: rtpengine's key
	Command   string `json:"command"`     // RecorderRecord or RecorderStop
}

// Validate reports what is missing or wrong.
func (c PhoneRecorderCommand) Validate() error {
	var bad []string
	if c.CallID == "" || len(c.CallID) > 64 {
		bad = append(bad, "call_id must be 1 to 64 characters")
	}
	if c.SIPCallID == "" || len(c.SIPCallID) > 256 {
		bad = append(bad, "sip_call_id must be 1 to 256 characters")
	}
	if c.Command != RecorderRecord && c.Command != RecorderStop {
		bad = append(bad, fmt.Sprintf("command %q must be %q or %q", c.Command, RecorderRecord, RecorderStop))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(bad, "; "))
	}
	return nil
}

// PhoneRecorderReply is the server's answer once the phone system's
// recorder confirmed the command.
type PhoneRecorderReply struct {
	Confirmed bool  `json:"confirmed"`
	TookMS    int64 `json:"took_ms"` // from the request to the recorder's confirmation
}

// Audit actions of the phone system's recorder: every command a desktop
// asked for, with its outcome ("confirmed", "not confirmed in time",
// "refused") and how long it took.
const (
	AuditPhoneRecorderRecord = "phone-recorder." + RecorderRecord
	AuditPhoneRecorderStop   = "phone-recorder." + RecorderStop
)
