package ui

import (
	"context"
	"fmt"
	"image/color"
	"sort"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/wire"
)

// LiveFeed follows the server's live board. *uplink.Client implements it.
type LiveFeed interface {
	Live(ctx context.Context, fn func(server.AgentState)) error
}

// Board views.
const (
	ShowAll     = "All officers"
	ShowAlerts  = "Needs attention"
	ShowPaused  = "Paused"
	ShowOnCalls = "On a call"
)

// Board orders.
const (
	SortAlerts  = "Attention first"
	SortAgent   = "Officer"
	SortLongest = "Longest in state"
)

// boardModel holds the agents' rows and picks and orders the visible ones.
// It is plain data, so its rules are tested without a window.
type boardModel struct {
	rows   map[string]server.AgentState
	show   string
	order  string
	filter string
}

func newBoardModel() *boardModel {
	return &boardModel{rows: map[string]server.AgentState{}, show: ShowAll, order: SortAlerts}
}

func (m *boardModel) put(a server.AgentState) { m.rows[a.Agent] = a }

// visible returns the rows to show, in order.
func (m *boardModel) visible() []server.AgentState {
	var out []server.AgentState
	f := strings.ToLower(strings.TrimSpace(m.filter))
	for _, a := range m.rows {
		if f != "" && !strings.Contains(strings.ToLower(a.Agent), f) {
			continue
		}
		switch m.show {
		case ShowAlerts:
			if len(a.Alerts) == 0 {
				continue
			}
		case ShowPaused:
			if a.State != app.StatePaused.String() {
				continue
			}
		case ShowOnCalls:
			if a.Call == nil {
				continue
			}
		}
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch m.order {
		case SortLongest:
			if !a.Since.Equal(b.Since) {
				return a.Since.Before(b.Since)
			}
		case SortAlerts:
			if len(a.Alerts) != len(b.Alerts) {
				return len(a.Alerts) > len(b.Alerts)
			}
			if a.Online != b.Online {
				return !a.Online // offline officers need attention too
			}
		}
		return a.Agent < b.Agent
	})
	return out
}

// counts summarises the board for its header.
func (m *boardModel) counts() (online, onCalls, paused, alerts int) {
	for _, a := range m.rows {
		if a.Online {
			online++
		}
		if a.Call != nil {
			onCalls++
		}
		if a.State == app.StatePaused.String() {
			paused++
		}
		if len(a.Alerts) > 0 {
			alerts++
		}
	}
	return
}

var boardColumns = []column{
	{"Officer", 100}, {"State", 200}, {"For", 62}, {"Call", 210}, {"Attention", 330}, {"Unsent", 58},
}

// Board is the supervisors' live board: every officer's state, pause reason
// and duration, call, alerts, with a filter and an order.
type Board struct {
	feed  LiveFeed
	now   func() time.Time
	mu    sync.Mutex // guards model between the feed goroutine and fyne's
	model *boardModel
	view  []server.AgentState

	table   *widget.Table
	summary *widget.Label
	problem *widget.Label
	content fyne.CanvasObject

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewBoard builds the board; Start follows feed.
func NewBoard(feed LiveFeed) *Board {
	b := &Board{feed: feed, now: time.Now, model: newBoardModel()}
	b.build()
	return b
}

// Content is the board's root object.
func (b *Board) Content() fyne.CanvasObject { return b.content }

func (b *Board) build() {
	b.summary = widget.NewLabelWithStyle("Connecting to the server…", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	b.problem = widget.NewLabel("")
	b.problem.Importance = widget.DangerImportance
	b.problem.Hide()
	b.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(b.view), len(boardColumns) },
		func() fyne.CanvasObject {
			swatch := canvas.NewRectangle(color.Transparent)
			swatch.SetMinSize(fyne.NewSize(6, 20))
			return container.NewBorder(nil, nil, swatch, nil, widget.NewLabel(""))
		},
		b.fillCell,
	)
	setColumns(b.table, boardColumns)
	show := widget.NewSelect([]string{ShowAll, ShowAlerts, ShowPaused, ShowOnCalls}, func(s string) { b.setView(func(m *boardModel) { m.show = s }) })
	show.SetSelected(ShowAll)
	order := widget.NewSelect([]string{SortAlerts, SortAgent, SortLongest}, func(s string) { b.setView(func(m *boardModel) { m.order = s }) })
	order.SetSelected(SortAlerts)
	filter := widget.NewEntry()
	filter.SetPlaceHolder("Find an officer")
	filter.OnChanged = func(s string) { b.setView(func(m *boardModel) { m.filter = s }) }
	bar := container.NewGridWithColumns(3, filter, show, order)
	b.content = container.NewBorder(container.NewVBox(b.summary, bar, b.problem), nil, nil, nil, b.table)
}

