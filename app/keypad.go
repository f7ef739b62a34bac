package app

import (
	"fmt"
	"time"

	"github.com/callguard/callguard/policy"
)

// KeypadSettings is how the recorder silences keypad (DTMF) tones and when a
// run of them means the caller is keying numbers. The core fills it from the
// policy's keypad section; a zero field means the default.
type KeypadSettings struct {
	// Guard is the silence before and after each tone: 0 means the default
	// (40 ms), a negative value none.
	Guard time.Duration
	// RunTones tones beginning within RunWithin are a run: the caller is
	// keying something long, a card number most likely [4 within 10 s].
	RunTones  int
	RunWithin time.Duration
}

// KeypadEventKind says what the recorder found.
type KeypadEventKind int

// Keypad event kinds. The zero value means nothing was said.
const (
	KeypadUnknown KeypadEventKind = iota
	// KeypadMasked: keypad tones were replaced by silence in the stored
	// audio, over [FromMS, ToMS).
	KeypadMasked
	// KeypadRun: tones came in a run (KeypadSettings); AtMS is when the tone
	// that made it a run began.
	KeypadRun
)

// String names the kind: "masked", "run" or "unknown".
func (k KeypadEventKind) String() string {
	switch k {
	case KeypadMasked:
		return "masked"
	case KeypadRun:
		return "run"
	}
	return "unknown"
}

// KeypadEvent is what a recording reports about keypad tones, in
// milliseconds from the recording's first frame. It says where tones were,
// never which keys: no part of callguard ever learns the keys.
type KeypadEvent struct {
	Kind         KeypadEventKind
	FromMS, ToMS int64 // KeypadMasked: the silenced stretch
	AtMS         int64 // KeypadRun: when the tone that completed the run began
}

// KeyingPrompt is what the officer is asked while the caller keys numbers.
const KeyingPrompt = "Caller is keying numbers — pause for card details?"

// keypadSettings is the policy's keypad section for the recorder.
func (m *Machine) keypadSettings() KeypadSettings {
	k := m.pol.Keypad
	tones, within := k.Run()
	guard := k.GuardOrDefault()
	if guard == 0 {
		guard = -1 // none
	}
	return KeypadSettings{Guard: guard, RunTones: tones, RunWithin: within}
}

// pauseReason is the policy's pause reason id, or, for the pause the core
// makes when the caller keys numbers, policy.PauseReasonFor's.
func (m *Machine) pauseReason(id string) *policy.PauseReason { return m.pol.PauseReasonFor(id) }

// Keypad applies what the recording of call callID reported about keypad
// tones: a silenced stretch is counted and sent on as an event; a run of
// tones while recording asks the officer to pause, or, where the policy
// says so, pauses the recording with reason payment-detected.
func (m *Machine) Keypad(callID string, ev KeypadEvent, now time.Time) {
	var c *call
	for _, list := range [][]*call{m.calls, m.recent} {
		for _, x := range list {
			if x.id == callID && c == nil {
				c = x
			}
		}
	}
	if c == nil {
		return // long gone; its manifest has the redactions
	}
	if !c.ended.IsZero() && ev.Kind != KeypadMasked {
		return // a run reported as the call ended asks nothing
	}
	_, within := m.pol.Keypad.Run()
	switch ev.Kind {
	case KeypadMasked:
		c.keypadMasked++
		from, to := ev.FromMS, ev.ToMS
		m.emit(Event{Type: EventKeypadMasked, CallID: c.id, FromMS: &from, ToMS: &to}, now)
		if c.keying {
			c.keyingUntil = now.Add(within)
		}
	case KeypadRun:
		if c.rec == nil || c.gateClosed || c.pause != nil {
			break // nothing is being recorded
		}
		if m.pol.Keypad.PausesOnRun() {
			r := m.pauseReason(policy.PaymentDetectedReason)
			c.pause = &pause{reason: r.ID, since: now, nextRemind: now.Add(r.RemindAfter.D())}
			c.pausesTotal++
			c.keying = false
			m.applyGate(c, now)
			m.notify(Notification{Kind: NotifyKeypad, Title: "Recording paused",
				Body: "The caller is keying numbers, so recording paused by itself. Resume when the card details are done.",
				Key:  fmt.Sprintf("%s/%d", c.id, now.UnixNano())})
			break
		}
		c.keying, c.keyingUntil = true, now.Add(within)
		body := "Pause for card details?"
		if p := m.pol.PauseReason("payment"); p != nil && p.Hotkey != "" {
			body += " Press " + p.Hotkey + "."
		}
		m.notify(Notification{Kind: NotifyKeypad, Title: "Caller is keying numbers", Body: body, Key: fmt.Sprintf("%s/%d", c.id, now.UnixNano())})
	}
	m.settle(now)
}
