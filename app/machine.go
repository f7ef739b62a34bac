package app

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/callguard/callguard/policy"
)

// RecentCalls is how many ended calls stay listed so a call can still be
// flagged after it ended.
const RecentCalls = 10

// Machine is the session core's state and rules. It is not safe for
// concurrent use: Core runs it on one goroutine, tests drive it directly.
// Every method takes the current time, so tests control the clock.
//
// A Machine never reports a state the recorder is not in: a pause is shown
// only after Recording.Pause returned, and when the recorder refuses a
// command the recording is stopped and the call shows failed.
type Machine struct {
	pol      *policy.Policy
	agent    AgentView
	language string
	rec      Recorder
	sink     EventSink
	notifier Notifier
	log      *slog.Logger
	// onFail turns a recorder's asynchronous failure into an input; Core sets
	// it to post back onto its goroutine.
	onFail func(callID string, err error)
	// onKeypad turns what a recording reports about keypad tones into an
	// input, the same way.
	onKeypad func(callID string, ev KeypadEvent)

	manual     bool
	link       LinkStatus
	linkReason string
	linkSince  time.Time
	idleSince  time.Time

	calls  []*call // live, oldest first
	recent []*call // ended, newest first
}

// call is one call's record inside the machine.
type call struct {
	id        string
	dialogID  string
	sipCallID string
	localTag  string // the officer's SIP tag, once the feed gave it
	manual    bool
	dir       Direction
	local     Party
	remote    Party
	started   time.Time
	answered  time.Time // zero until connected
	ended     time.Time

	excluded string // why policy says never record; "" when recordable
	notice   NoticeOutcome
	declined bool
	failed   string
	// unconfirmed: the phone system's recorder did not confirm a pause or
	// stop, so it may still be recording (StateUnconfirmed).
	unconfirmed string

	pause   *pause // the officer's (or an integration's) pause
	held    bool   // the phone system says the officer put it on hold
	begun   bool   // answered and on the line, not a second call waiting
	handled bool   // startAnswered has run: the notice and recording were started

	rec         Recording // nil when no recording is running
	recorded    bool      // a recording was started at some point
	recStart    time.Time
	lastOpen    time.Time // when the gate last opened: for "card details" flags
	gateClosed  bool
	gateReason  string
	pubState    RecordingState
	pubReason   string
	stateSince  time.Time
	flags       []FlagView
	pausesTotal int

	keypadMasked int       // stretches of keypad tones silenced in its recording
	keying       bool      // the caller is keying numbers: the officer is asked to pause
	keyingUntil  time.Time // when the prompt goes if no more tones come
}

type pause struct {
	reason     string
	since      time.Time
	nextRemind time.Time
	reminders  int
	autoResume time.Time // zero: never
}

// MachineConfig is what a Machine needs. Recorder, Sink and Notifier are
// required; Logger defaults to slog.Default.
type MachineConfig struct {
	Policy   *policy.Policy
	Agent    AgentView
	Language string
	// Manual is true when no phone system is configured: calls start and
	// end by the officer's or the CRM's hand, and the link is never lost.
	Manual   bool
	Recorder Recorder
	Sink     EventSink
	Notifier Notifier
	Logger   *slog.Logger
}

