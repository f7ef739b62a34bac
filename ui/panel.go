package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/policy"
)

// Session is what the window needs from the session core. *app.Core
// implements it.
type Session interface {
	Snapshot() app.Snapshot
	Subscribe() (<-chan app.Snapshot, func())
	Pause(reason string) error
	Resume() error
	Notice(app.NoticeOutcome) error
	Flag(app.FlagRequest) error
	StartManual(app.Direction, app.Party) (app.CallView, error)
	EndManual() error
}

// Panel is the officer's compact panel: the state banner, the call, pause
// and resume, the notice card and flagging. It renders snapshots and turns
// clicks and hotkeys into the session's intents.
type Panel struct {
	session Session
	pol     *policy.Policy
	win     fyne.Window
	now     func() time.Time

	snap app.Snapshot

	bannerBG   *canvas.Rectangle
	bannerIcon *canvas.Image
	headline   *canvas.Text
	detail     *canvas.Text
	callLine   *widget.Label
	why        *widget.Label
	pauseLine  *widget.Label
	keying     *widget.Label // "Caller is keying numbers — pause for card details?"
	masked     *widget.Label // "Keypad tones masked …"
	pauseBtns  map[string]*widget.Button
	resumeBtn  *widget.Button
	pauseBox   *fyne.Container
	notice     *fyne.Container // the notice in full
	noticeHead *widget.Label
	noticeText *widget.Label
	noticeLine *widget.Label
	noticeMore *widget.Button
	noticeFold *fyne.Container // the one-line notice, once read or announced
	noticeKeys *fyne.Container // Notice read and Caller objected
	hideBtn    *widget.Button
	readBtn    *widget.Button
	objectBtn  *widget.Button
	// noticeOpen is the officer's "Show notice" on a notice already read
	// or announced; noticeFor is the call it was asked for.
	noticeOpen bool
	noticeFor  string
	flagBtn    *widget.Button
	myFlagsBtn *widget.Button
	myCallsBtn *widget.Button
	startBtn   *widget.Button
	endBtn     *widget.Button
	manualBox  *fyne.Container
	status     *widget.Label
	problem    *widget.Label

	// OnSettings opens the settings window; nil hides the button.
	OnSettings func()
	// OnMyFlags opens the officer's "My flags" view. The button is hidden
	// until the window, which owns the view, shows it.
	OnMyFlags func()
	// OnMyCalls opens the officer's "My calls" view (their scored calls).
	// The button is hidden until it is set.
	OnMyCalls func()
	// SyncStatus says how the metadata sync is doing, e.g. "3 events waiting".
	SyncStatus  func() string
	settingsBtn *widget.Button

	banner   fyne.CanvasObject
	controls *fyne.Container
	scroll   *container.Scroll
	keys     *widget.Label
	content  fyne.CanvasObject
}

// NewPanel builds the panel for session in win. It does not subscribe:
// call Update with each snapshot (on fyne's goroutine).
func NewPanel(win fyne.Window, session Session, pol *policy.Policy) *Panel {
	p := &Panel{session: session, pol: pol, win: win, now: time.Now, pauseBtns: map[string]*widget.Button{}}
	p.build()
	p.Update(session.Snapshot())
	return p
}

// Content is the panel's root object.
func (p *Panel) Content() fyne.CanvasObject { return p.content }

