package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
)

// While the caller keys numbers (the recorder reported a run of tones to
// the core), the panel asks "Caller is keying numbers — pause for card
// details?" with the card-payment hotkey and makes that button stand out;
// a line says keypad tones were masked. Pausing takes the question
// away. Kept as docs/screenshots/keying.png.
func TestPanelAsksWhileTheCallerKeysNumbers(t *testing.T) {
	test.NewTempApp(t)
	rec := &apptest.Recorder{}
	core := coreFor(t, false, rec)
	core.HandleCall(app.CallEvent{Kind: app.LinkUp})
	call(core, app.CallAnswered, app.DirectionInbound)
	id := settle(t, core, state(app.StateRecording)).Call.ID
	for i := range 4 {
		if !rec.Keypad(id, app.KeypadEvent{Kind: app.KeypadMasked, FromMS: int64(5000 + 300*i), ToMS: int64(5180 + 300*i)}) {
			t.Fatal("the core started the recording with nowhere to report keypad tones")
		}
	}
	rec.Keypad(id, app.KeypadEvent{Kind: app.KeypadRun, AtMS: 5900})
	s := settle(t, core, func(s app.Snapshot) bool { return s.Call != nil && s.Call.Keying && s.Call.KeypadMasked == 4 })

	w := test.NewTempWindow(t, nil)
	p := NewPanel(w, core, testPolicy(t))
	p.now = frozenAt(s)
	w.SetContent(p.Content())
	p.Update(s)
	if !p.keying.Visible() || !strings.Contains(p.keying.Text, "Caller is keying numbers — pause for card details?") || !strings.Contains(p.keying.Text, "Ctrl+1") {
		t.Fatalf("keying line %q (visible %v)", p.keying.Text, p.keying.Visible())
	}
	pay := p.pauseBtns["payment"]
	if pay.Importance != widget.HighImportance || p.pauseBtns["health"].Importance != widget.MediumImportance {
		t.Errorf("payment button importance %v, health %v", pay.Importance, p.pauseBtns["health"].Importance)
	}
	if !p.masked.Visible() || !strings.HasPrefix(p.masked.Text, "Keypad tones masked") || !strings.Contains(p.masked.Text, "4 times") {
		t.Errorf("masked line %q (visible %v)", p.masked.Text, p.masked.Visible())
	}
	w.Resize(p.Content().MinSize())
	test.AssertRendersToMarkup(t, "panel/keying.xml", w.Canvas())
	for _, size := range []fyne.Size{p.Content().MinSize(), fyne.NewSize(440, 500)} {
		for _, scale := range []float32{1, 2} {
			inReach(t, w, p, size, scale)
		}
	}
	w.Canvas().(interface{ SetScale(float32) }).SetScale(1)
	w.Resize(fyne.NewSize(440, 500))
	capture(t, w, "keying.png")

	// The mini strip asks too, and still fits the panel's width.
	m := newMini(p)
	m.Update(s)
	if m.pauseBtn.Text != "Keying numbers: pause…" || m.pauseBtn.Importance != widget.HighImportance {
		t.Errorf("mini pause button %q importance %v", m.pauseBtn.Text, m.pauseBtn.Importance)
	}
	w.SetContent(m.Content())
	w.Resize(m.Content().MinSize())
	if min := m.Content().MinSize(); min.Width > 440 {
		t.Errorf("the mini strip needs %v while asking, wider than 440", min)
	}
	test.AssertRendersToMarkup(t, "panel/mini-keying.xml", w.Canvas())
	w.SetContent(p.Content())

	test.Tap(pay)
	s = settle(t, core, state(app.StatePaused))
	p.Update(s)
	if p.keying.Visible() || pay.Importance != widget.MediumImportance || s.Reason != "payment" {
		t.Fatalf("after pausing: keying shown %v, payment importance %v, reason %q", p.keying.Visible(), pay.Importance, s.Reason)
	}
	m.Update(s)
	if m.resumeBtn.Hidden || m.pauseBtn.Text != "Pause…" {
		t.Errorf("mini after pausing: resume hidden %v, pause %q", m.resumeBtn.Hidden, m.pauseBtn.Text)
	}
}

// The supervisors' board says "keypad tones masked" on a call whose
// recording had keypad tones silenced, and shows a pause the core made for
// a run of tones in the board's words.
func TestBoardShowsKeypadTonesMasked(t *testing.T) {
	test.NewTempApp(t)
	b := NewBoard(fakeFeed{})
	b.now = func() time.Time { return now }
	test.NewTempWindow(t, b.Content())
	b.Apply(server.AgentState{Agent: "gil", Online: true, State: "paused", Reason: policy.PaymentDetectedReason, ReasonLabel: policy.PaymentDetectedLabel,
		Since: now, Call: &server.LiveCall{Direction: "inbound", Remote: "••••123", Started: now.Add(-time.Minute), KeypadMasked: 4}})
	b.Apply(server.AgentState{Agent: "hal", Online: true, State: "recording", Since: now,
		Call: &server.LiveCall{Direction: "inbound", Remote: "••••456", Started: now.Add(-time.Minute)}})
	cell := b.table.CreateCell()
	for row, want := range []string{"inbound ••••123 · 01:00 · keypad tones masked", "inbound ••••456 · 01:00"} {
		b.fillCell(widgetCell(row, 3), cell)
		if got := cellText(cell); got != want {
			t.Errorf("%s's call cell %q, want %q", b.view[row].Agent, got, want)
		}
	}
	b.fillCell(widgetCell(0, 1), cell)
	if got := cellText(cell); got != "PAUSED — Caller keying numbers" {
		t.Errorf("gil's state cell %q", got)
	}
}