// NewMachine returns a machine with no calls. In phone-system mode it starts
// in unknown until the phone system is heard (LinkUp).
func NewMachine(cfg MachineConfig, now time.Time) *Machine {
	m := &Machine{
		pol:        cfg.Policy,
		agent:      cfg.Agent,
		language:   cfg.Language,
		rec:        cfg.Recorder,
		sink:       cfg.Sink,
		notifier:   cfg.Notifier,
		log:        cfg.Logger,
		manual:     cfg.Manual,
		link:       LinkDown,
		linkReason: "connecting to the phone system",
		linkSince:  now,
		idleSince:  now,
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.manual {
		m.link = LinkManual
		m.linkReason = ""
	}
	m.onFail = func(string, error) {}
	m.onKeypad = func(string, KeypadEvent) {}
	return m
}

// Policy returns the policy the machine applies.
func (m *Machine) Policy() *policy.Policy { return m.pol }

// HandleCall applies an event from the phone system.
func (m *Machine) HandleCall(ev CallEvent, now time.Time) {
	switch ev.Kind {
	case LinkLost:
		if m.manual {
			return
		}
		if m.link != LinkDown {
			m.link, m.linkSince = LinkDown, now
			m.emit(Event{Type: EventLink, State: string(LinkDown), Reason: ev.Reason}, now)
		}
		m.linkReason = ev.Reason
		if m.linkReason == "" {
			m.linkReason = "lost contact with the phone system"
		}
		m.notify(Notification{
			Kind:  NotifyStateUnknown,
			Title: "Recording state unknown",
			Body:  "callguard cannot hear the phone system (" + m.linkReason + "). Pause by hand if you need to.",
			Key:   fmt.Sprint(m.linkSince.UnixNano()),
		})
	case LinkUp:
		if m.manual || m.link == LinkOK {
			return
		}
		m.link, m.linkSince, m.linkReason = LinkOK, now, ""
		m.emit(Event{Type: EventLink, State: string(LinkOK)}, now)
	case CallRinging:
		if m.find(ev.DialogID) == nil {
			m.begin(ev, now)
		}
	case CallAnswered:
		c := m.find(ev.DialogID)
		if c == nil {
			c = m.begin(ev, now)
		}
		if c.localTag == "" {
			c.localTag = ev.LocalTag // confirmed dialogs carry it
		}
		m.answer(c, now)
	case CallEnded:
		if c := m.find(ev.DialogID); c != nil {
			m.end(c, now)
		}
	case CallHeld, CallResumed:
		if c := m.find(ev.DialogID); c != nil && !c.answered.IsZero() {
			m.hold(c, ev.Kind == CallHeld, now)
		}
	default:
		m.log.Warn("ignoring call event of unknown kind", "kind", int(ev.Kind))
	}
	m.settle(now)
}

// begin records a new call from the phone system (or a manual start).
func (m *Machine) begin(ev CallEvent, now time.Time) *call {
	at := ev.At
	if at.IsZero() {
		at = now
	}
	c := &call{
		id:         NewID(),
		dialogID:   ev.DialogID,
		sipCallID:  ev.CallID,
		localTag:   ev.LocalTag,
		dir:        ev.Direction,
		local:      ev.Local,
		remote:     ev.Remote,
		started:    at,
		stateSince: now,
		pubState:   StateRinging,
	}
	c.excluded = m.exclusion(c)
	if c.excluded != "" {
		c.notice = NoticeNotNeeded
	}
	m.calls = append(m.calls, c)
	m.emitCall(EventCallRinging, c, now)
	return c
}

// exclusion returns why policy says never to record c, or "".
func (m *Machine) exclusion(c *call) string {
	if r := m.pol.NeverRecordRule(c.local.Number, c.remote.Number); r != nil {
		if r.Reason != "" {
			return r.Reason
		}
		return "a never-record rule matches " + r.Pattern
	}
	switch {
	case c.dir == DirectionInbound && !m.pol.Record.Inbound:
		return "inbound calls are not recorded"
	case c.dir != DirectionInbound && !m.pol.Record.Outbound:
		return "outbound calls are not recorded"
	}
	return ""
}

// noticeAwaited reports whether c waits for the officer to read the notice.
// A call whose direction is unknown is treated as outbound: better to wait
// for the notice than to record someone who was not told.
func (m *Machine) noticeAwaited(c *call) bool {
	return c.dir != DirectionInbound && m.pol.Record.OutboundWaitsForNotice &&
		c.notice == NoticePending && c.excluded == "" && !c.declined
}

func (m *Machine) answer(c *call, now time.Time) {
	if !c.answered.IsZero() {
		return
	}
	c.answered = now
	m.emitCall(EventCallAnswered, c, now)
	// Only the phone system's word puts a call on hold (CallHeld). A call
	// connected while another is on the line is a second call, waiting:
	// nothing happens to the first one's recording, and the second is
	// recorded once the first is held or has ended (see settleSecond).
	if !m.manual && m.waiting(c) {
		return
	}
	c.begun, c.handled = true, true
	m.startAnswered(c, now)
}

// startAnswered starts what an answered call c needs: the notice, the
// recording.
func (m *Machine) startAnswered(c *call, now time.Time) {
	switch {
	case c.excluded != "":
	case c.dir == DirectionInbound:
		c.notice = NoticeAnnounced
		m.startRecording(c, now)
	case m.noticeAwaited(c):
		// Nothing is recorded until the officer confirms the notice.
	default:
		c.notice = NoticeAnnounced
		m.startRecording(c, now)
	}
}

func (m *Machine) end(c *call, now time.Time) {
	c.ended = now
	c.pause = nil // a pause never outlives its call
	m.stopRecording(c, now)
	m.emitCall(EventCallEnded, c, now)
	m.remove(c)
	m.recent = append([]*call{c}, m.recent...)
	if len(m.recent) > RecentCalls {
		m.recent = m.recent[:RecentCalls]
	}
	if len(m.calls) == 0 {
		m.idleSince = now
	}
	m.settleSecond(now)
}

// hold applies what the phone system said about the hold of the connected
// call c.
func (m *Machine) hold(c *call, held bool, now time.Time) {
	if c.held == held {
		return
	}
	c.held = held
	if !held && m.waiting(c) {
		// Back from hold while another call is on the line, which the phone
		// system has not said is held: only one call is on the line at a
		// time, so this one waits (its gate stays closed) until that one is
		// held or ends.
		c.begun = false
	}
	m.applyGate(c, now)
	m.settleSecond(now)
}

// waiting reports whether the connected call c is a second call: another
// call is on the line (begun and not held).
func (m *Machine) waiting(c *call) bool {
	for _, o := range m.calls {
		if o != c && o.begun && !o.held {
			return true
		}
	}
	return false
}

// settleSecond starts the waiting second calls that no longer wait: the
// call before them was held or ended.
func (m *Machine) settleSecond(now time.Time) {
	for _, c := range m.calls {
		if c.answered.IsZero() || c.begun || m.waiting(c) {
			continue
		}
		c.begun = true
		if c.handled {
			m.applyGate(c, now) // back on the line after waiting
			continue
		}
		c.handled = true
		m.startAnswered(c, now)
	}
}

func (m *Machine) remove(c *call) {
	for i, o := range m.calls {
		if o == c {
			m.calls = append(m.calls[:i], m.calls[i+1:]...)
			return
		}
	}
}

func (m *Machine) find(dialogID string) *call {
	for _, c := range m.calls {
		if c.dialogID == dialogID {
			return c
		}
	}
	return nil
}

// activeCall is the connected call that is not on hold, if any: the oldest
// such, since a newer one is a second call waiting until the phone system
// says the first was held.
func (m *Machine) activeCall() *call {
	for _, c := range m.calls {
		if c.begun && !c.held {
			return c
		}
	}
	return nil
}

// focus is the call the officer is dealing with: the connected call, else
// the newest ringing one, else the newest held one.
func (m *Machine) focus() *call {
	if c := m.activeCall(); c != nil {
		return c
	}
	for i := len(m.calls) - 1; i >= 0; i-- {
		if c := m.calls[i]; c.answered.IsZero() {
			return c
		}
	}
	if n := len(m.calls); n > 0 {
		return m.calls[n-1]
	}
	return nil
}

func (m *Machine) startRecording(c *call, now time.Time) {
	if c.rec != nil || c.excluded != "" || c.declined {
		return
	}
	reason := c.wantGateReason()
	id := c.id
	rc := RecordingCall{
		ID:           c.id,
		SIPCallID:    c.sipCallID,
		LocalTag:     c.localTag,
		Agent:        m.agent.ID,
		Direction:    c.dir,
		Remote:       c.remote,
		Started:      now,
		PausedReason: reason,
		Keypad:       m.keypadSettings(),
		Audio:        m.audioSettings(),
		OnKeypad:     func(ev KeypadEvent) { m.onKeypad(id, ev) },
	}
	r, err := m.rec.Start(rc, func(err error) { m.onFail(id, err) })
	if err != nil {
		m.fail(c, fmt.Errorf("start recording: %w", err), now)
		return
	}
	c.rec, c.recorded, c.recStart = r, true, now
	c.gateClosed, c.gateReason = reason != "", reason
	if reason == "" {
		c.lastOpen = now
	}
}

// wantGateReason is the reason the gate must be closed for, or "" to open it.
func (c *call) wantGateReason() string {
	switch {
	case c.pause != nil:
		return c.pause.reason
	case c.held || !c.begun:
		return policy.HoldReason
	}
	return ""
}

// applyGate makes the recorder's gate match what the call needs. A gate that
// cannot be closed stops the recording altogether: silence by failure.
func (m *Machine) applyGate(c *call, now time.Time) {
	if c.rec == nil {
		return
	}
	want := c.wantGateReason()
	switch {
	case want != "" && (!c.gateClosed || c.gateReason != want):
		if err := c.rec.Pause(want); err != nil {
			m.fail(c, fmt.Errorf("pause recording: %w", err), now)
			return
		}
		c.gateClosed, c.gateReason = true, want
	case want == "" && c.gateClosed:
		if err := c.rec.Resume(); err != nil {
			m.fail(c, fmt.Errorf("resume recording: %w", err), now)
			return
		}
		c.gateClosed, c.gateReason, c.lastOpen = false, "", now
	}
}

func (m *Machine) stopRecording(c *call, now time.Time) {
	if c.rec == nil {
		return
	}
	r := c.rec
	c.rec = nil
	if err := r.Stop(RecordingEnd{Ended: now, Notice: c.notice, CallEnded: !c.ended.IsZero()}); err != nil {
		m.log.Error("finishing a recording failed", "call", c.id, "err", err)
		c.failed = "finishing the recording failed: " + err.Error()
		m.doubt(c, err)
	}
}

// fail marks c failed and makes sure nothing more is recorded for it.
func (m *Machine) fail(c *call, err error, now time.Time) {
	m.log.Error("recording failed", "call", c.id, "err", err)
	c.failed = err.Error()
	m.doubt(c, err)
	if c.rec != nil {
		r := c.rec
		c.rec = nil
		if serr := r.Stop(RecordingEnd{Ended: now, Notice: c.notice}); serr != nil {
			m.log.Error("stopping a failed recording", "call", c.id, "err", serr)
			m.doubt(c, serr)
		}
	}
	if c.unconfirmed != "" {
		return // doubt told the officer already
	}
	m.notify(Notification{
		Kind:  NotifyRecordingFailed,
		Title: "Recording failed",
		Body:  c.failed,
		Key:   c.id,
	})
}

// RecorderFailed applies a failure the recorder reported by itself.
func (m *Machine) RecorderFailed(callID string, err error, now time.Time) {
	for _, c := range m.calls {
		if c.id == callID && c.rec != nil {
			c.rec = nil // the recorder closed it already
			m.fail(c, err, now)
		}
	}
	m.settle(now)
}

// Pause pauses the focused call's recording for reason (a policy pause
// reason id). Pausing before the call is answered keeps it silent from its
// first sample; pausing while paused switches the reason.
func (m *Machine) Pause(reason string, now time.Time) error {
	r := m.pol.PauseReason(reason)
	if r == nil {
		return fmt.Errorf("pause %q: %w", reason, ErrUnknownReason)
	}
	c := m.focus()
	if c == nil {
		return fmt.Errorf("pause: %w", ErrNoCall)
	}
	if c.excluded != "" || c.declined {
		return fmt.Errorf("pause: %w", ErrNotRecordable)
	}
	if c.pause != nil && c.pause.reason == reason {
		return nil
	}
	p := &pause{reason: reason, since: now, nextRemind: now.Add(r.RemindAfter.D())}
	if c.pause != nil {
		p.since = c.pause.since // one pause, a new reason
	}
	if a := r.AutoResumeAfter.D(); a > 0 {
		p.autoResume = now.Add(a)
	}
	c.pause = p
	c.pausesTotal++
	c.keying = false // asked and done
	m.applyGate(c, now)
	m.settle(now)
	if c.unconfirmed != "" {
		return fmt.Errorf("pause: %w", ErrUnconfirmed)
	}
	return nil
}

// Resume ends the focused call's pause.
func (m *Machine) Resume(now time.Time) error {
	c := m.focus()
	if c == nil {
		return fmt.Errorf("resume: %w", ErrNoCall)
	}
	if c.pause == nil {
		return fmt.Errorf("resume: %w", ErrNotPaused)
	}
	c.pause = nil
	m.applyGate(c, now)
	m.settle(now)
	return nil
}

// Notice records what happened with the privacy notice on the focused call:
// NoticeRead starts an outbound call's recording; NoticeObjected declines the
// call (at any time): nothing more is recorded and what was is flagged for
// deletion review.
func (m *Machine) Notice(outcome NoticeOutcome, now time.Time) error {
	c := m.focus()
	if c == nil {
		return fmt.Errorf("notice: %w", ErrNoCall)
	}
	switch outcome {
	case NoticeRead:
		if c.answered.IsZero() || !m.noticeAwaited(c) {
			return fmt.Errorf("notice read: %w", ErrNoNoticeWanted)
		}
		c.notice = NoticeRead
		m.emit(Event{Type: EventNotice, CallID: c.id, Outcome: NoticeRead.String()}, now)
		m.startRecording(c, now)
		if c.rec != nil && !c.gateClosed {
			m.notify(Notification{
				Kind:  NotifyRecordingStarted,
				Title: "Recording started",
				Body:  "The notice was read; this call is now being recorded.",
				Key:   c.id,
			})
		}
	case NoticeObjected:
		if c.excluded != "" {
			return fmt.Errorf("caller objected: %w", ErrNotRecordable)
		}
		if c.declined {
			return nil
		}
		c.notice, c.declined, c.pause = NoticeObjected, true, nil
		m.stopRecording(c, now)
		m.emit(Event{Type: EventNotice, CallID: c.id, Outcome: NoticeObjected.String()}, now)
	default:
		return fmt.Errorf("notice outcome %q: %w", outcome, ErrBadRequest)
	}
	m.settle(now)
	return nil
}

// FlagRequest asks for a call to be reviewed for deletion.
type FlagRequest struct {
	CallID string // empty: the focused call, else the most recent one
	Reason string // a policy flag reason id
	Note   string
	// FromMS and ToMS mark the part of the recording concerned; when nil,
	// reasons that redact at once (card details) default to the time since
	// the gate last opened, and others to the whole recording.
	FromMS, ToMS *int64
}

// MaxNoteLength bounds a flag's note, in bytes.
const MaxNoteLength = 2000

// Flag flags a live or recent call for deletion.
func (m *Machine) Flag(req FlagRequest, now time.Time) error {
	fr := m.pol.FlagReason(req.Reason)
	if fr == nil {
		return fmt.Errorf("flag %q: %w", req.Reason, ErrUnknownReason)
	}
	if len(req.Note) > MaxNoteLength {
		return fmt.Errorf("flag note is %d bytes, more than %d: %w", len(req.Note), MaxNoteLength, ErrBadRequest)
	}
	c, err := m.flagTarget(req.CallID)
	if err != nil {
		return err
	}
	ev := Event{Type: EventFlag, CallID: c.id, Reason: fr.ID, Note: req.Note}
	if c.recorded {
		end := now
		if !c.ended.IsZero() {
			end = c.ended
		}
		ms := func(t time.Time) int64 { return t.Sub(c.recStart).Milliseconds() }
		length := ms(end)
		switch {
		case req.FromMS != nil && req.ToMS != nil:
			if *req.FromMS < 0 || *req.ToMS <= *req.FromMS || *req.FromMS > length {
				return fmt.Errorf("flag interval %d–%d ms outside the recording (0–%d ms): %w",
					*req.FromMS, *req.ToMS, length, ErrBadRequest)
			}
			ev.FromMS, ev.ToMS = req.FromMS, req.ToMS
		case req.FromMS != nil || req.ToMS != nil:
			return fmt.Errorf("flag interval needs both from_ms and to_ms: %w", ErrBadRequest)
		case fr.RedactNow:
			from, to := ms(c.lastOpen), length
			if c.lastOpen.IsZero() || from < 0 {
				from = 0
			}
			ev.FromMS, ev.ToMS = &from, &to
		}
	}
	c.flags = append(c.flags, FlagView{Reason: fr.ID, Note: req.Note, At: now})
	m.emit(ev, now)
	m.settle(now)
	return nil
}

func (m *Machine) flagTarget(id string) (*call, error) {
	if id == "" {
		if c := m.focus(); c != nil {
			return c, nil
		}
		if len(m.recent) > 0 {
			return m.recent[0], nil
		}
		return nil, fmt.Errorf("flag: %w", ErrNoCall)
	}
	for _, list := range [][]*call{m.calls, m.recent} {
		for _, c := range list {
			if c.id == id {
				return c, nil
			}
		}
	}
	return nil, fmt.Errorf("flag call %s: %w", id, ErrNotFound)
}

// StartManual starts a call by hand when no phone system is configured.
func (m *Machine) StartManual(dir Direction, remote Party, now time.Time) (CallView, error) {
	if !m.manual {
		return CallView{}, fmt.Errorf("start call: %w", ErrNotManual)
	}
	if dir == DirectionUnknown {
		return CallView{}, fmt.Errorf("start call: direction must be inbound or outbound: %w", ErrBadRequest)
	}
	if len(m.calls) > 0 {
		return CallView{}, fmt.Errorf("start call: %w", ErrCallInProgress)
	}
	id := NewID()
	local := Party{Number: m.agent.ID}
	c := m.begin(CallEvent{Kind: CallRinging, DialogID: id, Direction: dir, Local: local, Remote: remote, At: now}, now)
	c.manual = true
	m.answer(c, now)
	m.settle(now)
	return m.view(c, now), nil
}

// EndManual ends the call started by hand.
func (m *Machine) EndManual(now time.Time) error {
	if !m.manual {
		return fmt.Errorf("end call: %w", ErrNotManual)
	}
	c := m.focus()
	if c == nil {
		return fmt.Errorf("end call: %w", ErrNoCall)
	}
	m.end(c, now)
	m.settle(now)
	return nil
}

// Tick runs what is due at now: pause reminders and automatic resumes.
func (m *Machine) Tick(now time.Time) {
	for _, c := range m.calls {
		if c.keying && !now.Before(c.keyingUntil) {
			c.keying = false
		}
		p := c.pause
		if p == nil {
			continue
		}
		if !p.autoResume.IsZero() && !now.Before(p.autoResume) {
			c.pause = nil
			m.applyGate(c, now)
			continue
		}
		if !now.Before(p.nextRemind) {
			p.reminders++
			label := p.reason
			if r := m.pauseReason(p.reason); r != nil {
				label = r.Label
				for !now.Before(p.nextRemind) {
					p.nextRemind = p.nextRemind.Add(r.RemindAfter.D())
				}
			}
			m.notify(Notification{
				Kind:  NotifyPauseLong,
				Title: "Recording still paused",
				Body:  fmt.Sprintf("Paused for %s since %s (%s). Resume when it is over.", label, p.since.Format("15:04"), roundDuration(now.Sub(p.since))),
				Key:   fmt.Sprintf("%s/%d/%d", c.id, p.since.UnixNano(), p.reminders),
			})
		}
	}
	m.settle(now)
}

func roundDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// NextDeadline returns when Tick next has something to do.
func (m *Machine) NextDeadline() (time.Time, bool) {
	var next time.Time
	for _, c := range m.calls {
		if c.keying && (next.IsZero() || c.keyingUntil.Before(next)) {
			next = c.keyingUntil
		}
		if p := c.pause; p != nil {
			for _, t := range []time.Time{p.nextRemind, p.autoResume} {
				if !t.IsZero() && (next.IsZero() || t.Before(next)) {
					next = t
				}
			}
		}
	}
	return next, !next.IsZero()
}

// Shutdown finishes every recording, for when callguard closes.
func (m *Machine) Shutdown(now time.Time) {
	for _, c := range m.calls {
		m.stopRecording(c, now)
	}
	if !m.manual {
		m.emit(Event{Type: EventLink, State: string(LinkDown), Reason: "callguard closed"}, now)
	}
}

// state is a call's recording state and its reason.
func (m *Machine) state(c *call) (RecordingState, string) {
	switch {
	case c.excluded != "":
		return StateExcluded, c.excluded
	case c.unconfirmed != "":
		// Before declined and paused: neither may be claimed while the
		// phone system may still be recording.
		return StateUnconfirmed, c.unconfirmed
	case c.declined:
		return StateDeclined, "the caller objected to recording"
	case c.failed != "":
		return StateFailed, c.failed
	case c.pause != nil:
		return StatePaused, c.pause.reason
	case c.answered.IsZero():
		return StateRinging, ""
	case c.held || !c.begun:
		// Held by the officer, or a second call waiting while another is
		// on the line: nothing of it is recorded.
		return StatePaused, policy.HoldReason
	case m.noticeAwaited(c):
		return StateAwaitingNotice, ""
	case c.rec != nil:
		return StateRecording, ""
	}
	return StateFailed, "not recording although it should be"
}

// settle publishes a recording.state event for every call whose state changed.
func (m *Machine) settle(now time.Time) {
	for _, c := range m.calls {
		s, r := m.state(c)
		if s == c.pubState && r == c.pubReason {
			continue
		}
		c.pubState, c.pubReason, c.stateSince = s, r, now
		m.emit(Event{Type: EventRecordingState, CallID: c.id, State: s.String(), Reason: r}, now)
	}
}

func (m *Machine) emitCall(t EventType, c *call, now time.Time) {
	ec := &EventCall{
		Direction: c.dir,
		Local:     c.local,
		Remote:    c.remote,
		SIPCallID: c.sipCallID,
		Started:   c.started,
		Recorded:  c.recorded,
	}
	if !c.answered.IsZero() {
		a := c.answered
		ec.Answered = &a
	}
	if !c.ended.IsZero() {
		e := c.ended
		ec.Ended = &e
	}
	m.emit(Event{Type: t, CallID: c.id, Call: ec}, now)
}

func (m *Machine) emit(ev Event, now time.Time) {
	ev.ID = NewID()
	ev.Time = now
	ev.Agent = m.agent.ID
	fitEvent(&ev) // never anything the server would refuse (see limits.go)
	if err := m.sink.Append(ev); err != nil {
		// The outbox is on the local disk; if it cannot take an event the
		// disk is failing. Say so loudly but keep the officer's state right.
		m.log.Error("metadata event lost: the outbox refused it", "type", ev.Type, "err", err)
	}
}

func (m *Machine) notify(n Notification) {
	if m.notifier != nil {
		m.notifier.Notify(n)
	}
}

// Snapshot returns the picture of the session at now.
func (m *Machine) Snapshot(now time.Time) Snapshot {
	s := Snapshot{
		Link:  m.link,
		Agent: m.agent,
		Calls: make([]CallView, 0, len(m.calls)),
	}
	for _, c := range m.calls {
		s.Calls = append(s.Calls, m.view(c, now))
	}
	for _, c := range m.recent {
		s.Recent = append(s.Recent, m.view(c, now))
	}
	f := m.focus()
	if f != nil {
		v := m.view(f, now)
		s.Call = &v
		s.State, s.Reason, s.Since = v.State, v.Reason, v.Since
		if p := f.pause; p != nil {
			if r := m.pauseReason(p.reason); r != nil {
				s.PauseOverdue = now.Sub(p.since) >= r.RemindAfter.D()
			}
		}
		if sc := m.pol.Script(dirName(f.dir), m.language); sc != nil {
			s.Notice = &NoticeView{Direction: f.dir, Text: sc.Text, Awaited: m.noticeAwaited(f), Outcome: f.notice}
		}
	} else {
		s.State, s.Since = StateIdle, m.idleSince
	}
	if m.link == LinkDown {
		s.State, s.Reason, s.Since = StateUnknown, m.linkReason, m.linkSince
	}
	s.ReasonLabel = m.reasonLabel(s.State, s.Reason)
	return s
}

func dirName(d Direction) string {
	if d == DirectionInbound {
		return "inbound"
	}
	return "outbound"
}

func (m *Machine) reasonLabel(s RecordingState, reason string) string {
	if s != StatePaused {
		return reason
	}
	if reason == policy.HoldReason {
		return "On hold"
	}
	if r := m.pauseReason(reason); r != nil {
		return r.Label
	}
	return reason
}

func (m *Machine) view(c *call, now time.Time) CallView {
	v := CallView{
		ID:        c.id,
		SIPCallID: c.sipCallID,
		Direction: c.dir,
		Local:     c.local,
		Remote:    c.remote,
		Started:   c.started,
		Since:     c.stateSince,
		OnHold:    c.held,
		Waiting:   !c.answered.IsZero() && !c.begun,
		Recorded:  c.recorded,
		Notice:    c.notice,
		Flags:     append([]FlagView(nil), c.flags...),
		Manual:    c.manual,

		KeypadMasked: c.keypadMasked,
	}
	if !c.answered.IsZero() {
		a := c.answered
		v.Answered = &a
	}
	if !c.ended.IsZero() {
		e := c.ended
		v.Ended = &e
		v.State = StateIdle
	} else {
		v.State, v.Reason = m.state(c)
		// The question is asked only of a call being recorded: held or
		// paused, nothing keyed reaches the recording anyway.
		v.Keying = c.keying && v.State == StateRecording
	}
	return v
}