func (p *Panel) build() {
	p.bannerBG = canvas.NewRectangle(lookOf(app.StateUnknown).BG)
	p.bannerBG.CornerRadius = theme.InputRadiusSize()
	p.bannerIcon = canvas.NewImageFromResource(StateIcon(app.StateUnknown))
	p.bannerIcon.FillMode = canvas.ImageFillContain
	p.bannerIcon.SetMinSize(fyne.NewSize(56, 56))
	p.headline = canvas.NewText("", white)
	p.headline.TextSize = theme.TextHeadingSize() * 1.25 // "NOT YET RECORDING" leaves the banner's right end clear at 440 px
	p.headline.TextStyle = fyne.TextStyle{Bold: true}
	p.detail = canvas.NewText("", white)
	p.detail.TextSize = theme.TextSize()
	banner := container.NewStack(p.bannerBG, container.NewPadded(
		container.NewBorder(nil, nil, p.bannerIcon, nil,
			container.NewVBox(layout.NewSpacer(), p.headline, p.detail, layout.NewSpacer()))))

	p.callLine = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.why = widget.NewLabel("")
	p.why.Wrapping = fyne.TextWrapWord
	p.pauseLine = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.keying = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.keying.Wrapping = fyne.TextWrapWord
	p.keying.Importance = widget.WarningImportance
	p.keying.Hide()
	p.masked = widget.NewLabel("")
	p.masked.Wrapping = fyne.TextWrapWord
	p.masked.Importance = widget.LowImportance
	p.masked.Hide()

	var pauseButtons []fyne.CanvasObject
	for _, r := range p.pol.PauseReasons {
		id := r.ID
		b := widget.NewButtonWithIcon(r.Label, theme.MediaPauseIcon(), func() { p.act(p.session.Pause(id)) })
		p.pauseBtns[id] = b
		pauseButtons = append(pauseButtons, b)
	}
	p.resumeBtn = widget.NewButtonWithIcon("Resume recording", theme.MediaRecordIcon(), func() { p.act(p.session.Resume()) })
	p.resumeBtn.Importance = widget.HighImportance
	p.pauseBox = container.NewGridWithColumns(2, pauseButtons...)

	p.noticeText = widget.NewLabel("")
	p.noticeText.Wrapping = fyne.TextWrapWord
	p.readBtn = widget.NewButtonWithIcon("Notice read", theme.ConfirmIcon(), func() { p.act(p.session.Notice(app.NoticeRead)) })
	p.readBtn.Importance = widget.HighImportance
	p.objectBtn = widget.NewButtonWithIcon("Caller objected", theme.CancelIcon(), func() { p.confirmObjection() })
	p.noticeKeys = container.NewGridWithColumns(2, p.readBtn, p.objectBtn)
	p.hideBtn = widget.NewButton("Hide notice", func() { p.noticeOpen = false; p.updateNotice(p.snap) })
	p.hideBtn.Importance = widget.LowImportance
	p.noticeHead = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.noticeHead.Wrapping = fyne.TextWrapWord
	p.notice = container.NewVBox(p.noticeHead, p.noticeText, container.NewHBox(layout.NewSpacer(), p.hideBtn))
	p.noticeLine = widget.NewLabel("")
	p.noticeLine.Truncation = fyne.TextTruncateEllipsis
	p.noticeMore = widget.NewButtonWithIcon("Show notice", theme.VisibilityIcon(), func() { p.noticeOpen = true; p.updateNotice(p.snap) })
	p.noticeFold = container.NewBorder(nil, nil, nil, p.noticeMore, p.noticeLine)

	p.flagBtn = widget.NewButtonWithIcon("Flag for deletion…", theme.DeleteIcon(), func() { p.showFlag() })
	p.myFlagsBtn = widget.NewButtonWithIcon("My flags", theme.HistoryIcon(), func() {
		if p.OnMyFlags != nil {
			p.OnMyFlags()
		}
	})
	p.myFlagsBtn.Hide()
	p.myCallsBtn = widget.NewButtonWithIcon("My calls", theme.ListIcon(), func() {
		if p.OnMyCalls != nil {
			p.OnMyCalls()
		}
	})
	p.myCallsBtn.Hide()
	p.startBtn = widget.NewButtonWithIcon("Start call…", theme.ContentAddIcon(), func() { p.showStart() })
	p.endBtn = widget.NewButtonWithIcon("End call", theme.ContentRemoveIcon(), func() { p.act(p.session.EndManual()) })
	p.manualBox = container.NewGridWithColumns(2, p.startBtn, p.endBtn)

	p.problem = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.problem.Wrapping = fyne.TextWrapWord
	p.problem.Importance = widget.DangerImportance
	p.problem.Hide()
	p.status = widget.NewLabel("")
	p.status.Truncation = fyne.TextTruncateEllipsis
	p.status.Importance = widget.LowImportance
	p.settingsBtn = widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), func() {
		if p.OnSettings != nil {
			p.OnSettings()
		}
	})

	p.keys = widget.NewLabel("")
	p.keys.Wrapping = fyne.TextWrapWord
	p.keys.Importance = widget.LowImportance

	// Only the banner claims the top, and nothing an officer needs during a
	// call scrolls: the call line and the controls sit fixed under the
	// banner, and only the explanation, the notice's text and the list of
	// keys scroll. The buttons carry no key hints (two columns of them fit
	// 440 px only without); the list of keys says them all.
	controls := container.NewVBox(
		p.callLine,
		p.keying,
		p.pauseLine,
		p.pauseBox,
		container.NewGridWithColumns(2, p.resumeBtn, p.flagBtn),
		p.noticeKeys,
		p.manualBox,
		p.problem,
	)
	secondary := container.NewVBox(p.noticeFold, p.notice, p.why, p.masked, p.keys)
	footer := container.NewBorder(nil, nil, nil, container.NewHBox(p.myCallsBtn, p.myFlagsBtn, p.settingsBtn), p.status)
	p.banner, p.controls = banner, controls
	p.scroll = container.NewVScroll(secondary)
	p.content = container.NewBorder(container.NewVBox(banner, controls), footer, nil, nil, p.scroll)
}

