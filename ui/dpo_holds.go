package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/server"
)

var dueColumns = []column{
	{"Call", 170}, {"Officer", 90}, {"Started", 150}, {"Deleted after", 150}, {"Rule", 140}, {"Recording", 150},
}

func (r *Review) buildHolds() fyne.CanvasObject {
	r.holdsSummary = widget.NewLabel("Loading the holds…")
	r.holdsSummary.Wrapping = fyne.TextWrapWord
	r.holdList = widget.NewList(
		func() int { return len(r.holds) },
		func() fyne.CanvasObject { return twoLines() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(r.holds) {
				setTwoLines(o, holdTitle(r.holds[id]), r.holdLine(r.holds[id]))
			}
		},
	)
	r.holdList.OnSelected = func(id widget.ListItemID) {
		if id < len(r.holds) {
			r.showHold(r.holds[id])
		}
	}
	r.liftTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.liftReason = widget.NewEntry()
	r.liftReason.SetPlaceHolder("Why the hold can be lifted (required)")
	r.liftBtn = widget.NewButtonWithIcon("Lift the hold", theme.DeleteIcon(), r.lift)
	r.liftBox = container.NewVBox(widget.NewSeparator(), r.liftTitle, container.NewBorder(nil, nil, widget.NewLabel("Reason:"), r.liftBtn, r.liftReason))
	r.liftBox.Hide()
	holds := container.NewBorder(r.holdsSummary, r.liftBox, nil, nil, r.holdList)

	r.dueSummary = widget.NewLabel("")
	r.dueSummary.Wrapping = fyne.TextWrapWord
	r.dueTable = widget.NewTableWithHeaders(
		func() (int, int) { return len(r.report.Due), len(dueColumns) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		r.fillDue,
	)
	setColumns(r.dueTable, dueColumns)
	due := container.NewBorder(r.dueSummary, nil, nil, nil, r.dueTable)
	split := container.NewVSplit(holds, due)
	split.Offset = 0.5
	return split
}

func (r *Review) fillDue(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	if id.Row >= len(r.report.Due) {
		l.SetText("")
		return
	}
	c := r.report.Due[id.Row]
	l.SetText([]string{c.CallID, c.Agent, when(c.Started), when(c.DeleteAfter), c.Rule, recordingWords(c.Recording)}[id.Col])
}

// setHolds shows new holds, keeping the selection when it is still there.
func (r *Review) setHolds(holds []server.Hold, twoPerson bool) {
	r.holds, r.twoPersonLift = holds, twoPerson
	rule := "one data-protection officer lifts a hold"
	if twoPerson {
		rule = "lifting a hold takes two data-protection officers: one asks, another lifts"
	}
	r.holdsSummary.SetText(fmt.Sprintf("Holds: %d (%s).", len(holds), rule))
	r.holdList.Refresh()
	for i, h := range holds {
		if h.ID == r.hold {
			r.holdList.Select(i)
			r.showHold(h)
			return
		}
	}
	r.holdList.UnselectAll()
	r.hold = 0
	r.liftBox.Hide()
}

func (r *Review) showHold(h server.Hold) {
	if h.ID != r.hold {
		r.hold = h.ID
		r.liftReason.SetText("")
	}
	r.liftTitle.SetText(fmt.Sprintf("Lift hold #%d (%s)", h.ID, holdWhat(h)))
	switch {
	case r.twoPersonLift && h.LiftRequestedBy == "":
		r.liftBtn.SetText("Ask to lift the hold")
	case r.twoPersonLift:
		r.liftBtn.SetText("Lift the hold (second officer)")
	default:
		r.liftBtn.SetText("Lift the hold")
	}
	setEnabled(r.liftBtn, !r.sending)
	r.liftBox.Show()
}

func (r *Review) lift() {
	var h server.Hold
	for _, x := range r.holds {
		if x.ID == r.hold {
			h = x
		}
	}
	if h.ID == 0 {
		return
	}
	reason := strings.TrimSpace(r.liftReason.Text)
	if reason == "" {
		say(r.problem, "Give a reason for lifting the hold. It is kept in the audit log.")
		return
	}
	r.send("Could not lift the hold", func(ctx context.Context) (string, error) {
		_, lifted, err := r.backend.LiftHold(ctx, h.ID, reason)
		if err != nil {
			return "", fmt.Errorf("lift hold %d: %w", h.ID, err)
		}
		if !lifted {
			return fmt.Sprintf("Asked to lift hold #%d: a second data-protection officer must lift it.", h.ID), nil
		}
		return fmt.Sprintf("Hold #%d lifted. Its calls past their date are deleted by the next retention run unless another hold keeps them.", h.ID), nil
	})
}

func (r *Review) drawDue() {
	rep := r.report
	text := fmt.Sprintf("Calls retention deletes in the next %d days: %d.", dueDays, rep.DueCount)
	if rep.Overdue > 0 || rep.HeldPastDate > 0 {
		text += fmt.Sprintf(" Past their date: %d for the next run to delete, %d kept by holds.", rep.Overdue, rep.HeldPastDate)
	}
	if rep.Unfinished > 0 {
		text += fmt.Sprintf(" Deletions begun and not finished: %d (the next run finishes them).", rep.Unfinished)
	}
	if len(rep.HoldsDue) > 0 {
		text += fmt.Sprintf(" Holds due for review: %d.", len(rep.HoldsDue))
	}
	r.dueSummary.SetText(text)
	r.dueTable.Refresh()
	r.holdList.Refresh() // "review due" marks depend on the report
}
