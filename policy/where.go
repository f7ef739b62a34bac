package policy

import "time"

// Where a site's calls are recorded (Record.Where).
const (
	// RecordAtDesktop records on the officer's PC (the default): the
	// desktop captures the audio, and pausing closes its gate.
	RecordAtDesktop = "desktop"
	// RecordAtPhoneSystem records only at the phone system (rtpengine): the
	// desktop captures no audio at all and pauses the phone system's
	// recorder instead.
	RecordAtPhoneSystem = "pbx"
	// RecordAtBoth records on the PC and at the phone system; a pause
	// pauses both, and is shown only once both confirmed.
	RecordAtBoth = "both"
)

// DefaultConfirmWithin is how long the phone system's recorder has to
// confirm a command (Record.ConfirmWithin) before the officer is warned
// that it may still be recording.
const DefaultConfirmWithin = 500 * time.Millisecond

// maxConfirmWithin bounds Record.ConfirmWithin: the core waits this long
// for each command, and an officer must not wait seconds for a pause.
const maxConfirmWithin = 5 * time.Second

// Location is Where, with the default (RecordAtDesktop) filled in.
func (r Record) Location() string {
	if r.Where == "" {
		return RecordAtDesktop
	}
	return r.Where
}

// AtDesktop reports whether the officer's PC captures the calls' audio.
func (r Record) AtDesktop() bool { return r.Location() != RecordAtPhoneSystem }

// AtPhoneSystem reports whether the phone system records the calls, so
// that callguard must pause and resume its recorder.
func (r Record) AtPhoneSystem() bool {
	l := r.Location()
	return l == RecordAtPhoneSystem || l == RecordAtBoth
}

// ConfirmWithinOrDefault is ConfirmWithin, or DefaultConfirmWithin when it
// is not set.
func (r Record) ConfirmWithinOrDefault() time.Duration {
	if r.ConfirmWithin <= 0 {
		return DefaultConfirmWithin
	}
	return r.ConfirmWithin.D()
}

func (r Record) validateWhere(bad func(format string, a ...any)) {
	switch r.Where {
	case "", RecordAtDesktop, RecordAtPhoneSystem, RecordAtBoth:
	default:
		bad("record.where: %q must be %q, %q or %q", r.Where, RecordAtDesktop, RecordAtPhoneSystem, RecordAtBoth)
	}
	if r.ConfirmWithin.D() > maxConfirmWithin {
		bad("record.confirm_within: %v is longer than %v", r.ConfirmWithin.D(), maxConfirmWithin)
	}
	if r.ConfirmWithin > 0 && r.ConfirmWithin.D() < time.Millisecond {
		bad("record.confirm_within: %v is shorter than a millisecond", r.ConfirmWithin.D())
	}
}