// keysText lists every key the panel answers to, in the policy's order.
func (p *Panel) keysText(manual bool) string {
	var keys []string
	for _, r := range p.pol.PauseReasons {
		if r.Hotkey != "" {
			keys = append(keys, r.Hotkey+" pause: "+r.Label)
		}
	}
	keys = append(keys, "Ctrl+R resume", "Ctrl+N notice read", "Ctrl+O caller objected", "Ctrl+D flag for deletion", myFlagsHotkey+" my flags", myCallsHotkey+" my calls", "Ctrl+, settings")
	if manual {
		keys = append(keys, "Ctrl+Shift+S start call", "Ctrl+Shift+E end call")
	}
	return "Keys: " + strings.Join(keys, " · ")
}

func withHotkey(label, key string) string {
	if key == "" {
		return label
	}
	return label + "  (" + key + ")"
}

// act shows an intent's refusal to the officer in plain words.
func (p *Panel) act(err error) {
	if err == nil {
		p.problem.SetText("")
		p.problem.Hide()
		return
	}
	p.problem.SetText(explain(err))
	p.problem.Show()
}

func explain(err error) string {
	switch {
	case errors.Is(err, app.ErrNoCall):
		return "There is no call to act on."
	case errors.Is(err, app.ErrNotPaused):
		return "Recording is not paused."
	case errors.Is(err, app.ErrNotRecordable):
		return "This call is not being recorded, so there is nothing to pause."
	case errors.Is(err, app.ErrNoNoticeWanted):
		return "This call is not waiting for the notice."
	case errors.Is(err, app.ErrCallInProgress):
		return "End the current call first."
	case errors.Is(err, app.ErrClosed):
		return "callguard is shutting down."
	}
	return err.Error()
}

// Update renders s. It must run on fyne's goroutine (see fyne.Do).
func (p *Panel) Update(s app.Snapshot) {
	p.snap = s
	l := lookOf(s.State)
	p.bannerBG.FillColor = l.BG
	p.bannerBG.Refresh()
	p.bannerIcon.Resource = StateIcon(s.State)
	p.bannerIcon.Refresh()
	p.headline.Text, p.headline.Color = l.Headline, l.FG
	p.headline.Refresh()
	p.detail.Text, p.detail.Color = p.detailFor(s, l), l.FG
	p.detail.Refresh()

	p.callLine.SetText(p.callText(s))
	showIf(p.callLine, s.Call != nil)
	p.why.SetText(p.whyText(s))
	showIf(p.why, p.why.Text != "")
	p.updatePause(s)
	p.updateKeying(s)
	if m := maskedText(s); m != p.masked.Text {
		p.masked.SetText(m)
	}
	showIf(p.masked, p.masked.Text != "")
	p.updateNotice(s)

	live := s.Call != nil
	canFlag := live || len(s.Recent) > 0
	setEnabled(p.flagBtn, canFlag)
	showIf(p.manualBox, s.Link == app.LinkManual)
	if keys := p.keysText(s.Link == app.LinkManual); keys != p.keys.Text {
		p.keys.SetText(keys)
	}
	setEnabled(p.startBtn, !live)
	setEnabled(p.endBtn, live)
	p.status.SetText(p.statusText(s))
	if p.win != nil {
		p.win.SetTitle("callguard — " + l.Headline)
	}
}

// Tick refreshes the durations shown; the window calls it once a second
// while a call is live.
func (p *Panel) Tick() {
	p.callLine.SetText(p.callText(p.snap))
	p.updatePauseLine(p.snap)
}

