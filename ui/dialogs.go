package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
)

// confirmObjection asks before declining: it cannot be undone in the call.
func (p *Panel) confirmObjectionDialog() {
	d := dialog.NewConfirm("Caller objected",
		"Stop recording this call?\n\nNothing more will be recorded, and what was recorded\ngoes to the data-protection officer for deletion.",
		func(ok bool) {
			if ok {
				p.act(p.session.Notice(app.NoticeObjected))
			}
		}, p.win)
	d.SetConfirmText("Stop recording")
	d.SetDismissText("Keep recording")
	d.Show()
}

// showFlag asks which call, why, and a note, then flags it.
func (p *Panel) showFlag() {
	s := p.snap
	type choice struct {
		label string
		id    string
	}
	var calls []choice
	if s.Call != nil {
		calls = append(calls, choice{"This call — " + describe(*s.Call), s.Call.ID})
	}
	for _, c := range s.Recent {
		calls = append(calls, choice{describe(c), c.ID})
	}
	if len(calls) == 0 {
		p.act(app.ErrNoCall)
		return
	}
	callLabels := make([]string, len(calls))
	for i, c := range calls {
		callLabels[i] = c.label
	}
	callSel := widget.NewSelect(callLabels, nil)
	callSel.SetSelectedIndex(0)

	reasonLabels := make([]string, len(p.pol.FlagReasons))
	for i, r := range p.pol.FlagReasons {
		reasonLabels[i] = r.Label
	}
	reason := widget.NewRadioGroup(reasonLabels, nil)
	reason.Required = true
	note := widget.NewMultiLineEntry()
	note.SetPlaceHolder("What was recorded, roughly when (no card numbers or health details here)")
	note.Validator = func(s string) error {
		if len(s) > app.MaxNoteLength {
			return fmt.Errorf("at most %d characters", app.MaxNoteLength)
		}
		return nil
	}
	items := []*widget.FormItem{
		widget.NewFormItem("Call", callSel),
		widget.NewFormItem("Reason", reason),
		widget.NewFormItem("Note", note),
	}
	d := dialog.NewForm("Flag a call for deletion", "Flag", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		var id string
		for i, r := range p.pol.FlagReasons {
			if reasonLabels[i] == reason.Selected {
				id = r.ID
			}
		}
		if id == "" {
			p.act(fmt.Errorf("choose a reason"))
			return
		}
		p.act(p.session.Flag(app.FlagRequest{CallID: calls[callSel.SelectedIndex()].id, Reason: id, Note: strings.TrimSpace(note.Text)}))
	}, p.win)
	d.Resize(fyne.NewSize(460, 420))
	d.Show()
}

func describe(c app.CallView) string {
	who := c.Remote.Number
	if who == "" {
		who = "withheld"
	}
	return fmt.Sprintf("%s %s at %s", c.Direction, who, c.Started.Local().Format("15:04"))
}

// showStart asks for a manual call's direction and number.
func (p *Panel) showStart() {
	dir := widget.NewRadioGroup([]string{"Inbound", "Outbound"}, nil)
	dir.Horizontal = true
	dir.SetSelected("Inbound")
	dir.Required = true
	number := widget.NewEntry()
	number.SetPlaceHolder("Caller's number (optional)")
	d := dialog.NewForm("Start a call", "Start", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Direction", dir),
		widget.NewFormItem("Number", number),
	}, func(ok bool) {
		if !ok {
			return
		}
		d := app.DirectionInbound
		if dir.Selected == "Outbound" {
			d = app.DirectionOutbound
		}
		_, err := p.session.StartManual(d, app.Party{Number: strings.TrimSpace(number.Text)})
		p.act(err)
	}, p.win)
	d.Resize(fyne.NewSize(400, 220))
	d.Show()
}
