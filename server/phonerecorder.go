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
	// OfficerTag is the officer's SIP tag in the dialog (the feed's
	// local-tag): it tells the officer's packets in the phone system's
	// recording from the caller's. Optional; without it the collector
	// cannot make a recording of the call.
	OfficerTag string `json:"officer_tag,omitempty"`
	// Where is the site's record.where, policy.RecordAtPhoneSystem ("pbx",
	// also when empty) or policy.RecordAtBoth ("both"): whether the
	// desktop records the call too, so that its recording, not the phone
	// system's, is the call's.
	Where string `json:"where,omitempty"`
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
	if len(c.OfficerTag) > 256 {
		bad = append(bad, "officer_tag has at most 256 characters")
	}
	if c.Where != "" && c.Where != WherePhoneSystem && c.Where != WhereBoth {
		bad = append(bad, fmt.Sprintf("where %q must be %q or %q", c.Where, WherePhoneSystem, WhereBoth))
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

// Where a call the phone system recorded was recorded too
// (PhoneRecorderCommand.Where, PhoneRecording.Where): the policy's
// record.where values that involve the phone system.
const (
	WherePhoneSystem = "pbx"  // only the phone system: its recording is the call's
	WhereBoth        = "both" // the desktop too: the desktop's recording is the call's
)

// PhoneRecording is what a collector (RoleCollector) learns of a call the
// phone system recorded, by the SIP Call-ID it finds in the phone system's
// recording directory (GET /api/v1/phone-recordings?sip_call_id=…): enough
// to make and upload its recording, nothing about the caller.
type PhoneRecording struct {
	// CallID is the server's id of the call: the name the collector
	// uploads the recording under (/api/v1/recordings/{call_id}/…).
	CallID    string `json:"call_id"`
	SIPCallID string `json:"sip_call_id"`
	Where     string `json:"where"` // WherePhoneSystem or WhereBoth
	// OfficerAddrs and CallerAddrs are where the phone system's recorder
	// received each party's RTP ("ip:port", as rtpengine's query said when
	// the recording first started): the packets sent to these in its pcaps
	// came from that party. Empty when it could not tell.
	OfficerAddrs []string `json:"officer_addrs"`
	CallerAddrs  []string `json:"caller_addrs"`
	// Recording is the state of the call's recording on the server:
	// "none", "uploading", "stored" or "deleted".
	Recording string `json:"recording"`
	// Upload says that this collector is to make and upload the call's
	// recording: the phone system alone recorded it, and no other account
	// has begun uploading one. When false, Why says why in words.
	Upload bool   `json:"upload"`
	Why    string `json:"why,omitempty"`
}