func (p *Panel) detailFor(s app.Snapshot, l look) string {
	switch s.State {
	case app.StatePaused:
		return s.ReasonLabel + " — nothing is recorded"
	case app.StateRinging:
		return "Call ringing — nothing is recorded yet"
	}
	return l.Detail
}

func (p *Panel) whyText(s app.Snapshot) string {
	switch s.State {
	case app.StateUnknown:
		if s.Call == nil {
			return "callguard cannot hear the phone system (" + s.Reason + "), so it cannot see calls: a call that starts now is not recorded until the link is back. callguard keeps trying to reconnect."
		}
		return "callguard cannot hear the phone system (" + s.Reason + "), so it cannot tell whether this call is still going on. It goes on recording the call until it knows: pause before card or health details. callguard keeps trying to reconnect."
	case app.StateFailed:
		return "Why: " + s.Reason + ". Tell your supervisor; calls are not being recorded."
	case app.StateExcluded:
		return "Why: " + s.Reason + "."
	case app.StateUnconfirmed:
		return app.UnconfirmedText + ". Why: " + s.Reason + ". Tell your supervisor."
	}
	return ""
}

func (p *Panel) callText(s app.Snapshot) string {
	c := s.Call
	if c == nil {
		return "No call"
	}
	who := c.Remote.Number
	if who == "" {
		who = "withheld number"
	}
	if c.Remote.Name != "" {
		who = c.Remote.Name + " (" + who + ")"
	}
	dir := "Inbound"
	switch c.Direction {
	case app.DirectionOutbound:
		dir = "Outbound"
	case app.DirectionUnknown:
		dir = "Call"
	}
	from := c.Started
	if c.Answered != nil {
		from = *c.Answered
	}
	text := fmt.Sprintf("%s · %s · %s", dir, who, clock(p.now().Sub(from)))
	return text + otherCalls(s.Calls, c.ID)
}

// keypadMaskedText says that keypad tones were silenced in a recording,
// on the panel and the board alike.
const keypadMaskedText = "Keypad tones masked"

// maskedText says that keypad tones were silenced in the call's recording.
func maskedText(s app.Snapshot) string {
	if s.Call == nil || s.Call.KeypadMasked == 0 {
		return ""
	}
	return keypadMaskedText + ": the caller's keypresses were silenced in this recording (" + plural(s.Call.KeypadMasked, "time") + "); which keys is never stored."
}

// paymentReason is the pause the keying question offers: the policy's
// card-payment reason, else its first.
func (p *Panel) paymentReason() *policy.PauseReason {
	if r := p.pol.PauseReason("payment"); r != nil {
		return r
	}
	if len(p.pol.PauseReasons) > 0 {
		return &p.pol.PauseReasons[0]
	}
	return nil
}

// updateKeying asks the officer to pause while the core says the caller is
// keying numbers, naming the card-payment pause's hotkey, and makes that
// button the one that stands out.
func (p *Panel) updateKeying(s app.Snapshot) {
	keying := s.Call != nil && s.Call.Keying
	r := p.paymentReason()
	text := app.KeyingPrompt
	if r != nil && r.Hotkey != "" {
		text += " Press " + r.Hotkey + "."
	}
	if keying && p.keying.Text != text {
		p.keying.SetText(text)
	}
	showIf(p.keying, keying)
	if r == nil {
		return
	}
	if b := p.pauseBtns[r.ID]; b != nil {
		want := widget.MediumImportance
		if keying {
			want = widget.HighImportance
		}
		if b.Importance != want {
			b.Importance = want
			b.Refresh()
		}
	}
}

// otherCalls says what the officer's other calls are doing: a second call
// connected while this one is on the line waits, unrecorded, until the
// phone system reports this one held (docs/phone-systems.md).
func otherCalls(calls []app.CallView, current string) string {
	var waiting, others int
	for _, o := range calls {
		switch {
		case o.ID == current:
		case o.Waiting:
			waiting++
		default:
			others++
		}
	}
	text := ""
	if waiting > 0 {
		text += fmt.Sprintf(" · %s waiting, not recorded", plural(waiting, "call"))
	}
	switch {
	case others == 1:
		text += " · 1 other call"
	case others > 1:
		text += fmt.Sprintf(" · %d other calls", others)
	}
	return text
}

