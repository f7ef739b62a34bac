package app

import "time"

// Recorder starts recordings. recorder.Recorder implements it; tests use a fake.
type Recorder interface {
	// Start begins recording call. If call.PausedReason is set the gate starts
	// closed, so not one sample of the call reaches disk until Resume. onFail
	// is called at most once, from any goroutine, if the recording stops by
	// itself (device lost, disk full); the recording is then already closed.
	Start(call RecordingCall, onFail func(error)) (Recording, error)
}

// Recording is one call's recording in progress.
type Recording interface {
	// Pause closes the gate: when it returns, every sample captured from then
	// on is digital silence. reason is written to the manifest.
	Pause(reason string) error
	// Resume opens the gate again.
	Resume() error
	// Stop finalises the recording with the call's closing facts and returns
	// once the encrypted file and its manifest are complete on disk.
	Stop(end RecordingEnd) error
}

// RecordingCall is what the recorder needs to know about a call to start.
type RecordingCall struct {
	ID           string // callguard's call id: the artefact file name
	SIPCallID    string // the dialog's call-id, for a recorder at the phone system
	LocalTag     string // the officer's SIP tag in the dialog, for a recorder at the phone system
	Agent        string
	Direction    Direction
	Remote       Party
	Started      time.Time
	PausedReason string // non-empty: start with the gate closed
	// Keypad is how keypad tones are silenced and what counts as a run.
	Keypad KeypadSettings
	// Audio is the format and bitrate the audio is stored in.
	Audio AudioSettings
	// OnKeypad, when set, is called from the recorder's own goroutine each
	// time tones were silenced or came in a run. It must not block.
	OnKeypad func(KeypadEvent)
}

// RecordingEnd is what the recorder needs to know to finish a call.
type RecordingEnd struct {
	Ended  time.Time
	Notice NoticeOutcome // what happened with the privacy notice
	// CallEnded is true when the recording stops because the call ended
	// (not because the caller objected or callguard is closing): a phone
	// system ends its own recording with the call.
	CallEnded bool
}

// EventSink receives every metadata event, in order. The durable outbox
// implements it; Append must not return until the event is safe on disk.
type EventSink interface {
	Append(Event) error
}

// Notifier shows a desktop notification. beeep implements it in main.
type Notifier interface {
	Notify(n Notification)
}
