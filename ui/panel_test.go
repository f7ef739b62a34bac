package ui

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

func testPolicy(t testing.TB) *policy.Policy {
	p, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// coreFor runs a real session core with a stand-in recorder.
func coreFor(t *testing.T, manual bool, rec *apptest.Recorder) *app.Core {
	t.Helper()
	if rec == nil {
		rec = &apptest.Recorder{}
	}
	core := app.NewCore(app.MachineConfig{
		Policy: testPolicy(t), Agent: app.AgentView{ID: "1001"}, Manual: manual, Language: "en-GB",
		Recorder: rec, Sink: apptest.Discard{}, Logger: slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { core.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return core
}

// settle waits until the core's snapshot satisfies ok.
func settle(t *testing.T, core *app.Core, ok func(app.Snapshot) bool) app.Snapshot {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s := core.Snapshot(); ok(s) {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("core never reached the wanted state; last %s", core.Snapshot().State)
	return app.Snapshot{}
}

func state(want app.RecordingState) func(app.Snapshot) bool {
	return func(s app.Snapshot) bool { return s.State == want }
}

func call(core *app.Core, kind app.CallEventKind, dir app.Direction) {
	core.HandleCall(app.CallEvent{Kind: kind, DialogID: "d1", Direction: dir, Remote: app.Party{Number: "07700 900123", Name: "Sam Caller"}})
}

// Each state the officer can meet, reached through the real core, renders
// with its words, and only the actions that make sense are enabled.
func TestPanelShowsEveryState(t *testing.T) {
	errNoMic := errors.New("no microphone found")
	tests := []struct {
		name      string
		manual    bool
		rec       *apptest.Recorder
		drive     func(*app.Core)
		want      app.RecordingState
		headline  string
		detailHas string
		whyHas    string
		ready     func(app.Snapshot) bool // when the drive has been applied; default: state want
		golden    string                  // ui/testdata/panel/<golden>.xml
	}{
		{
			name: "unknown before the phone system answers", drive: func(*app.Core) {}, golden: "unknown",
			want: app.StateUnknown, headline: "STATE UNKNOWN", detailHas: "cannot tell", whyHas: "not recorded until the link is back",
		},
		{
			name: "unknown during a call still pauses", golden: "unknown-call",
			drive: func(c *app.Core) {
				c.HandleCall(app.CallEvent{Kind: app.LinkUp})
				call(c, app.CallAnswered, app.DirectionInbound)
				c.HandleCall(app.CallEvent{Kind: app.LinkLost, Reason: "no answer to keepalive"})
			},
			ready: func(s app.Snapshot) bool { return s.State == app.StateUnknown && s.Call != nil },
			want:  app.StateUnknown, headline: "STATE UNKNOWN", detailHas: "cannot tell", whyHas: "goes on recording the call",
		},
		{
			name: "idle", drive: func(c *app.Core) { c.HandleCall(app.CallEvent{Kind: app.LinkUp}) }, golden: "idle",
			want: app.StateIdle, headline: "NOT RECORDING", detailHas: "No call",
		},
		{
			name: "ringing", golden: "ringing",
			drive: func(c *app.Core) {
				c.HandleCall(app.CallEvent{Kind: app.LinkUp})
				call(c, app.CallRinging, app.DirectionInbound)
			},
			want: app.StateRinging, headline: "NOT RECORDING", detailHas: "ringing",
		},
		{
			name: "recording", golden: "recording",
			drive: func(c *app.Core) {
				c.HandleCall(app.CallEvent{Kind: app.LinkUp})
				call(c, app.CallAnswered, app.DirectionInbound)
			},
			want: app.StateRecording, headline: "RECORDING", detailHas: "being recorded",
		},
		{
			name: "paused for a payment", golden: "paused",
			drive: func(c *app.Core) {
				c.HandleCall(app.CallEvent{Kind: app.LinkUp})
				call(c, app.CallAnswered, app.DirectionInbound)
				c.Pause("payment")
			},
			want: app.StatePaused, headline: "PAUSED", detailHas: "Card payment",
		},
		{
			name: "awaiting the notice", golden: "awaiting-notice",
			drive: func(c *app.Core) {
				c.HandleCall(app.CallEvent{Kind: app.LinkUp})
				call(c, app.CallAnswered, app.DirectionOutbound)
			},
			want: app.StateAwaitingNotice, headline: "NOT YET RECORDING", detailHas: "Notice read",
		},
		{
			name: "declined", golden: "declined",
			drive: func(c *app.Core) {
				c.HandleCall(app.CallEvent{Kind: app.LinkUp})
				call(c, app.CallAnswered, app.DirectionOutbound)
				c.Notice(app.NoticeObjected)
			},
			want: app.StateDeclined, headline: "NOT RECORDING", detailHas: "declined",
		},
		{
			name: "failed", golden: "failed",
			rec: &apptest.Recorder{FailStart: errNoMic},
			drive: func(c *app.Core) {
				c.HandleCall(app.CallEvent{Kind: app.LinkUp})
				call(c, app.CallAnswered, app.DirectionInbound)
			},
			want: app.StateFailed, headline: "RECORDING FAILED", detailHas: "NOT being recorded",
		},
		{
			name: "a pause the phone system did not confirm", golden: "unconfirmed",
			rec: &apptest.Recorder{FailPause: &app.UnconfirmedError{Command: "pause",
				Err: errors.New(`rtpengine at 192.0.2.5:2223 did not answer "stop recording" within 500ms`)}},
			drive: func(c *app.Core) {
				c.HandleCall(app.CallEvent{Kind: app.LinkUp})
				call(c, app.CallAnswered, app.DirectionInbound)
				c.Pause("payment")
			},
			want: app.StateUnconfirmed, headline: "NOT PAUSED", detailHas: "Phone system may be recording",
			whyHas: app.UnconfirmedText + ". Why: the phone system did not confirm the pause",
		},
		{
			name: "notice read folds to one line", golden: "notice-read",
			drive: func(c *app.Core) {
				c.HandleCall(app.CallEvent{Kind: app.LinkUp})
				call(c, app.CallAnswered, app.DirectionOutbound)
				c.Notice(app.NoticeRead)
			},
			want: app.StateRecording, headline: "RECORDING", detailHas: "being recorded",
		},
		{
			name: "manual mode offers start and end", golden: "manual",
			manual: true,
			drive:  func(*app.Core) {},
			want:   app.StateIdle, headline: "NOT RECORDING",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			test.NewTempApp(t)
			core := coreFor(t, tt.manual, tt.rec)
			tt.drive(core)
			ready := tt.ready
			if ready == nil {
				ready = state(tt.want)
			}
			s := settle(t, core, ready)
			w := test.NewTempWindow(t, nil)
			p := NewPanel(w, core, testPolicy(t))
			p.now = frozenAt(s)
			w.SetContent(p.Content())
			p.Update(s)
			if p.headline.Text != tt.headline {
				t.Errorf("headline %q, want %q", p.headline.Text, tt.headline)
			}
			if !strings.Contains(p.detail.Text, tt.detailHas) {
				t.Errorf("detail %q lacks %q", p.detail.Text, tt.detailHas)
			}
			if !strings.Contains(p.why.Text, tt.whyHas) {
				t.Errorf("explanation %q lacks %q", p.why.Text, tt.whyHas)
			}
			if p.bannerIcon.Resource != StateIcon(tt.want) {
				t.Error("banner icon is not the state's icon")
			}
			// The markup golden records every word, which buttons show and
			// which are disabled, and where each sits, at the minimum size.
			w.Resize(p.Content().MinSize())
			test.AssertRendersToMarkup(t, "panel/"+tt.golden+".xml", w.Canvas())
			for _, size := range []fyne.Size{p.Content().MinSize(), fyne.NewSize(440, 500)} {
				for _, scale := range []float32{1, 2} {
					inReach(t, w, p, size, scale)
				}
			}
			w.Canvas().(interface{ SetScale(float32) }).SetScale(1)

			// The mini strip says the state in the banner's words.
			m := newMini(p)
			m.Update(s)
			if !strings.HasPrefix(m.chipText.Text, tt.headline) {
				t.Errorf("mini strip says %q, want the headline %q", m.chipText.Text, tt.headline)
			}
			if m.chipBG.FillColor != StateColour(tt.want) {
				t.Errorf("mini strip colour %v, want %v", m.chipBG.FillColor, StateColour(tt.want))
			}
			w.SetContent(m.Content())
			w.Resize(m.Content().MinSize())
			test.AssertRendersToMarkup(t, "panel/mini-"+tt.golden+".xml", w.Canvas())
		})
	}
}

// frozenAt is a clock stopped at the moment s's call (or pause) began, so
// that timers read 00:00 in goldens.
func frozenAt(s app.Snapshot) func() time.Time {
	at := s.Since
	if s.Call != nil {
		at = s.Call.Started
		if s.Call.Answered != nil {
			at = *s.Call.Answered
		}
	}
	return func() time.Time { return at }
}

// inReach checks, in a window of size at scale, that the banner and every
// shown control lie wholly inside the window, and stay where they are when
// the secondary content is scrolled to its end: nothing the officer needs
// scrolls away.
func inReach(t *testing.T, w fyne.Window, p *Panel, size fyne.Size, scale float32) {
	t.Helper()
	w.Canvas().(interface{ SetScale(float32) }).SetScale(scale)
	w.Resize(size)
	if min := p.Content().MinSize(); min.Height > 500 || min.Width > 440 {
		t.Errorf("the panel needs %v, more than the default 440×500 (a 1080p screen at 200 %% holds 540 high)", min)
	}
	fixed := append([]fyne.CanvasObject{p.banner}, p.controls.Objects...)
	d := fyne.CurrentApp().Driver()
	where := func() []fyne.Position {
		var at []fyne.Position
		for _, o := range fixed {
			at = append(at, d.AbsolutePositionForObject(o))
		}
		return at
	}
	before := where()
	p.scroll.ScrollToBottom()
	after := where()
	p.scroll.ScrollToTop()
	c := w.Canvas().Size()
	for i, o := range fixed {
		if !o.Visible() {
			continue
		}
		pos, sz := before[i], o.Size()
		if pos.X < 0 || pos.Y < 0 || pos.X+sz.Width > c.Width+0.5 || pos.Y+sz.Height > c.Height+0.5 {
			t.Errorf("at %v, %g×: %T %d at %v size %v is not wholly inside the window %v", size, scale, o, i, pos, sz, c)
		}
		if after[i] != pos {
			t.Errorf("at %v, %g×: %T %d moved from %v to %v when the rest scrolled", size, scale, o, i, pos, after[i])
		}
	}
	px, py := w.Canvas().PixelCoordinateForPosition(fyne.NewPos(c.Width, c.Height))
	if want := int(c.Width * scale); px < want-1 || px > want+1 || py < int(c.Height*scale)-1 {
		t.Errorf("canvas at %g× is %d×%d pixels for %v", scale, px, py, c)
	}
}

// findButton returns the visible button whose label starts with label.
func findButton(t *testing.T, root fyne.CanvasObject, label string) *widget.Button {
	t.Helper()
	var found *widget.Button
	walk(root, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && strings.HasPrefix(b.Text, label) && found == nil {
			found = b
		}
	})
	if found == nil {
		t.Fatalf("no button %q", label)
	}
	return found
}

func walk(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	f(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, child := range c.Objects {
			walk(child, f)
		}
	case fyne.Widget:
		r := test.WidgetRenderer(c)
		for _, child := range r.Objects() {
			walk(child, f)
		}
	}
}

func TestClicksBecomeIntents(t *testing.T) {
	test.NewTempApp(t)
	core := coreFor(t, true, nil)
	w := test.NewTempWindow(t, nil)
	p := NewPanel(w, core, testPolicy(t))
	w.SetContent(p.Content())
	core.StartManual(app.DirectionInbound, app.Party{Number: "07700900123"})
	p.Update(settle(t, core, state(app.StateRecording)))

	test.Tap(p.pauseBtns["payment"])
	s := settle(t, core, state(app.StatePaused))
	if s.Reason != "payment" {
		t.Fatalf("paused for %q, want payment", s.Reason)
	}
	p.Update(s)
	if !strings.Contains(p.pauseLine.Text, "Paused for Card payment") {
		t.Errorf("pause line %q", p.pauseLine.Text)
	}
	test.Tap(p.resumeBtn)
	p.Update(settle(t, core, state(app.StateRecording)))

	test.Tap(p.endBtn)
	p.Update(settle(t, core, state(app.StateIdle)))
	test.Tap(p.resumeBtn) // disabled: no effect
	if p.problem.Text != "" {
		t.Errorf("a disabled button acted: %q", p.problem.Text)
	}
}

func TestRefusalsAreExplainedInPlainWords(t *testing.T) {
	test.NewTempApp(t)
	core := coreFor(t, true, nil)
	w := test.NewTempWindow(t, nil)
	p := NewPanel(w, core, testPolicy(t))
	p.act(core.Pause("payment"))
	if p.problem.Text != "There is no call to act on." {
		t.Fatalf("problem %q", p.problem.Text)
	}
	p.act(nil)
	if p.problem.Text != "" {
		t.Fatal("problem not cleared after a successful action")
	}
}

func TestEveryActionHasAHotkey(t *testing.T) {
	a := test.NewTempApp(t)
	core := coreFor(t, true, nil)
	win := NewWindow(a, Options{Session: core, Policy: testPolicy(t)})
	t.Cleanup(win.Close)
	c := win.Window().Canvas()
	press := func(spec string) {
		t.Helper()
		sc, ok := parseHotkey(spec)
		if !ok {
			t.Fatalf("hotkey %q does not parse", spec)
		}
		c.(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(sc)
	}
	core.StartManual(app.DirectionOutbound, app.Party{Number: "07700900123"})
	settle(t, core, state(app.StateAwaitingNotice))
	press("Ctrl+N")
	settle(t, core, state(app.StateRecording))
	for _, r := range testPolicy(t).PauseReasons {
		press(r.Hotkey)
		settle(t, core, func(s app.Snapshot) bool { return s.State == app.StatePaused && s.Reason == r.ID })
	}
	press("Ctrl+R")
	settle(t, core, state(app.StateRecording))
	press("Ctrl+Shift+E")
	settle(t, core, state(app.StateIdle))
}

func TestParseHotkey(t *testing.T) {
	for spec, want := range map[string]desktop.CustomShortcut{
		"Ctrl+1":       {KeyName: fyne.Key1, Modifier: fyne.KeyModifierShortcutDefault},
		"Ctrl+Shift+E": {KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift},
		"F5":           {KeyName: fyne.KeyF5},
		"Alt+F10":      {KeyName: fyne.KeyF10, Modifier: fyne.KeyModifierAlt},
		"Ctrl+,":       {KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault},
	} {
		got, ok := parseHotkey(spec)
		if !ok || *got != want {
			t.Errorf("parseHotkey(%q) = %+v, %v; want %+v", spec, got, ok, want)
		}
	}
	for _, bad := range []string{"", "Hyper+1"} {
		if _, ok := parseHotkey(bad); ok {
			t.Errorf("parseHotkey(%q) accepted", bad)
		}
	}
}

func TestStateIconsAreDistinct(t *testing.T) {
	seen := map[string]app.RecordingState{}
	for s := app.StateUnknown; s <= app.StateUnconfirmed; s++ {
		r := StateIcon(s)
		if len(r.Content()) < 100 {
			t.Fatalf("%s icon is empty", s)
		}
		// Icons are compared at 16 px, the tray's size, where they must still differ.
		key := string(drawIcon(lookOf(s), 16).Pix)
		if other, dup := seen[key]; dup && lookOf(other).Headline == lookOf(s).Headline {
			t.Errorf("%s and %s look the same at 16 px and share words", s, other)
		}
		seen[key] = s
	}
}

func TestClockFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "00:00", 59 * time.Second: "00:59", 3*time.Minute + 7*time.Second: "03:07", time.Hour + time.Second: "1:00:01", -time.Second: "00:00",
	} {
		if got := clock(d); got != want {
			t.Errorf("clock(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFlagDialogFlagsTheChosenCall(t *testing.T) {
	test.NewTempApp(t)
	core := coreFor(t, true, nil)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(500, 700))
	p := NewPanel(w, core, testPolicy(t))
	w.SetContent(p.Content())
	core.StartManual(app.DirectionInbound, app.Party{Number: "07700900123"})
	p.Update(settle(t, core, state(app.StateRecording)))

	test.Tap(p.flagBtn)
	overlay := w.Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("no flag dialog")
	}
	var reason *widget.RadioGroup
	var note *widget.Entry
	walk(overlay, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.RadioGroup:
			reason = x
		case *widget.Entry:
			if x.MultiLine {
				note = x
			}
		}
	})
	if reason == nil || note == nil {
		t.Fatal("the dialog lacks the reason or the note")
	}
	reason.SetSelected("Health details were recorded")
	test.Type(note, "mentioned a diagnosis before I paused")
	test.Tap(findButton(t, overlay, "Flag"))
	s := settle(t, core, func(s app.Snapshot) bool { return s.Call != nil && len(s.Call.Flags) == 1 })
	if f := s.Call.Flags[0]; f.Reason != "health" || f.Note != "mentioned a diagnosis before I paused" {
		t.Fatalf("flag %+v", f)
	}
}

// The banner says unknown while the phone system cannot be heard, but the
// call the officer paused is still paused: resuming it must stay possible.
func TestPausedCallCanBeResumedWhileTheLinkIsLost(t *testing.T) {
	test.NewTempApp(t)
	core := coreFor(t, false, nil)
	core.HandleCall(app.CallEvent{Kind: app.LinkUp})
	call(core, app.CallAnswered, app.DirectionInbound)
	settle(t, core, state(app.StateRecording))
	core.HandleCall(app.CallEvent{Kind: app.LinkLost, Reason: "no answer to keepalive"})
	settle(t, core, func(s app.Snapshot) bool { return s.State == app.StateUnknown && s.Call != nil })
	if err := core.Pause("payment"); err != nil {
		t.Fatal(err)
	}
	s := settle(t, core, func(s app.Snapshot) bool { return s.Call != nil && s.Call.State == app.StatePaused })
	w := test.NewTempWindow(t, nil)
	p := NewPanel(w, core, testPolicy(t))
	w.SetContent(p.Content())
	p.Update(s)
	if b := p.resumeBtn; b.Disabled() {
		t.Error("Resume recording disabled although the call is paused")
	}
	if b := p.pauseBtns["payment"]; !b.Disabled() {
		t.Error("Card payment enabled although the call is paused for it")
	}
	test.Tap(p.resumeBtn)
	settle(t, core, func(s app.Snapshot) bool { return s.Call != nil && s.Call.State == app.StateRecording })
}

// trayApp is a test app with a system tray, which fyne's test app lacks.
type trayApp struct {
	fyne.App
	mu   sync.Mutex
	menu *fyne.Menu
}

func (a *trayApp) SetSystemTrayMenu(m *fyne.Menu)  { a.mu.Lock(); a.menu = m; a.mu.Unlock() }
func (a *trayApp) SetSystemTrayIcon(fyne.Resource) {}
func (a *trayApp) SetSystemTrayWindow(fyne.Window) {}

func (a *trayApp) headline() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.menu == nil || len(a.menu.Items) == 0 {
		return ""
	}
	return a.menu.Items[0].Label
}

var _ desktop.App = (*trayApp)(nil)

// The tray says why recording is paused; switching the reason of a pause
// (paused stays paused) must not leave the old reason there.
func TestTrayFollowsAChangedPauseReason(t *testing.T) {
	a := &trayApp{App: test.NewTempApp(t)}
	core := coreFor(t, true, nil)
	win := NewWindow(a, Options{Session: core, Policy: testPolicy(t)})
	t.Cleanup(win.Close)
	core.StartManual(app.DirectionInbound, app.Party{Number: "07700900123"})
	settle(t, core, state(app.StateRecording))
	trayHas := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(a.headline(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("tray says %q, want it to mention %q", a.headline(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := core.Pause("payment"); err != nil {
		t.Fatal(err)
	}
	trayHas("Card payment")
	if err := core.Pause("health"); err != nil {
		t.Fatal(err)
	}
	trayHas("Health details")
}
