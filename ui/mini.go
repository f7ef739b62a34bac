package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/policy"
)

// Mini is the one-line strip for crowded screens: the state in its colour
// and in words, the call timer, one pause button that opens the reasons,
// resume, and the way back to the full panel.
type Mini struct {
	session Session
	pol     *policy.Policy
	panel   *Panel // shares its clock, words and refusal line

	chipBG    *canvas.Rectangle
	chipText  *canvas.Text
	timer     *widget.Label
	pauseBtn  *widget.Button
	resumeBtn *widget.Button
	fullBtn   *widget.Button
	reasons   *fyne.Container // the pause reasons, shown under the strip on demand
	content   fyne.CanvasObject

	// OnFull switches back to the full panel.
	OnFull func()
	// OnResize is called when the strip grows or shrinks (the reasons
	// opened or closed), so the window can fit it.
	OnResize func()
}

func newMini(p *Panel) *Mini {
	m := &Mini{session: p.session, pol: p.pol, panel: p}
	m.chipBG = canvas.NewRectangle(lookOf(app.StateUnknown).BG)
	m.chipBG.CornerRadius = theme.InputRadiusSize()
	m.chipText = canvas.NewText("", white)
	m.chipText.TextStyle = fyne.TextStyle{Bold: true}
	m.chipText.TextSize = theme.TextSize() * 1.15
	chip := container.NewStack(m.chipBG, container.NewPadded(m.chipText))
	m.timer = widget.NewLabel("")
	m.pauseBtn = widget.NewButtonWithIcon("Pause…", theme.MediaPauseIcon(), m.showReasons)
	m.resumeBtn = widget.NewButtonWithIcon("Resume", theme.MediaRecordIcon(), func() { p.act(p.session.Resume()) })
	m.resumeBtn.Importance = widget.HighImportance
	m.fullBtn = widget.NewButtonWithIcon("", theme.ViewFullScreenIcon(), func() {
		if m.OnFull != nil {
			m.OnFull()
		}
	})
	var buttons []fyne.CanvasObject
	for _, r := range m.pol.PauseReasons {
		id := r.ID
		buttons = append(buttons, widget.NewButtonWithIcon(r.Label, theme.MediaPauseIcon(), func() {
			p.act(p.session.Pause(id))
			m.setReasons(false)
		}))
	}
	cancel := widget.NewButton("Cancel", func() { m.setReasons(false) })
	m.reasons = container.NewVBox(container.NewGridWithColumns(2, buttons...), cancel)
	m.reasons.Hide()
	strip := container.NewBorder(nil, nil, chip, container.NewHBox(m.pauseBtn, m.resumeBtn, m.fullBtn), m.timer)
	m.content = container.NewVBox(strip, m.reasons)
	return m
}

// Content is the strip's root object.
func (m *Mini) Content() fyne.CanvasObject { return m.content }

// miniWords is the state as the strip says it: the banner's headline, with
// the reason of a pause, so that no state is told by colour alone.
func miniWords(s app.Snapshot) string {
	l := lookOf(s.State)
	if s.State == app.StatePaused && s.ReasonLabel != "" {
		return l.Headline + " · " + s.ReasonLabel
	}
	return l.Headline
}

// Update renders s (on fyne's goroutine).
func (m *Mini) Update(s app.Snapshot) {
	l := lookOf(s.State)
	m.chipBG.FillColor = l.BG
	m.chipBG.Refresh()
	m.chipText.Text, m.chipText.Color = miniWords(s), l.FG
	m.chipText.Refresh()
	m.Tick(s)
	st, _ := callState(s)
	setEnabled(m.pauseBtn, s.Call != nil && st != app.StateExcluded && st != app.StateDeclined)
	showIf(m.resumeBtn, resumable(s))
	showIf(m.pauseBtn, !resumable(s))
	// While the caller keys numbers the strip asks too: the pause button
	// says why and stands out.
	text, imp := "Pause…", widget.MediumImportance
	if s.Call != nil && s.Call.Keying {
		text, imp = "Keying numbers: pause…", widget.HighImportance
	}
	if m.pauseBtn.Text != text || m.pauseBtn.Importance != imp {
		m.pauseBtn.Text, m.pauseBtn.Importance = text, imp
		m.pauseBtn.Refresh()
	}
	if !m.pauseBtn.Visible() || m.pauseBtn.Disabled() {
		m.setReasons(false)
	}
}

// Tick refreshes the timer: the call's time, or the pause's while paused
// (beside the word PAUSED).
func (m *Mini) Tick(s app.Snapshot) {
	switch {
	case s.Call == nil:
		m.timer.SetText("No call")
	case s.State == app.StatePaused:
		m.timer.SetText(clock(m.panel.now().Sub(s.Since))) // the strip says PAUSED
	default:
		from := s.Call.Started
		if s.Call.Answered != nil {
			from = *s.Call.Answered
		}
		m.timer.SetText(clock(m.panel.now().Sub(from)))
	}
}

// showReasons opens the pause reasons under the strip (a pop-up menu
// would not fit in a window one line high), or closes them.
func (m *Mini) showReasons() { m.setReasons(!m.reasons.Visible()) }

func (m *Mini) setReasons(open bool) {
	if open == m.reasons.Visible() {
		return
	}
	showIf(m.reasons, open)
	if m.OnResize != nil {
		m.OnResize()
	}
}
