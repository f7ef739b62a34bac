package app

import "github.com/callguard/callguard/wire"

// NoticeOutcome is what happened with the privacy notice on a call
// (wire.NoticeOutcome: the names manifests and notice events use).
type NoticeOutcome = wire.NoticeOutcome

// Notice outcomes. The zero value means nothing happened yet.
const (
	NoticePending   = wire.NoticePending   // not given yet
	NoticeRead      = wire.NoticeRead      // the officer read it and the caller did not object
	NoticeObjected  = wire.NoticeObjected  // the caller objected or asked not to be recorded
	NoticeAnnounced = wire.NoticeAnnounced // the phone system announced recording (inbound)
	NoticeNotNeeded = wire.NoticeNotNeeded // the call is not recorded at all
)

// NotificationKind says why the officer is being notified.
type NotificationKind int

// Notification kinds; each is throttled on its own.
const (
	NotifyRecordingStarted NotificationKind = iota + 1 // after the notice, recording began
	NotifyPauseLong                                    // a pause has run past its reminder
	NotifyStateUnknown                                 // lost contact with the phone system
	NotifyRecordingFailed                              // recording should happen but does not
	NotifyLocalAPIOff                                  // the local API could not start (its port is taken)
	NotifyKeypad                                       // the caller is keying numbers (asked to pause, or paused)
)

// Notification is a desktop notification the core asks for.
type Notification struct {
	Kind  NotificationKind
	Title string
	Body  string
	// Key identifies the situation: the same kind and key is shown once.
	Key string
}
