package ui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app/uplink"
)

// ReviewBackend is what the data-protection officer's view asks of the
// server. *uplink.Client implements it.
type ReviewBackend interface {
	Review(ctx context.Context, state string) (uplink.ReviewQueue, error)
	Decide(ctx context.Context, itemID string, d uplink.Decision) (uplink.ReviewItem, error)
	Approve(ctx context.Context, itemID string, approve bool) (uplink.ReviewItem, error)
	Holds(ctx context.Context, all bool) ([]uplink.Hold, bool, error)
	LiftHold(ctx context.Context, id int64, reason string) (uplink.Hold, bool, error)
	RetentionReport(ctx context.Context, days int) (uplink.RetentionReport, error)
}

// dueDays is how far ahead the holds tab looks for calls retention deletes.
const dueDays = 7

// refreshEvery is how often an open view reloads what the server holds.
const refreshEvery = time.Minute

// Review item states and decisions, as the server names them.
const (
	stateOpen             = "open"
	stateAwaitingApproval = "awaiting-approval"
	stateApproved         = "approved"
	stateRedactionPending = "redaction-pending"
	stateAutoRedacted     = "auto-redacted"

	actionDelete         = "delete"
	actionDeleteInterval = "delete-interval"
	actionKeep           = "keep"
	actionConfirm        = "confirm"
)

var dueColumns = []column{
	{"Call", 170}, {"Officer", 90}, {"Started", 150}, {"Deleted after", 150}, {"Rule", 140}, {"Recording", 150},
}

// Review is the data-protection officer's view: the review queue of flagged
// and declined calls with the decisions on them, and the holds with the
// calls retention deletes in the coming week.
type Review struct {
	backend ReviewBackend

	ctx    context.Context
	cancel context.CancelFunc
	busy   sync.WaitGroup // requests in flight
	loop   sync.WaitGroup // the periodic refresh

	// What the server last said; read and written on fyne's goroutine only.
	queue         uplink.ReviewQueue
	current       string // the selected review item's id
	holds         []uplink.Hold
	twoPersonLift bool
	report        uplink.RetentionReport
	hold          int64 // the selected hold's id
	sending       bool  // a decision or a lift is on its way

	loadProblem *widget.Label // the last refresh failed
	problem     *widget.Label // the last action failed
	info        *widget.Label // the last action's outcome
	tabs        *container.AppTabs

	queueSummary *widget.Label
	list         *widget.List
	empty        *widget.Label
	detail       *fyne.Container // the item's facts
	actions      *fyne.Container // the decisions on it
	facts        map[string]*widget.Label
	decideBox    *fyne.Container
	from, to     *widget.Entry
	deleteBtn    *widget.Button
	intervalBtn  *widget.Button
	deleteHint   *widget.Label
	keepBox      *fyne.Container
	note         *widget.Entry
	keepBtn      *widget.Button
	confirmBtn   *widget.Button
	approveBox   *fyne.Container
	approveText  *widget.Label
	approveBtn   *widget.Button
	rejectBtn    *widget.Button
	askBox       *fyne.Container
	askText      *widget.Label
	askYes       *widget.Button
	askDo        func()

	holdsSummary *widget.Label
	holdList     *widget.List
	liftBox      *fyne.Container
	liftTitle    *widget.Label
	liftReason   *widget.Entry
	liftBtn      *widget.Button
	dueSummary   *widget.Label
	dueTable     *widget.Table

	content fyne.CanvasObject
}

// NewReview builds the view; Start loads it and keeps it fresh.
func NewReview(backend ReviewBackend) *Review {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Review{backend: backend, ctx: ctx, cancel: cancel}
	r.build()
	return r
}

// Content is the view's root object.
func (r *Review) Content() fyne.CanvasObject { return r.content }

var factNames = []string{"Reason", "State", "Officer's note", "Raised", "Interval", "Call", "Recording", "Retention"}

