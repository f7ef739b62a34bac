package ui

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/server"
)

// fakeFlags is the server as the "My flags" view sees it.
type fakeFlags struct {
	mu    sync.Mutex
	flags []server.FlagOutcome
	err   error
	loads int
}

func (f *fakeFlags) MyFlags(ctx context.Context) ([]server.FlagOutcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	if f.err != nil {
		return nil, f.err
	}
	return append([]server.FlagOutcome(nil), f.flags...), nil
}

func (f *fakeFlags) loaded() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loads
}

// oliveFlags are four flags, one of each outcome, not in order.
func oliveFlags() []server.FlagOutcome {
	decided := now.Add(-30 * time.Minute)
	return []server.FlagOutcome{
		{ID: "f2", CallID: "c2", Reason: "card", At: now.Add(-3 * time.Hour), FromMS: ms(1000), ToMS: ms(9000), Outcome: server.OutcomeRedacted, Decided: &decided},
		{ID: "f4", CallID: "c4", Reason: "health", At: now.Add(-10 * time.Minute), Outcome: server.OutcomePending},
		{ID: "f1", CallID: "c1", Reason: "health", At: now.Add(-50 * time.Hour), FromMS: ms(12000), ToMS: ms(47500), Outcome: server.OutcomeKept, Decided: &decided},
		{ID: "f3", CallID: "c3", Reason: "other", At: now.Add(-2 * time.Hour), Outcome: server.OutcomeDeleted, Decided: &decided},
	}
}

// hasInOrder reports whether each of want occurs in got after the previous one.
func hasInOrder(got string, want ...string) bool {
	for _, w := range want {
		i := strings.Index(got, w)
		if i < 0 {
			return false
		}
		got = got[i+len(w):]
	}
	return true
}

func loadedView(t *testing.T, f *fakeFlags, s app.Snapshot) (*MyFlags, string) {
	t.Helper()
	test.NewTempApp(t)
	v := NewMyFlags(f, testPolicy(t), s)
	t.Cleanup(v.Stop)
	test.NewTempWindow(t, v.Content()).Resize(fyne.NewSize(420, 600))
	v.Refresh()
	v.Wait()
	return v, texts(v.Content())
}

// Each outcome is said in words, newest flag first, with the reason's
// label, the flagged part and the call when the session still knows it.
func TestMyFlagsSaysWhatCameOfEachFlagInWords(t *testing.T) {
	f := &fakeFlags{flags: oliveFlags()}
	recent := app.CallView{ID: "c3", Direction: app.DirectionInbound, Remote: app.Party{Number: "07700900123"}, Started: now.Add(-130 * time.Minute)}
	_, on := loadedView(t, f, app.Snapshot{Recent: []app.CallView{recent}})

	if !hasInOrder(on,
		"Waiting for the data-protection officer", "Health details were recorded\nFlagged "+when(now.Add(-10*time.Minute)),
		"Deleted · "+when(now.Add(-30*time.Minute)), "Other sensitive details\nFlagged "+when(now.Add(-2*time.Hour))+" · call: "+describe(recent),
		"The flagged part was silenced", "Card details were recorded · the part from 1 s to 9 s",
		"Kept after review", "Health details were recorded · the part from 12 s to 47.5 s",
		"Your flags of the last 30 days, newest first: 4, 1 waiting for the data-protection officer.",
		"A flag you have just raised shows here once it has reached the server.",
	) {
		t.Fatalf("the view shows:\n%s", on)
	}
	// A call the session no longer knows is named by the flag's time alone.
	if strings.Count(on, "call: ") != 1 {
		t.Errorf("only c3 is known to the session, the view shows:\n%s", on)
	}
	for _, raw := range []string{"pending", "redacted", "kept", "health\n", "c1", "c4"} {
		if strings.Contains(on, raw) {
			t.Errorf("the view shows the server's word %q:\n%s", raw, on)
		}
	}
}

func TestMyFlagsWithNoFlagsSaysSo(t *testing.T) {
	_, on := loadedView(t, &fakeFlags{}, app.Snapshot{})
	if !strings.Contains(on, "You have not flagged a call in the last 30 days.") {
		t.Fatalf("the view shows:\n%s", on)
	}
}

func TestMyFlagsExplainsAFailureInPlainWords(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://callguard.example.org/api/v1/flags/mine",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"the server cannot be reached", refused, "Cannot reach the server: dial tcp: connection refused; your flags are safe and will be reviewed."},
		{"the server no longer knows the computer", serverError(401, "unknown device token"),
			"The server no longer accepts this computer: ask IT to enrol it again in Settings; your flags are safe and will be reviewed."},
		{"the server fails", serverError(500, "database is locked"),
			"The server could not list your flags: database is locked; your flags are safe and will be reviewed."},
		{"the server is too slow", context.DeadlineExceeded, "The server did not answer in time: try again in a moment; your flags are safe and will be reviewed."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, on := loadedView(t, &fakeFlags{err: tc.err}, app.Snapshot{})
			if !strings.Contains(on, tc.want) {
				t.Fatalf("the view shows:\n%s\nwant %q", on, tc.want)
			}
			if strings.Contains(on, "Loading") || v.problem.Importance != widget.DangerImportance {
				t.Errorf("the failure is not shown as one:\n%s", on)
			}
		})
	}
}

