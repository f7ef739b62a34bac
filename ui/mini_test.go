package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/config"
)

// Ctrl+M and the tray switch between the full panel and the strip, and
// each switch is saved for the next start.
func TestMiniModeSwitchesAndIsRemembered(t *testing.T) {
	a := &trayApp{App: test.NewTempApp(t)}
	core := coreFor(t, true, nil)
	var saved []config.Window
	win := NewWindow(a, Options{Session: core, Policy: testPolicy(t), Prefs: config.Window{AlwaysOnTop: true},
		SavePrefs: func(p config.Window) error { saved = append(saved, p); return nil }})
	t.Cleanup(win.Close)
	waitRendered(t, win)
	c := win.Window().Canvas()
	sc, _ := parseHotkey(miniHotkey)
	c.(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(sc)
	if c.Content() != win.mini.Content() {
		t.Fatal("Ctrl+M did not switch to the mini strip")
	}
	if h := win.Window().Canvas().Size().Height; h > 60 {
		t.Errorf("the strip's window is %g high, want one line", h)
	}
	if len(saved) != 1 || !saved[0].Mini || !saved[0].AlwaysOnTop {
		t.Fatalf("saved %+v, want mini remembered (always on top kept)", saved)
	}
	item := trayItem(t, a, "Full panel")
	item.Action()
	if c.Content() != win.panel.Content() || len(saved) != 2 || saved[1].Mini {
		t.Fatalf("the tray's Full panel did not switch back and save it: %+v", saved)
	}
	if win.Window().Canvas().Size() != fullSize {
		t.Errorf("full panel at %v, want %v", win.Window().Canvas().Size(), fullSize)
	}
	trayItem(t, a, "Mini mode")
}

// waitRendered waits until win drew the session's first snapshot: in the
// test driver that happens on the window's own goroutine, which would
// otherwise race the test's clicks.
func waitRendered(t *testing.T, win *Window) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for win.rendered.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the window never drew the first snapshot")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func trayItem(t *testing.T, a *trayApp, prefix string) *fyne.MenuItem {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, it := range a.menu.Items {
		if strings.HasPrefix(it.Label, prefix) {
			return it
		}
	}
	t.Fatalf("the tray menu has no %q", prefix)
	return nil
}

// The strip's one pause button opens the reasons; choosing one pauses,
// and resume takes its place.
func TestMiniPauseOpensTheReasons(t *testing.T) {
	test.NewTempApp(t)
	core := coreFor(t, true, nil)
	w := test.NewTempWindow(t, nil)
	p := NewPanel(w, core, testPolicy(t))
	m := newMini(p)
	resized := 0
	m.OnResize = func() { resized++; w.Resize(m.Content().MinSize()) }
	w.SetContent(m.Content())
	m.Update(core.Snapshot())
	if !m.pauseBtn.Disabled() {
		t.Error("pause enabled with no call")
	}
	core.StartManual(app.DirectionInbound, app.Party{Number: "07700900123"})
	m.Update(settle(t, core, state(app.StateRecording)))
	test.Tap(m.pauseBtn)
	if !m.reasons.Visible() || resized != 1 {
		t.Fatalf("the reasons did not open (visible %v, resized %d)", m.reasons.Visible(), resized)
	}
	grid := m.reasons.Objects[0].(*fyne.Container)
	test.Tap(grid.Objects[2].(interface{ fyne.Tappable }))
	s := settle(t, core, state(app.StatePaused))
	if s.Reason != testPolicy(t).PauseReasons[2].ID {
		t.Fatalf("paused for %q", s.Reason)
	}
	m.Update(s)
	if m.reasons.Visible() || !m.resumeBtn.Visible() || m.pauseBtn.Visible() {
		t.Fatal("after the pause: reasons still open, or resume not in pause's place")
	}
	if !strings.Contains(m.chipText.Text, "PAUSED · Health details") {
		t.Errorf("strip says %q", m.chipText.Text)
	}
	test.Tap(m.resumeBtn)
	settle(t, core, state(app.StateRecording))
}