func (r *Review) build() {
	r.loadProblem = dangerLabel()
	r.problem = dangerLabel()
	r.info = widget.NewLabel("")
	r.info.Wrapping = fyne.TextWrapWord
	r.info.Importance = widget.SuccessImportance
	r.info.Hide()
	refresh := widget.NewButtonWithIcon(withHotkey("Refresh", "Ctrl+R"), theme.ViewRefreshIcon(), r.Refresh)
	title := widget.NewLabelWithStyle("Data protection: review, holds and retention", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})

	r.tabs = container.NewAppTabs(
		container.NewTabItem(withHotkey("Review queue", "Alt+1"), r.buildQueue()),
		container.NewTabItem(withHotkey("Holds and retention", "Alt+2"), r.buildHolds()),
	)
	top := container.NewVBox(container.NewBorder(nil, nil, nil, refresh, title), r.loadProblem, r.problem, r.info)
	r.content = container.NewBorder(top, nil, nil, nil, r.tabs)
}

func dangerLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	l.Hide()
	return l
}

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
	right := container.NewBorder(nil, r.actions, nil, nil, container.NewVScroll(container.NewVBox(r.empty, r.detail)))
	split := container.NewHSplit(r.list, right)
	split.Offset = 0.42
	return container.NewBorder(r.queueSummary, nil, nil, nil, split)
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

// twoLines is a list row: a bold first line and a plainer second.
func twoLines() fyne.CanvasObject {
	top := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	top.Truncation = fyne.TextTruncateEllipsis
	sub := widget.NewLabel("")
	sub.Truncation = fyne.TextTruncateEllipsis
	return container.NewVBox(top, sub)
}

func setTwoLines(o fyne.CanvasObject, top, sub string) {
	box := o.(*fyne.Container)
	box.Objects[0].(*widget.Label).SetText(top)
	box.Objects[1].(*widget.Label).SetText(sub)
}

// addShortcuts lets the keyboard switch tabs and reload.
func (r *Review) addShortcuts(c fyne.Canvas) {
	bind := func(spec string, f func()) {
		if sc, ok := parseHotkey(spec); ok {
			c.AddShortcut(sc, func(fyne.Shortcut) { f() })
		}
	}
	bind("Alt+1", func() { r.tabs.SelectIndex(0) })
	bind("Alt+2", func() { r.tabs.SelectIndex(1) })
	bind("Ctrl+R", r.Refresh)
}

// Start loads the view now and again every minute until Stop.
func (r *Review) Start() {
	r.Refresh()
	r.loop.Add(1)
	go func() {
		defer r.loop.Done()
		t := time.NewTicker(refreshEvery)
		defer t.Stop()
		for {
			select {
			case <-r.ctx.Done():
				return
			case <-t.C:
				r.Refresh()
			}
		}
	}()
}

// Stop cancels the requests in flight and the periodic refresh, and waits
// for them to end.
func (r *Review) Stop() {
	r.cancel()
	r.loop.Wait()
	r.busy.Wait()
}

// Wait returns once every request the view has sent so far has been
// answered and the answer shown (Stop uses it, and so do tests).
func (r *Review) Wait() { r.busy.Wait() }

// Refresh reloads the review queue, the holds and the retention report
// from the server in the background; it may be called from any goroutine.
func (r *Review) Refresh() {
	if r.ctx.Err() != nil {
		return
	}
	r.busy.Add(1)
	go func() {
		defer r.busy.Done()
		var failed []string
		q, err := r.backend.Review(r.ctx, "")
		if err != nil {
			failed = append(failed, "Could not load the review queue: "+explainServer(err))
		}
		holds, twoPerson, herr := r.backend.Holds(r.ctx, false)
		if herr != nil {
			failed = append(failed, "Could not load the holds: "+explainServer(herr))
		}
		report, rerr := r.backend.RetentionReport(r.ctx, dueDays)
		if rerr != nil {
			failed = append(failed, "Could not load the retention report: "+explainServer(rerr))
		}
		if r.ctx.Err() != nil {
			return // stopped: the window is gone
		}
		fyne.Do(func() {
			if err == nil {
				r.setQueue(q)
			}
			if herr == nil {
				r.setHolds(holds, twoPerson)
			}
			if rerr == nil {
				r.report = report
				r.drawDue()
			}
			say(r.loadProblem, strings.Join(failed, "\n"))
		})
	}()
}

