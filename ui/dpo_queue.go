package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/server"
)

func (r *Review) buildQueue() fyne.CanvasObject {
	r.queueSummary = widget.NewLabel("Loading the review queue…")
	r.queueSummary.Wrapping = fyne.TextWrapWord
	r.list = widget.NewList(
		func() int { return len(r.queue.Items) },
		func() fyne.CanvasObject { return twoLines() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(r.queue.Items) {
				setTwoLines(o, itemTitle(r.queue.Items[id]), itemLine(r.queue.Items[id]))
			}
		},
	)
	r.list.OnSelected = func(id widget.ListItemID) {
		if id < len(r.queue.Items) {
			r.show(r.queue.Items[id])
		}
	}

	form := container.New(layout.NewFormLayout())
	r.facts = map[string]*widget.Label{}
	for _, name := range factNames {
		v := widget.NewLabel("")
		v.Wrapping = fyne.TextWrapWord
		r.facts[name] = v
		form.Add(widget.NewLabelWithStyle(name, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}))
		form.Add(v)
	}

	r.from, r.to = widget.NewEntry(), widget.NewEntry()
	r.from.SetPlaceHolder("e.g. 75 or 1:15")
	r.to.SetPlaceHolder("e.g. 90 or 1:30")
	interval := container.NewGridWithColumns(2,
		container.NewBorder(nil, nil, widget.NewLabel("Silence from (seconds)"), nil, r.from),
		container.NewBorder(nil, nil, widget.NewLabel("to (seconds)"), nil, r.to))
	r.deleteBtn = widget.NewButtonWithIcon("Delete the whole recording…", theme.DeleteIcon(), r.deleteWhole)
	r.deleteBtn.Importance = widget.DangerImportance
	r.intervalBtn = widget.NewButtonWithIcon("Silence from–to…", theme.ContentCutIcon(), r.deleteInterval)
	r.confirmBtn = widget.NewButtonWithIcon("Confirm the redaction", theme.ConfirmIcon(), r.confirmRedaction)
	r.deleteHint = widget.NewLabel("")
	r.deleteHint.Wrapping = fyne.TextWrapWord
	r.deleteHint.Importance = widget.LowImportance

	r.note = widget.NewEntry()
	r.note.SetPlaceHolder("Why keep it? (required)")
	r.keepBtn = widget.NewButtonWithIcon("Keep the recording", theme.ConfirmIcon(), r.keep)
	r.keepBox = container.NewBorder(nil, nil, widget.NewLabel("Or keep it:"), r.keepBtn, r.note)

	r.decideBox = container.NewVBox(
		widget.NewLabelWithStyle("Decide", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		interval,
		container.NewHBox(r.deleteBtn, r.intervalBtn, r.confirmBtn),
		r.deleteHint,
		r.keepBox,
	)

	r.approveText = widget.NewLabel("")
	r.approveText.Wrapping = fyne.TextWrapWord
	r.approveBtn = widget.NewButtonWithIcon("Approve and carry it out…", theme.ConfirmIcon(), r.approve)
	r.approveBtn.Importance = widget.DangerImportance
	r.rejectBtn = widget.NewButtonWithIcon("Reject: back to the queue", theme.CancelIcon(), r.reject)
	r.approveBox = container.NewVBox(r.approveText, container.NewHBox(r.approveBtn, r.rejectBtn))

	r.askText = widget.NewLabel("")
	r.askText.Wrapping = fyne.TextWrapWord
	r.askText.Importance = widget.WarningImportance
	r.askYes = widget.NewButton("", func() {
		do := r.askDo
		r.cancelAsk()
		if do != nil {
			do()
		}
	})
	r.askYes.Importance = widget.DangerImportance
	r.askBox = container.NewVBox(r.askText, container.NewHBox(r.askYes, widget.NewButton("Cancel", r.cancelAsk)))
	r.askBox.Hide()

	r.detail = form
	r.detail.Hide()
	r.actions = container.NewVBox(widget.NewSeparator(), r.decideBox, r.approveBox, r.askBox)
	r.actions.Hide()
	r.empty = widget.NewLabel("Choose an item on the left to see it and decide.")
	r.empty.Wrapping = fyne.TextWrapWord
	// The decisions stay in view below the item's facts, which scroll.
	right := container.NewBorder(nil, r.actions, nil, nil, container.NewVScroll(container.NewVBox(r.empty, r.buildListen(), r.detail)))
	split := container.NewHSplit(r.list, right)
	split.Offset = 0.42
	return container.NewBorder(r.queueSummary, nil, nil, nil, split)
}

