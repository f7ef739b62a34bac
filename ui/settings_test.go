package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app/config"
)

type fakeSettings struct {
	cfg      config.Config
	locked   []string
	saved    *config.Config
	password *string
	token    string
	levelled chan struct{}
	warnings []string
}

func (f *fakeSettings) Settings() config.Config { return f.cfg }
func (f *fakeSettings) Locked() []string        { return f.locked }
func (f *fakeSettings) Save(c config.Config, pw *string) (string, error) {
	f.saved, f.password = &c, pw
	return "Restart callguard to connect to the new phone system.", nil
}
func (f *fakeSettings) Devices() ([]string, error) {
	return []string{"USB Headset", "Monitor of Speakers"}, nil
}
func (f *fakeSettings) Level(ctx context.Context, _ string, fn func(float64)) error {
	fn(-12)
	close(f.levelled)
	<-ctx.Done()
	return nil
}
func (f *fakeSettings) LocalAPIToken() (string, error) { return f.token, nil }
func (f *fakeSettings) RegenerateLocalAPIToken() (string, error) {
	f.token = "new-token"
	return f.token, nil
}
func (f *fakeSettings) Enroll(context.Context, string, string, string) (string, error) {
	return "", errors.New("server unreachable")
}
func (f *fakeSettings) KeyringNote() string { return "" }
func (f *fakeSettings) Warnings() []string  { return f.warnings }

func TestSettingsSaveWhatTheOfficerTyped(t *testing.T) {
	test.NewTempApp(t)
	b := &fakeSettings{cfg: config.Default(), token: "tok"}
	w := test.NewTempWindow(t, nil)
	s := NewSettings(w, b)
	w.SetContent(s.Content())
	t.Cleanup(s.Close)

	test.Type(s.address, "pbx.example.org:5061")
	s.transport.SetSelected("tls")
	test.Type(s.extension, "2001")
	test.Type(s.password, "digest-secret")
	s.callerDev.SetSelected("Monitor of Speakers")
	s.save()
	if b.saved == nil {
		t.Fatalf("not saved: %q", s.message.Text)
	}
	got := b.saved
	if got.PhoneSystem.Address != "pbx.example.org:5061" || got.PhoneSystem.Transport != "tls" || got.PhoneSystem.Extension != "2001" {
		t.Errorf("phone system saved as %+v", got.PhoneSystem)
	}
	if got.Audio.CallerDevice != "Monitor of Speakers" || got.Audio.OfficerDevice != "" {
		t.Errorf("audio saved as %+v", got.Audio)
	}
	if b.password == nil || *b.password != "digest-secret" {
		t.Error("password not handed to the keyring")
	}
	if s.password.Text != "" {
		t.Error("password left in the form after saving")
	}
	if s.message.Text != "Saved. Restart callguard to connect to the new phone system." {
		t.Errorf("message %q", s.message.Text)
	}
}

func TestSettingsRefuseBadInputWithAReason(t *testing.T) {
	test.NewTempApp(t)
	b := &fakeSettings{cfg: config.Default()}
	w := test.NewTempWindow(t, nil)
	s := NewSettings(w, b)
	test.Type(s.address, "no-port-here")
	s.save()
	if b.saved != nil || !strings.Contains(s.message.Text, "host:port") {
		t.Fatalf("bad address saved or unexplained: %q", s.message.Text)
	}
	s.address.SetText("")
	s.apiPort.SetText("seventy")
	s.save()
	if b.saved != nil || !strings.Contains(s.message.Text, "not a number") {
		t.Fatalf("bad port saved or unexplained: %q", s.message.Text)
	}
}

func TestManagedSettingsAreLocked(t *testing.T) {
	test.NewTempApp(t)
	b := &fakeSettings{cfg: config.Default(), locked: []string{"server.url", "phone_system.address", "phone_system.auth_user"}}
	w := test.NewTempWindow(t, nil)
	s := NewSettings(w, b)
	if !s.serverURL.Disabled() || !s.address.Disabled() || !s.authUser.Disabled() || s.extension.Disabled() {
		t.Fatal("locked fields editable or free fields locked")
	}
}

func TestLevelMeterAndTokenRegeneration(t *testing.T) {
	test.NewTempApp(t)
	b := &fakeSettings{cfg: config.Default(), token: "old", levelled: make(chan struct{})}
	w := test.NewTempWindow(t, nil)
	s := NewSettings(w, b)
	t.Cleanup(s.Close)
	s.startMeter()
	<-b.levelled // the test driver runs fyne.Do on the caller's goroutine
	if s.meter.Value != -12 {
		t.Fatalf("meter shows %v, want -12", s.meter.Value)
	}
	if s.token.Text != "old" {
		t.Fatalf("token shown %q", s.token.Text)
	}
	tok, _ := b.RegenerateLocalAPIToken()
	s.token.SetText(tok)
	if s.token.Text != "new-token" {
		t.Fatal("token not replaced")
	}
}

// TestSettingsShowTheWarnings: what the desktop warns of (a demo key kept
// beside the recordings, the local API off) is at the top of Settings.
func TestSettingsShowTheWarnings(t *testing.T) {
	test.NewTempApp(t)
	b := &fakeSettings{cfg: config.Default(), token: "tok", warnings: []string{"Demo mode: recordings on this computer are not protected."}}
	w := test.NewTempWindow(t, nil)
	s := NewSettings(w, b)
	w.SetContent(s.Content())
	t.Cleanup(s.Close)
	found := false
	for _, o := range test.LaidOutObjects(s.Content()) {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, "Demo mode") {
			found = l.Importance == widget.DangerImportance
		}
	}
	if !found {
		t.Fatal("the warning is not shown as a warning")
	}
}

// Settings → Panel changes the window at once and saves it; always on top
// that IT forces is shown, and stays.
func TestSettingsPanelTab(t *testing.T) {
	for _, locked := range []bool{false, true} {
		a := test.NewTempApp(t)
		core := coreFor(t, true, nil)
		var saved []config.Window
		win := NewWindow(a, Options{Session: core, Policy: testPolicy(t), Prefs: config.Window{AlwaysOnTop: true}, OnTopLocked: locked,
			SavePrefs: func(p config.Window) error { saved = append(saved, p); return nil }})
		t.Cleanup(win.Close)
		waitRendered(t, win)
		w := test.NewTempWindow(t, nil)
		s := NewSettings(w, &fakeSettings{cfg: config.Default(), token: "tok"})
		s.AddPanel(win)
		w.SetContent(s.Content())
		if !s.onTop.Checked || s.mini.Checked {
			t.Fatalf("locked=%v: the tab shows on top %v, mini %v", locked, s.onTop.Checked, s.mini.Checked)
		}
		if s.onTop.Disabled() != locked {
			t.Errorf("locked=%v: on top disabled=%v", locked, s.onTop.Disabled())
		}
		test.Tap(s.onTop)
		win.SetOnTop(false) // as the tap would, even where the check is disabled
		// Unlocked it is off now; locked, IT's choice stays.
		if prefs, _ := win.Prefs(); prefs.AlwaysOnTop != locked {
			t.Errorf("locked=%v: always on top is %v after turning it off", locked, prefs.AlwaysOnTop)
		}
		test.Tap(s.mini)
		if win.Window().Canvas().Content() != win.mini.Content() {
			t.Errorf("locked=%v: ticking mini mode did not switch the window", locked)
		}
		last := saved[len(saved)-1]
		if !last.Mini || last.AlwaysOnTop != locked {
			t.Errorf("locked=%v: saved %+v", locked, saved)
		}
	}
}
