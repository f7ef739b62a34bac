package app

// NoticeOutcome is what happened with the privacy notice on a call.
type NoticeOutcome int

// Notice outcomes. The zero value means nothing happened yet.
const (
	NoticePending   NoticeOutcome = iota // not given yet
	NoticeRead                           // the officer read it and the caller did not object
	NoticeObjected                       // the caller objected or asked not to be recorded
	NoticeAnnounced                      // the phone system announced recording (inbound)
	NoticeNotNeeded                      // the call is not recorded at all
)

var noticeNames = [...]string{"pending", "read", "objected", "announced", "not-needed"}

// String returns the outcome's name as written in manifests and events.
func (o NoticeOutcome) String() string {
	if o < 0 || int(o) >= len(noticeNames) {
		return "pending"
	}
	return noticeNames[o]
}

// MarshalText writes the outcome's name.
func (o NoticeOutcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// NotificationKind says why the officer is being notified.
type NotificationKind int

// Notification kinds; each is throttled on its own.
const (
	NotifyRecordingStarted NotificationKind = iota + 1 // after the notice, recording began
	NotifyPauseLong                                    // a pause has run past its reminder
	NotifyStateUnknown                                 // lost contact with the phone system
	NotifyRecordingFailed                              // recording should happen but does not
	NotifyLocalAPIOff                                  // the local API could not start (its port is taken)
)

// Notification is a desktop notification the core asks for.
type Notification struct {
	Kind  NotificationKind
	Title string
	Body  string
	// Key identifies the situation: the same kind and key is shown once.
	Key string
}