// setQueue shows a new queue, keeping the selection (and what the dpo has
// typed) when the selected item is still there.
func (r *Review) setQueue(q server.ReviewQueue) {
	r.queue = q
	r.queueSummary.SetText(queueSummary(q))
	r.list.Refresh()
	for i, it := range q.Items {
		if it.ID == r.current {
			r.list.Select(i)
			r.show(it)
			return
		}
	}
	r.list.UnselectAll()
	r.current = ""
	r.empty.Show()
	r.detail.Hide()
	r.actions.Hide()
}

// selected returns the selected review item.
func (r *Review) selected() (server.ReviewItem, bool) {
	for _, it := range r.queue.Items {
		if it.ID == r.current {
			return it, true
		}
	}
	return server.ReviewItem{}, false
}

// show fills the detail with it; the interval and the reason are reset
// only when another item is chosen.
func (r *Review) show(it server.ReviewItem) {
	if it.ID != r.current {
		r.current = it.ID
		r.cancelAsk()
		r.stopListening() // another call: what played was the last one's
		if r.listenState != nil && r.playing == nil {
			r.listenState.SetText("")
		}
		r.from.SetText(seconds(it.FromMS))
		r.to.SetText(seconds(it.ToMS))
		r.note.SetText("")
	}
	raised := "flagged by " + it.Officer + ", " + when(it.At)
	if it.Kind == server.ReviewKindDeclined {
		raised = "the caller declined on " + it.Officer + "'s call, " + when(it.At)
	}
	facts := map[string]string{
		"Reason":         itemReason(it),
		"Officer's note": orDash(it.Note),
		"Raised":         raised,
		"Interval":       interval(it.FromMS, it.ToMS),
		"Call":           callWords(it),
		"Recording":      recordingWords(it.Recording),
		"Retention":      retentionWords(it),
		"State":          stateWords(it),
	}
	if it.Held {
		facts["Retention"] += "; a hold keeps it longer"
	}
	for name, v := range facts {
		r.facts[name].SetText(v)
	}
	r.empty.Hide()
	r.detail.Show()
	r.actions.Show()
	r.drawButtons()
	r.drawListen()
}

// drawButtons shows the decisions the server says the selected item
// allows (ReviewItem.Allows); the view never works the rules out itself.
// A deletion the item does not allow stays in sight, disabled, with a
// hint that says why when the reason is one the officer can see.
func (r *Review) drawButtons() {
	it, ok := r.selected()
	if !ok {
		return
	}
	allows := func(action string) bool { return slices.Contains(it.Allows, action) }
	canDelete, canSilence, canKeep, canConfirm := allows(server.DecisionDelete), allows(server.DecisionDeleteInterval), allows(server.DecisionKeep), allows(server.DecisionConfirm)
	showIf(r.decideBox, canDelete || canSilence || canKeep || canConfirm)
	showIf(r.keepBox, canKeep)
	showIf(r.confirmBtn, canConfirm)
	setEnabled(r.deleteBtn, canDelete && !r.sending)
	setEnabled(r.intervalBtn, canSilence && !r.sending)
	setEnabled(r.keepBtn, !r.sending)
	setEnabled(r.confirmBtn, !r.sending)
	hint := ""
	switch {
	case it.Recording != server.RecordingStored:
		hint = "The recording is " + recordingWords(it.Recording) + ": it can be deleted once it is on the server."
	case canDelete && !canSilence && !r.queue.ServerHasKey:
		hint = "The server has no organisation key, so it cannot silence part of a recording; it can delete the whole of it."
	}
	say(r.deleteHint, hint)

	canApprove := allows(server.ReviewApprove)
	showIf(r.approveBox, canApprove)
	if canApprove {
		r.approveText.SetText(fmt.Sprintf("%s decided to %s. A second data-protection officer approves it (it is then carried out) or rejects it (it returns to the queue).",
			it.DecidedBy, decisionWords(it.Decision, it.DecisionFromMS, it.DecisionToMS)))
	}
	setEnabled(r.approveBtn, !r.sending)
	setEnabled(r.rejectBtn, !r.sending)
}

