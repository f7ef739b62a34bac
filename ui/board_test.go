package ui

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/server"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func agents() []server.AgentState {
	return []server.AgentState{
		{Agent: "ann", Online: true, State: "recording", Since: now.Add(-2 * time.Minute), Call: &server.LiveCall{Direction: "inbound", Remote: "07700 9••••3", Started: now.Add(-2 * time.Minute)}},
		{Agent: "bob", Online: true, State: "paused", Reason: "payment", ReasonLabel: "Card payment", Since: now.Add(-6 * time.Minute),
			Call:   &server.LiveCall{Direction: "outbound", Remote: "01632 9••••0", Started: now.Add(-9 * time.Minute)},
			Alerts: []server.Alert{{Kind: "pause-long", Message: "paused 6 min (reminder at 3 min)"}}},
		{Agent: "cat", Online: false, State: "idle", Since: now.Add(-time.Hour), Alerts: []server.Alert{{Kind: "offline", Message: "offline since 09:00"}}},
		{Agent: "dan", Online: true, State: "idle", Since: now.Add(-30 * time.Second)},
	}
}

func names(rows []server.AgentState) []string {
	var n []string
	for _, r := range rows {
		n = append(n, r.Agent)
	}
	return n
}

func TestBoardModelFiltersAndOrders(t *testing.T) {
	m := newBoardModel()
	for _, a := range agents() {
		m.put(a)
	}
	cases := []struct {
		show, order, filter string
		want                []string
	}{
		{ShowAll, SortAlerts, "", []string{"cat", "bob", "ann", "dan"}},
		{ShowAll, SortAgent, "", []string{"ann", "bob", "cat", "dan"}},
		{ShowAll, SortLongest, "", []string{"cat", "bob", "ann", "dan"}},
		{ShowAlerts, SortAgent, "", []string{"bob", "cat"}},
		{ShowPaused, SortAgent, "", []string{"bob"}},
		{ShowOnCalls, SortAgent, "", []string{"ann", "bob"}},
		{ShowAll, SortAgent, "AN", []string{"ann", "dan"}},
	}
	for _, c := range cases {
		m.show, m.order, m.filter = c.show, c.order, c.filter
		if got := names(m.visible()); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s / %s / %q: %v, want %v", c.show, c.order, c.filter, got, c.want)
		}
	}
	// A new state for an agent replaces the old row.
	m.put(server.AgentState{Agent: "bob", Online: true, State: "recording", Since: now})
	m.show, m.order, m.filter = ShowAlerts, SortAgent, ""
	if got := names(m.visible()); !reflect.DeepEqual(got, []string{"cat"}) {
		t.Errorf("after bob resumed, alerts show %v", got)
	}
	online, calls, paused, alerts := m.counts()
	if online != 3 || calls != 1 || paused != 0 || alerts != 1 {
		t.Errorf("counts %d %d %d %d", online, calls, paused, alerts)
	}
}

type fakeFeed struct{ states []server.AgentState }

func (f fakeFeed) Live(ctx context.Context, fn func(server.AgentState)) error {
	for _, s := range f.states {
		fn(s)
	}
	<-ctx.Done()
	return nil
}

func TestBoardShowsTheFeed(t *testing.T) {
	test.NewTempApp(t)
	b := NewBoard(fakeFeed{agents()})
	b.now = func() time.Time { return now }
	w := test.NewTempWindow(t, b.Content())
	_ = w
	for _, a := range agents() {
		b.Apply(a)
	}
	if !strings.Contains(b.summary.Text, "4 officers · 3 online · 2 on a call · 1 paused · 2 need attention") {
		t.Fatalf("summary %q", b.summary.Text)
	}
	if len(b.view) != 4 || b.view[0].Agent != "cat" {
		t.Fatalf("rows %v", names(b.view))
	}
	cell := b.table.CreateCell()
	b.fillCell(widgetCell(1, 1), cell) // bob's state
	if got := cellText(cell); got != "PAUSED — Card payment" {
		t.Errorf("bob's state cell %q", got)
	}
	b.fillCell(widgetCell(1, 2), cell)
	if got := cellText(cell); got != "06:00" {
		t.Errorf("bob's pause duration %q", got)
	}
	b.fillCell(widgetCell(0, 1), cell)
	if got := cellText(cell); !strings.HasPrefix(got, "OFFLINE") {
		t.Errorf("cat's state cell %q", got)
	}
}

func widgetCell(row, col int) widget.TableCellID { return widget.TableCellID{Row: row, Col: col} }

func cellText(o fyne.CanvasObject) string {
	return o.(*fyne.Container).Objects[0].(*widget.Label).Text
}

// TestBoardShowsRefusedEvents: an officer whose desktop holds events the
// server refused needs attention, in the words the status line uses.
func TestBoardShowsRefusedEvents(t *testing.T) {
	test.NewTempApp(t)
	b := NewBoard(fakeFeed{})
	b.now = func() time.Time { return now }
	test.NewTempWindow(t, b.Content())
	b.Apply(server.AgentState{Agent: "eve", Online: true, State: "idle", Since: now, Refused: 1,
		Alerts: []server.Alert{{Kind: server.AlertEventsRefused, Message: "1 event refused by the server"}}})
	b.Apply(server.AgentState{Agent: "fay", Online: true, State: "idle", Since: now, Refused: 2})
	cell := b.table.CreateCell()
	for row, want := range []string{"1 event refused by the server", "2 events refused by the server"} {
		b.fillCell(widgetCell(row, 4), cell)
		if got := cellText(cell); got != want {
			t.Errorf("%s's attention cell %q, want %q", b.view[row].Agent, got, want)
		}
	}
	if !strings.Contains(b.summary.Text, "1 need attention") {
		t.Errorf("summary %q", b.summary.Text)
	}
}

// TestBoardShowsAnUnconfirmedPause: an officer whose pause the phone system
// did not confirm shows NOT PAUSED, with the alarm's
// words in the attention column.
func TestBoardShowsAnUnconfirmedPause(t *testing.T) {
	test.NewTempApp(t)
	b := NewBoard(fakeFeed{})
	b.now = func() time.Time { return now }
	test.NewTempWindow(t, b.Content())
	b.Apply(server.AgentState{Agent: "gus", Online: true, State: app.StateUnconfirmed.String(), Since: now,
		ReasonLabel: "the phone system did not confirm the pause of its recording in time, or refused it",
		Alerts:      []server.Alert{{Kind: server.AlertRecordingUnconfirmed, Message: server.UnconfirmedText}}})
	cell := b.table.CreateCell()
	b.fillCell(widgetCell(0, 1), cell)
	if got := cellText(cell); !strings.HasPrefix(got, "NOT PAUSED — the phone system did not confirm") {
		t.Errorf("state cell %q", got)
	}
	b.fillCell(widgetCell(0, 4), cell)
	if got := cellText(cell); got != server.UnconfirmedText {
		t.Errorf("attention cell %q, want %q", got, server.UnconfirmedText)
	}
	if server.UnconfirmedText != app.UnconfirmedText {
		t.Error("the board and the officer's banner say it in different words")
	}
}