func (b *Board) fillCell(id widget.TableCellID, o fyne.CanvasObject) {
	box := o.(*fyne.Container)
	label := box.Objects[0].(*widget.Label)
	swatch := box.Objects[1].(*canvas.Rectangle)
	if id.Row >= len(b.view) {
		label.SetText("")
		return
	}
	a := b.view[id.Row]
	st, _ := wire.ParseRecordingState(a.State)
	swatch.FillColor = color.Transparent
	label.Importance = widget.MediumImportance
	switch id.Col {
	case 0:
		label.SetText(a.Agent)
		if !a.Online {
			label.Importance = widget.LowImportance
		}
	case 1:
		swatch.FillColor = StateColour(st)
		text := lookOf(st).Headline
		if a.ReasonLabel != "" {
			text += " — " + a.ReasonLabel
		} else if a.Reason != "" && st == app.StatePaused {
			text += " — " + a.Reason
		}
		if !a.Online {
			text = "OFFLINE (last: " + strings.ToLower(text) + ")"
		}
		label.SetText(text)
	case 2:
		label.SetText(clock(b.now().Sub(a.Since)))
	case 3:
		if a.Call == nil {
			label.SetText("—")
		} else {
			text := fmt.Sprintf("%s %s · %s", a.Call.Direction, a.Call.Remote, clock(b.now().Sub(a.Call.Started)))
			if a.Call.KeypadMasked > 0 {
				text += " · " + strings.ToLower(keypadMaskedText)
			}
			label.SetText(text)
		}
	case 4:
		var msgs []string
		refused := false
		for _, al := range a.Alerts {
			msgs = append(msgs, al.Message)
			refused = refused || al.Kind == server.AlertEventsRefused
		}
		if a.Refused > 0 && !refused {
			msgs = append(msgs, wire.RefusedText(a.Refused))
		}
		label.SetText(strings.Join(msgs, "; "))
		if len(msgs) > 0 {
			label.Importance = widget.DangerImportance
		}
	case 5:
		label.SetText(fmt.Sprint(a.Pending))
	}
	swatch.Refresh()
}

// setView changes the view's rule and redraws; it runs on fyne's goroutine.
func (b *Board) setView(f func(*boardModel)) {
	b.mu.Lock()
	f(b.model)
	b.mu.Unlock()
	b.redraw()
}

func (b *Board) redraw() {
	b.mu.Lock()
	b.view = b.model.visible()
	online, calls, paused, alerts := b.model.counts()
	total := len(b.model.rows)
	b.mu.Unlock()
	b.summary.SetText(fmt.Sprintf("%d officers · %d online · %d on a call · %d paused · %d need attention", total, online, calls, paused, alerts))
	if b.table != nil {
		b.table.Refresh()
	}
}

// Apply takes one agent's new state (from any goroutine) and redraws.
func (b *Board) Apply(a server.AgentState) {
	b.mu.Lock()
	b.model.put(a)
	b.mu.Unlock()
	fyne.Do(b.redraw)
}

// Start follows the feed and ticks the durations once a second until Stop.
func (b *Board) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		if err := b.feed.Live(ctx, b.Apply); err != nil {
			fyne.Do(func() {
				b.problem.SetText("The live board is not available: " + err.Error())
				b.problem.Show()
			})
		}
	}()
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fyne.Do(func() { b.table.Refresh() })
			}
		}
	}()
}

// Stop stops following the feed.
func (b *Board) Stop() {
	if b.cancel != nil {
		b.cancel()
		b.wg.Wait()
	}
}

// column is a table column: its bold header and its width.
type column struct {
	title string
	width float32
}

// setColumns gives t a header row with the columns' titles in bold, no
// header column, and the columns' widths.
func setColumns(t *widget.Table, cols []column) {
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(cols[id.Col].title)
		}
	}
	for i, c := range cols {
		t.SetColumnWidth(i, c.width)
	}
}
