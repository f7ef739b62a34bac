package ui

import (
	"context"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/server"
)

// ReviewBackend is what the data-protection officer's view asks of the
// server. *uplink.Client implements it.
type ReviewBackend interface {
	Review(ctx context.Context, state string) (server.ReviewQueue, error)
	Decide(ctx context.Context, itemID string, d server.Decision) (server.ReviewItem, error)
	Approve(ctx context.Context, itemID string, approve bool) (server.ReviewItem, error)
	Holds(ctx context.Context, all bool) ([]server.Hold, bool, error)
	LiftHold(ctx context.Context, id int64, reason string) (server.Hold, bool, error)
	RetentionReport(ctx context.Context, days int) (server.RetentionReport, error)
}

// dueDays is how far ahead the holds tab looks for calls retention deletes.
const dueDays = 7

// refreshEvery is how often an open view reloads what the server holds.
const refreshEvery = time.Minute

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
	queue         server.ReviewQueue
	current       string // the selected review item's id
	holds         []server.Hold
	twoPersonLift bool
	report        server.RetentionReport
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

	player      Player             // nil: no Listen button
	playing     context.CancelFunc // stops the recording that plays; nil when none does
	listenBox   *fyne.Container
	listenBtn   *widget.Button
	stopBtn     *widget.Button
	listenState *widget.Label

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

// ShowReview opens the data-protection officer's view in its own window and
// keeps it fresh until the window is closed; player (nil: none) plays the
// selected item's recording.
func ShowReview(a fyne.App, backend ReviewBackend, player Player) fyne.Window {
	r := NewReview(backend)
	if player != nil {
		r.SetPlayer(player)
	}
	w := a.NewWindow("callguard data protection")
	w.SetContent(r.Content())
	w.Resize(fyne.NewSize(1040, 640))
	r.addShortcuts(w.Canvas())
	w.SetOnClosed(r.Stop)
	r.Start()
	w.Show()
	return w
}