func (p *Panel) updatePause(s app.Snapshot) {
	st, reason := callState(s)
	recordable := s.Call != nil && st != app.StateExcluded && st != app.StateDeclined
	for id, b := range p.pauseBtns {
		setEnabled(b, recordable && !(st == app.StatePaused && reason == id))
	}
	setEnabled(p.resumeBtn, resumable(s))
	p.updatePauseLine(s)
}

// callState is the state of the call the pause controls act on: while the
// phone system cannot be heard the banner says unknown, but the call keeps
// its own state (a pause made then is still a pause that can be lifted).
func callState(s app.Snapshot) (app.RecordingState, string) {
	if s.Call != nil {
		return s.Call.State, s.Call.Reason
	}
	return s.State, s.Reason
}

// resumable reports whether the focused call has a pause the officer can lift.
func resumable(s app.Snapshot) bool {
	st, reason := callState(s)
	return st == app.StatePaused && reason != policy.HoldReason
}

func (p *Panel) updatePauseLine(s app.Snapshot) {
	if s.State != app.StatePaused {
		p.pauseLine.SetText("")
		p.pauseLine.Hide()
		return
	}
	line := fmt.Sprintf("Paused for %s · %s", s.ReasonLabel, clock(p.now().Sub(s.Since)))
	if s.PauseOverdue {
		line += " · still paused: resume as soon as it is over"
		p.pauseLine.Importance = widget.WarningImportance
	} else {
		p.pauseLine.Importance = widget.MediumImportance
	}
	p.pauseLine.SetText(line)
	p.pauseLine.Show()
}

// updateNotice shows the notice in full while it is awaited (or the officer
// asked to see it), and as one line with "Show notice" once it is read,
// announced or objected to, so it no longer pushes anything out of reach.
func (p *Panel) updateNotice(s app.Snapshot) {
	n := s.Notice
	if n == nil || s.Call == nil || s.State == app.StateExcluded {
		p.notice.Hide()
		p.noticeFold.Hide()
		p.noticeKeys.Hide()
		return
	}
	if s.Call.ID != p.noticeFor {
		p.noticeFor, p.noticeOpen = s.Call.ID, false
	}
	dir := "inbound"
	if n.Direction != app.DirectionInbound {
		dir = "outbound"
	}
	words := noticeWords(n)
	p.noticeHead.SetText(fmt.Sprintf("Privacy notice · %s call · %s", dir, words))
	p.noticeText.SetText(n.Text)
	full := n.Awaited || p.noticeOpen
	showIf(p.notice, full)
	showIf(p.hideBtn, !n.Awaited)
	showIf(p.noticeFold, !full)
	p.noticeLine.SetText("Privacy notice: " + words)
	p.noticeKeys.Show()
	setEnabled(p.readBtn, n.Awaited && s.Call.Answered != nil)
	setEnabled(p.objectBtn, s.Call.Answered != nil && s.State != app.StateDeclined)
}

func noticeWords(n *app.NoticeView) string {
	switch {
	case n.Awaited:
		return "read this to the caller now"
	case n.Outcome == app.NoticeRead:
		return "read; caller did not object"
	case n.Outcome == app.NoticeObjected:
		return "caller objected"
	case n.Outcome == app.NoticeAnnounced:
		return "announced by the phone system"
	}
	return "for reference"
}

func (p *Panel) statusText(s app.Snapshot) string {
	var parts []string
	switch s.Link {
	case app.LinkManual:
		parts = append(parts, "Manual calls (no phone system)")
	case app.LinkOK:
		parts = append(parts, "Phone system connected")
	default:
		parts = append(parts, "Phone system NOT connected")
	}
	if p.SyncStatus != nil {
		if st := p.SyncStatus(); st != "" {
			parts = append(parts, st)
		}
	}
	if s.Agent.ID != "" {
		parts = append(parts, "Officer "+s.Agent.ID)
	}
	return strings.Join(parts, " · ")
}

func (p *Panel) confirmObjection() {
	if p.win == nil {
		p.act(p.session.Notice(app.NoticeObjected))
		return
	}
	p.confirmObjectionDialog()
}

func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Truncate(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", m, s)
}

func showIf(o fyne.CanvasObject, show bool) {
	if show {
		o.Show()
	} else {
		o.Hide()
	}
}

type disableable interface {
	Enable()
	Disable()
}

func setEnabled(w disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}