// ask shows an inline question before something that cannot be undone.
func (r *Review) ask(question, yes string, do func()) {
	r.askText.SetText(question)
	r.askYes.SetText(yes)
	r.askDo = do
	r.askBox.Show()
}

func (r *Review) cancelAsk() {
	r.askDo = nil
	if r.askBox != nil {
		r.askBox.Hide()
	}
}

func (r *Review) deleteWhole() {
	it, ok := r.selected()
	if !ok {
		return
	}
	r.ask(fmt.Sprintf("Delete the whole recording of the %s? This cannot be undone.", callWords(it)), "Delete the recording", func() {
		r.decide(it, server.Decision{Action: server.DecisionDelete}, "Could not delete the recording")
	})
}

func (r *Review) deleteInterval() {
	it, ok := r.selected()
	if !ok {
		return
	}
	from, err := parseSeconds(r.from.Text)
	if err != nil {
		say(r.problem, "The start of the interval: "+err.Error())
		return
	}
	to, err := parseSeconds(r.to.Text)
	if err != nil {
		say(r.problem, "The end of the interval: "+err.Error())
		return
	}
	if to <= from {
		say(r.problem, "The interval must end after it starts.")
		return
	}
	say(r.problem, "")
	r.ask(fmt.Sprintf("Silence %s of the recording of the %s? The sound there is replaced by silence on both channels; this cannot be undone.",
		interval(&from, &to), callWords(it)), "Silence it", func() {
		r.decide(it, server.Decision{Action: server.DecisionDeleteInterval, FromMS: &from, ToMS: &to}, "Could not silence the interval")
	})
}

func (r *Review) keep() {
	it, ok := r.selected()
	if !ok {
		return
	}
	note := strings.TrimSpace(r.note.Text)
	if note == "" {
		say(r.problem, "Give a reason for keeping the recording. It stays in the review record; the officer never sees it.")
		return
	}
	r.decide(it, server.Decision{Action: server.DecisionKeep, Note: note}, "Could not keep the recording")
}

func (r *Review) confirmRedaction() {
	if it, ok := r.selected(); ok {
		r.decide(it, server.Decision{Action: server.DecisionConfirm}, "Could not confirm the redaction")
	}
}

func (r *Review) decide(it server.ReviewItem, d server.Decision, failed string) {
	r.send(failed, func(ctx context.Context) (string, error) {
		got, err := r.backend.Decide(ctx, it.ID, d)
		if err != nil {
			return "", fmt.Errorf("decide %s on review item %s: %w", d.Action, it.ID, err)
		}
		if got.State == server.ReviewAwaitingApproval {
			return "Decision recorded: a second data-protection officer must approve it before it is carried out.", nil
		}
		switch d.Action {
		case server.DecisionDelete:
			return "Deleted the recording of the " + callWords(it) + ".", nil
		case server.DecisionDeleteInterval:
			return "Silenced " + interval(d.FromMS, d.ToMS) + " of the recording of the " + callWords(it) + ".", nil
		case server.DecisionKeep:
			return "Kept: the " + callWords(it) + " goes back to its ordinary retention.", nil
		}
		return "Redaction confirmed.", nil
	})
}

func (r *Review) approve() {
	it, ok := r.selected()
	if !ok {
		return
	}
	r.ask(fmt.Sprintf("Approve: %s, for the %s? This cannot be undone.", decisionWords(it.Decision, it.DecisionFromMS, it.DecisionToMS), callWords(it)),
		"Approve and carry it out", func() { r.answer(it, true) })
}

func (r *Review) reject() {
	if it, ok := r.selected(); ok {
		r.answer(it, false)
	}
}

func (r *Review) answer(it server.ReviewItem, approve bool) {
	failed := "Could not reject the decision"
	if approve {
		failed = "Could not approve the decision"
	}
	r.send(failed, func(ctx context.Context) (string, error) {
		if _, err := r.backend.Approve(ctx, it.ID, approve); err != nil {
			return "", fmt.Errorf("approve (%v) review item %s: %w", approve, it.ID, err)
		}
		if approve {
			return "Approved and carried out.", nil
		}
		return "Rejected: the item is back in the queue.", nil
	})
}