// send runs a request in the background and shows its outcome: the
// success message, or what failed in plain words; then reloads.
func (r *Review) send(failed string, call func(ctx context.Context) (string, error)) {
	say(r.problem, "")
	say(r.info, "")
	r.cancelAsk()
	r.sending = true
	r.drawButtons()
	r.busy.Add(1)
	go func() {
		defer r.busy.Done()
		msg, err := call(r.ctx)
		if r.ctx.Err() != nil {
			return
		}
		fyne.Do(func() {
			r.sending = false
			if err != nil {
				say(r.problem, failed+": "+explainServer(err))
			} else {
				say(r.info, msg)
			}
			r.drawButtons()
			r.Refresh()
		})
	}()
}

// say shows text in l, or hides l when text is empty.
func say(l *widget.Label, text string) {
	l.SetText(text)
	showIf(l, text != "")
}

// setQueue shows a new queue, keeping the selection (and what the dpo has
// typed) when the selected item is still there.
func (r *Review) setQueue(q uplink.ReviewQueue) {
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
func (r *Review) selected() (uplink.ReviewItem, bool) {
	for _, it := range r.queue.Items {
		if it.ID == r.current {
			return it, true
		}
	}
	return uplink.ReviewItem{}, false
}

// show fills the detail with it; the interval and the reason are reset
// only when another item is chosen.
func (r *Review) show(it uplink.ReviewItem) {
	if it.ID != r.current {
		r.current = it.ID
		r.cancelAsk()
		r.from.SetText(seconds(it.FromMS))
		r.to.SetText(seconds(it.ToMS))
		r.note.SetText("")
	}
	raised := "flagged by " + it.Officer + ", " + when(it.At)
	if it.Kind == "declined" {
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
}

// drawButtons shows the decisions the selected item's state allows.
func (r *Review) drawButtons() {
	it, ok := r.selected()
	if !ok {
		return
	}
	decidable := it.State == stateOpen || it.State == stateRedactionPending || it.State == stateAutoRedacted
	showIf(r.decideBox, decidable)
	showIf(r.keepBox, it.State == stateOpen)
	showIf(r.confirmBtn, it.State == stateAutoRedacted)
	stored := it.Recording == "stored"
	setEnabled(r.deleteBtn, stored && !r.sending)
	setEnabled(r.intervalBtn, stored && r.queue.ServerHasKey && !r.sending)
	setEnabled(r.keepBtn, !r.sending)
	setEnabled(r.confirmBtn, !r.sending)
	hint := ""
	switch {
	case !stored:
		hint = "The recording is " + recordingWords(it.Recording) + ": it can be deleted once it is on the server."
	case !r.queue.ServerHasKey:
		hint = "The server has no organisation key, so it cannot silence part of a recording; it can delete the whole of it."
	}
	say(r.deleteHint, hint)

	showIf(r.approveBox, it.State == stateAwaitingApproval)
	if it.State == stateAwaitingApproval {
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
		r.decide(it, uplink.Decision{Action: actionDelete}, "Could not delete the recording")
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
		r.decide(it, uplink.Decision{Action: actionDeleteInterval, FromMS: &from, ToMS: &to}, "Could not silence the interval")
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
	r.decide(it, uplink.Decision{Action: actionKeep, Note: note}, "Could not keep the recording")
}

func (r *Review) confirmRedaction() {
	if it, ok := r.selected(); ok {
		r.decide(it, uplink.Decision{Action: actionConfirm}, "Could not confirm the redaction")
	}
}

func (r *Review) decide(it uplink.ReviewItem, d uplink.Decision, failed string) {
	r.send(failed, func(ctx context.Context) (string, error) {
		got, err := r.backend.Decide(ctx, it.ID, d)
		if err != nil {
			return "", fmt.Errorf("decide %s on review item %s: %w", d.Action, it.ID, err)
		}
		if got.State == stateAwaitingApproval {
			return "Decision recorded: a second data-protection officer must approve it before it is carried out.", nil
		}
		switch d.Action {
		case actionDelete:
			return "Deleted the recording of the " + callWords(it) + ".", nil
		case actionDeleteInterval:
			return "Silenced " + interval(d.FromMS, d.ToMS) + " of the recording of the " + callWords(it) + ".", nil
		case actionKeep:
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

func (r *Review) answer(it uplink.ReviewItem, approve bool) {
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

// setHolds shows new holds, keeping the selection when it is still there.
func (r *Review) setHolds(holds []uplink.Hold, twoPerson bool) {
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

func (r *Review) showHold(h uplink.Hold) {
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
	var h uplink.Hold
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

// The words the view uses; plain functions, tested without a window.

func queueSummary(q uplink.ReviewQueue) string {
	var waiting, approval int
	for _, it := range q.Items {
		switch it.State {
		case stateAwaitingApproval:
			approval++
		case stateOpen, stateAutoRedacted, stateRedactionPending:
			waiting++
		}
	}
	s := fmt.Sprintf("%d waiting for a decision", waiting)
	if approval > 0 || q.TwoPersonDeletion {
		s += fmt.Sprintf(" · %d waiting for a second officer's approval", approval)
	}
	if q.TwoPersonDeletion {
		s += " · every deletion needs two data-protection officers"
	}
	if !q.ServerHasKey {
		s += " · the server has no organisation key: it cannot silence part of a recording"
	}
	return s
}

func itemReason(it uplink.ReviewItem) string {
	if it.Label != "" {
		return it.Label
	}
	return it.Reason
}

func itemTitle(it uplink.ReviewItem) string {
	return itemReason(it) + " — " + stateWords(it)
}

func itemLine(it uplink.ReviewItem) string {
	who := it.Remote
	if who == "" {
		who = "withheld"
	}
	return fmt.Sprintf("%s · %s %s · %s", it.Officer, it.Direction, who, when(it.At))
}

func callWords(it uplink.ReviewItem) string {
	who := it.Remote
	if who == "" {
		who = "withheld number"
	}
	dir := it.Direction
	if dir == "" {
		dir = "call"
	} else {
		dir += " call"
	}
	return fmt.Sprintf("%s %s %s at %s", dir, fromOrTo(it.Direction), who, when(it.Started))
}

func fromOrTo(direction string) string {
	if direction == "outbound" {
		return "to"
	}
	return "from"
}

func stateWords(it uplink.ReviewItem) string {
	switch it.State {
	case stateOpen:
		return "waiting for a decision"
	case stateAwaitingApproval:
		return "waiting for a second officer's approval"
	case stateApproved:
		return "approved, being carried out"
	case stateRedactionPending:
		switch it.Pending {
		case "no-key":
			return "card details: silenced once the server has its key"
		case "no-recording":
			return "card details: silenced once the recording arrives"
		}
		return "card details: waiting to be silenced"
	case stateAutoRedacted:
		return "card details silenced: confirm"
	case "done":
		return "done (" + it.Outcome + ")"
	}
	return it.State
}

func recordingWords(s string) string {
	switch s {
	case "stored":
		return "on the server"
	case "uploading":
		return "still uploading"
	case "none", "":
		return "not on the server"
	case "deleted":
		return "deleted"
	}
	return s
}

func retentionWords(it uplink.ReviewItem) string {
	if it.DeleteAfter == nil {
		return orDash(it.RetentionRule)
	}
	return fmt.Sprintf("%s: deleted after %s", it.RetentionRule, when(*it.DeleteAfter))
}

func decisionWords(action string, from, to *int64) string {
	switch action {
	case actionDelete:
		return "delete the whole recording"
	case actionDeleteInterval:
		return "silence " + interval(from, to)
	case actionKeep:
		return "keep the recording"
	case actionConfirm:
		return "confirm the redaction"
	}
	return action
}

func holdWhat(h uplink.Hold) string {
	var what string
	switch {
	case h.CallID != "":
		what = "call " + h.CallID
	case h.Number != "":
		what = "number " + h.Number
	case h.Agent != "":
		what = "officer " + h.Agent
	}
	switch {
	case h.From != nil && h.To != nil:
		what += fmt.Sprintf(", calls from %s to %s", day(*h.From), day(*h.To))
	case h.From != nil:
		what += ", calls from " + day(*h.From)
	case h.To != nil:
		what += ", calls until " + day(*h.To)
	}
	return what
}

func holdTitle(h uplink.Hold) string {
	return fmt.Sprintf("#%d %s — %s", h.ID, h.Reason, holdWhat(h))
}

func (r *Review) holdLine(h uplink.Hold) string {
	parts := []string{"owner " + orDash(h.Owner)}
	if h.ReviewAt != nil {
		review := "review by " + day(*h.ReviewAt)
		if !r.report.Until.IsZero() && h.ReviewAt.Before(r.report.Until) {
			review += " (due)"
		}
		parts = append(parts, review)
	}
	parts = append(parts, fmt.Sprintf("covers %d call(s)", h.Calls))
	if h.Note != "" {
		parts = append(parts, h.Note)
	}
	if h.LiftRequestedBy != "" {
		parts = append(parts, fmt.Sprintf("lift asked by %s: %s", h.LiftRequestedBy, h.LiftReason))
	}
	return strings.Join(parts, " · ")
}

func when(t time.Time) string { return t.Local().Format("2 Jan 2006 15:04") }

func day(t time.Time) string { return t.Local().Format("2 Jan 2006") }

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// seconds shows ms as seconds for the interval entries ("" for none).
func seconds(ms *int64) string {
	if ms == nil {
		return ""
	}
	return strconv.FormatFloat(float64(*ms)/1000, 'f', -1, 64)
}

func interval(from, to *int64) string {
	if from == nil || to == nil {
		return "none marked"
	}
	return fmt.Sprintf("%s s to %s s", seconds(from), seconds(to))
}

// parseSeconds reads a time into the recording, "75", "75.5" or "1:15",
// as milliseconds.
func parseSeconds(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("give it in seconds from the start of the recording, e.g. 75 or 1:15")
	}
	var mins float64
	if m, rest, ok := strings.Cut(s, ":"); ok {
		n, err := strconv.ParseUint(m, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not minutes:seconds, e.g. 1:15", s)
		}
		mins, s = float64(n), rest
	}
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil || sec < 0 || math.IsInf(sec, 0) || math.IsNaN(sec) || (mins > 0 && sec >= 60) {
		return 0, fmt.Errorf("%q is not a number of seconds, e.g. 75 or 1:15", s)
	}
	return int64(math.Round((mins*60 + sec) * 1000)), nil
}

// explainServer says in plain words why a request failed, with the
// server's own words when it gave any.
func explainServer(err error) string {
	var plain string
	switch {
	case errors.Is(err, uplink.ErrForbidden):
		plain = "this account may not do that; only data-protection officers may"
	case errors.Is(err, uplink.ErrUnauthorized):
		plain = "the server no longer accepts this computer: enrol it again in Settings"
	case errors.Is(err, uplink.ErrNoKey):
		plain = "the server has no organisation key, so it cannot play or silence recordings (IT starts it with --identity)"
	case errors.Is(err, uplink.ErrGone):
		plain = "the recording has already been deleted"
	case errors.Is(err, uplink.ErrConflict):
		plain = "the server's records have moved on: another officer acted on it, a second officer must act, or the recording is not on the server yet"
	case errors.Is(err, context.DeadlineExceeded):
		return "the server did not answer in time; try again"
	case errors.Is(err, context.Canceled):
		return "the view was closed"
	}
	var ue *url.Error
	if plain == "" && errors.As(err, &ue) {
		return "the server cannot be reached (" + ue.Err.Error() + ")"
	}
	words := serverWords(err)
	switch {
	case plain == "" && words == "":
		return innermost(err)
	case plain == "":
		return words
	case words == "":
		return plain
	}
	return plain + " (the server said: " + words + ")"
}

// serverWords is the server's message in err, without its status code,
// or "" when the server gave none.
func serverWords(err error) string {
	if _, after, ok := strings.Cut(err.Error(), "server said "); ok {
		if _, msg, ok := strings.Cut(after, ": "); ok {
			return msg
		}
	}
	return ""
}

// innermost is the error at the end of err's chain, without the context
// wrapped around it on the way up.
func innermost(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// ShowReview opens the data-protection officer's view in its own window and
// keeps it fresh until the window is closed.
func ShowReview(a fyne.App, backend ReviewBackend) fyne.Window {
	r := NewReview(backend)
	w := a.NewWindow("callguard data protection")
	w.SetContent(r.Content())
	w.Resize(fyne.NewSize(1040, 640))
	r.addShortcuts(w.Canvas())
	w.SetOnClosed(r.Stop)
	r.Start()
	w.Show()
	return w
}
