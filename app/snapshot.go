package app

import (
	"time"

	"github.com/callguard/callguard/wire"
)

// LinkStatus says whether callguard can hear the phone system
// (wire.LinkStatus).
type LinkStatus = wire.LinkStatus

// Link statuses.
const (
	LinkManual = wire.LinkManual // no phone system: calls are marked by hand
	LinkOK     = wire.LinkOK     // subscribed and hearing the phone system
	LinkDown   = wire.LinkDown   // not hearing it: the state is unknown
)

// Snapshot is an immutable picture of the session, published after every
// change once the recorder has obeyed. The window, the tray, the local API
// and the heartbeat all render from it.
type Snapshot struct {
	// State is what the banner shows: the focused call's state, idle, or
	// unknown while the phone system cannot be heard.
	State RecordingState `json:"state"`
	// Reason qualifies State: the pause reason id, why a call is excluded,
	// why recording failed, or why the link is lost.
	Reason string `json:"reason,omitempty"`
	// ReasonLabel is Reason in words for people, e.g. "Card payment".
	ReasonLabel string    `json:"reason_label,omitempty"`
	Since       time.Time `json:"since"`
	// PauseOverdue is set once a pause has run past its reminder.
	PauseOverdue bool `json:"pause_overdue,omitempty"`

	Link   LinkStatus  `json:"link"`
	Agent  AgentView   `json:"agent"`
	Call   *CallView   `json:"call"`   // the focused call, nil when idle
	Calls  []CallView  `json:"calls"`  // every live call, oldest first
	Recent []CallView  `json:"recent"` // ended calls, newest first, at most RecentCalls
	Notice *NoticeView `json:"notice,omitempty"`
	// Version grows by one with every published change.
	Version uint64 `json:"version"`
}

// AgentView identifies the officer.
type AgentView struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// CallView is one call as the officer and integrations see it.
type CallView struct {
	ID        string         `json:"id"`
	SIPCallID string         `json:"sip_call_id,omitempty"`
	Direction Direction      `json:"direction"`
	Local     Party          `json:"local"`
	Remote    Party          `json:"remote"`
	Started   time.Time      `json:"started"`
	Answered  *time.Time     `json:"answered,omitempty"`
	Ended     *time.Time     `json:"ended,omitempty"`
	State     RecordingState `json:"state"`
	Reason    string         `json:"reason,omitempty"`
	Since     time.Time      `json:"since"`
	OnHold    bool           `json:"on_hold,omitempty"`
	Waiting   bool           `json:"waiting,omitempty"` // a second call connected while another is on the line: not recorded until the phone system holds that one
	Recorded  bool           `json:"recorded"`
	Notice    NoticeOutcome  `json:"notice"`
	Flags     []FlagView     `json:"flags,omitempty"`
	Manual    bool           `json:"manual,omitempty"`
	// KeypadMasked counts the stretches of keypad tones silenced in the
	// call's recording ("keypad tones masked"); never which keys.
	KeypadMasked int `json:"keypad_masked,omitempty"`
	// Keying: tones came in a run while recording, so the caller is keying
	// numbers; the officer is asked to pause for card details. It goes when
	// the officer pauses or no tone came for the run's time (10 s).
	Keying bool `json:"keying,omitempty"`
}

// FlagView is a flag an officer raised on a call.
type FlagView struct {
	Reason string    `json:"reason"`
	Note   string    `json:"note,omitempty"`
	At     time.Time `json:"at"`
}

// NoticeView is the privacy notice card for the focused call.
type NoticeView struct {
	Direction Direction     `json:"direction"`
	Text      string        `json:"text"`
	Awaited   bool          `json:"awaited"` // recording waits for the officer to confirm it
	Outcome   NoticeOutcome `json:"outcome"`
}