// The officer opens "My flags" with its hotkey, sees the outcomes, and
// closes it with the same key; the button next to Flag opens it too.
func TestMyFlagsHotkeyOpensAndClosesIt(t *testing.T) {
	a := &settledTray{trayApp: trayApp{App: test.NewTempApp(t)}}
	core := coreFor(t, true, nil)
	f := &fakeFlags{flags: oliveFlags()}
	win := NewWindow(a, Options{Session: core, Policy: testPolicy(t), Flags: f})
	t.Cleanup(win.Close)
	a.settle(t)
	c := win.Window().Canvas()
	press := func() {
		t.Helper()
		sc, _ := parseHotkey("Ctrl+Shift+F")
		c.(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(sc)
	}

	press()
	overlay := c.Overlays().Top()
	if overlay == nil || win.flags == nil {
		t.Fatal("Ctrl+Shift+F opened nothing")
	}
	win.flags.Wait()
	if on := texts(overlay); !hasInOrder(on, "Waiting for the data-protection officer", "Kept after review") || !strings.Contains(on, "My flags: what came of them") {
		t.Fatalf("the dialog shows:\n%s", on)
	}
	press()
	if c.Overlays().Top() != nil || win.flags != nil {
		t.Fatal("Ctrl+Shift+F again did not close the dialog")
	}

	b := findButton(t, win.Panel().Content(), "My flags")
	if !b.Visible() {
		t.Fatal("the My flags button is hidden although the window has the flags")
	}
	test.Tap(b)
	if c.Overlays().Top() == nil {
		t.Fatal("the My flags button opened nothing")
	}
	win.flags.Wait()
	if f.loaded() != 2 {
		t.Errorf("the flags were loaded %d times, want once per opening", f.loaded())
	}
	if !trayHasItem(a, "My flags…") {
		t.Error("the tray menu has no My flags entry")
	}
}

// The button sits beside Flag without making the compact panel wider.
func TestMyFlagsButtonDoesNotWidenThePanel(t *testing.T) {
	test.NewTempApp(t)
	p := NewPanel(test.NewTempWindow(t, nil), coreFor(t, true, nil), testPolicy(t))
	without := p.Content().MinSize().Width
	p.myFlagsBtn.Show()
	if with := p.Content().MinSize().Width; with > without {
		t.Errorf("the panel needs %v px with the My flags button, %v without", with, without)
	}
}

// Without a server to ask, there is no button, no hotkey and no tray entry.
func TestMyFlagsIsHiddenWithoutTheFlags(t *testing.T) {
	a := &settledTray{trayApp: trayApp{App: test.NewTempApp(t)}}
	core := coreFor(t, true, nil)
	win := NewWindow(a, Options{Session: core, Policy: testPolicy(t)})
	t.Cleanup(win.Close)
	a.settle(t)
	if b := findButton(t, win.Panel().Content(), "My flags"); b.Visible() {
		t.Error("the My flags button is shown without Options.Flags")
	}
	sc, _ := parseHotkey("Ctrl+Shift+F")
	win.Window().Canvas().(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(sc)
	if win.Window().Canvas().Overlays().Top() != nil {
		t.Error("Ctrl+Shift+F opened a dialog without Options.Flags")
	}
	if trayHasItem(a, "My flags…") {
		t.Error("the tray menu has a My flags entry without Options.Flags")
	}
}

// settledTray is a tray app that counts the tray menus set, which tells
// when the window has rendered its first snapshot: an idle window then
// stays still, so a test may walk its widgets without racing it (the test
// driver runs fyne.Do on the caller's goroutine).
type settledTray struct {
	trayApp
	menus int
}

func (a *settledTray) SetSystemTrayMenu(m *fyne.Menu) {
	a.mu.Lock()
	a.menu = m
	a.menus++
	a.mu.Unlock()
}

// settle waits for the menu NewWindow sets and the one set with the first
// snapshot.
func (a *settledTray) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		n := a.menus
		a.mu.Unlock()
		if n >= 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the window never rendered its first snapshot")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func trayHasItem(a *settledTray, label string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.menu == nil {
		return false
	}
	for _, it := range a.menu.Items {
		if it.Label == label {
			return true
		}
	}
	return false
}
