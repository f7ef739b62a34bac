package ui

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app/config"
)

// SettingsBackend is what the settings window needs: it reads and saves the
// settings, keeps secrets in the OS keyring, and lists audio devices.
type SettingsBackend interface {
	Settings() config.Config
	// Locked names the settings IT manages, as "section.field" JSON keys
	// (e.g. "server.url"); they are shown but cannot be changed.
	Locked() []string
	// Save stores c and, when sipPassword is not nil, the phone-system
	// password in the keyring. It applies what it can at once and returns a
	// note for the officer about what needs a restart ("" if nothing).
	Save(c config.Config, sipPassword *string) (string, error)
	Devices() ([]string, error)
	// Level reports the input level of device until ctx is done.
	Level(ctx context.Context, device string, fn func(dBFS float64)) error
	LocalAPIToken() (string, error)
	RegenerateLocalAPIToken() (string, error)
	// Enroll signs this desktop in to the central server and keeps its
	// token in the keyring; it returns the account's role.
	Enroll(ctx context.Context, serverURL, username, password string) (string, error)
	// KeyringNote is empty when the OS keyring works, else why it does not.
	KeyringNote() string
	// Warnings are what the officer and IT must know about how this
	// desktop runs (a demo key beside the recordings, the local API off),
	// in words; none when all is as it should be.
	Warnings() []string
}

const (
	systemDefault = "System default"
	noCaller      = "None (caller channel stays silent)"
)

// Settings is the settings window's content.
type Settings struct {
	backend SettingsBackend
	win     fyne.Window
	locked  []string

	address, extension, domain, authUser, caFile, password *widget.Entry
	transport                                              *widget.Select
	officerDev, callerDev                                  *widget.Select
	meter                                                  *widget.ProgressBar
	meterStop                                              context.CancelFunc
	serverURL                                              *widget.Entry
	apiPort                                                *widget.Entry
	token                                                  *widget.Entry
	message                                                *widget.Label
	tabs                                                   *container.AppTabs
	onTop, mini                                            *widget.Check
	content                                                fyne.CanvasObject
}

// PanelChoices is what Settings shows and changes of the officer's panel
// window; *Window implements it. Changes apply at once.
type PanelChoices interface {
	// Prefs is how the window sits now, and whether IT forces always on top.
	Prefs() (config.Window, bool)
	SetOnTop(bool)
	SetMini(bool)
	// HotkeyNote says which keys work in every program, and which the
	// system refused.
	HotkeyNote() string
	// OnTopNote is empty while keeping the panel above works, else why not.
	OnTopNote() string
}

// NewSettings builds the settings form for backend, shown in win.
func NewSettings(win fyne.Window, backend SettingsBackend) *Settings {
	s := &Settings{backend: backend, win: win, locked: backend.Locked()}
	s.build()
	return s
}

// Content is the settings form's root object.
func (s *Settings) Content() fyne.CanvasObject { return s.content }

// Close stops the level meter.
func (s *Settings) Close() {
	if s.meterStop != nil {
		s.meterStop()
	}
}

func (s *Settings) lockIf(key string, w fyne.Disableable) string {
	if slices.Contains(s.locked, key) {
		w.Disable()
		return "Set by your IT department"
	}
	return ""
}

func entry(text, placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(text)
	e.SetPlaceHolder(placeholder)
	return e
}

func (s *Settings) build() {
	c := s.backend.Settings()
	ps := c.PhoneSystem

	s.address = entry(ps.Address, "pbx.example.org:5060 — empty: mark calls by hand")
	s.transport = widget.NewSelect([]string{"udp", "tcp", "tls"}, nil)
	s.transport.SetSelected(orDefault(ps.Transport, "udp"))
	s.extension = entry(ps.Extension, "your extension, e.g. 1001")
	s.domain = entry(ps.Domain, "default: the host of the address")
	s.authUser = entry(ps.AuthUser, "default: the extension")
	s.caFile = entry(ps.CAFile, "PEM file to pin for TLS; empty: system roots")
	s.password = widget.NewPasswordEntry()
	s.password.SetPlaceHolder("unchanged — kept in the OS keyring")
	phone := widget.NewForm(
		withHint("Address", s.address, s.lockIf("phone_system.address", s.address)),
		withHint("Transport", s.transport, s.lockIf("phone_system.transport", s.transport)),
		withHint("Extension", s.extension, s.lockIf("phone_system.extension", s.extension)),
		withHint("Domain", s.domain, s.lockIf("phone_system.domain", s.domain)),
		withHint("Auth user", s.authUser, s.lockIf("phone_system.auth_user", s.authUser)),
		withHint("Password", s.password, "Stored in the OS keyring, never in a file"),
		withHint("CA file", s.caFile, s.lockIf("phone_system.ca_file", s.caFile)),
	)

	devices, err := s.backend.Devices()
	var devNote string
	if err != nil {
		devNote = "Cannot list audio devices: " + err.Error()
	}
	s.officerDev = widget.NewSelect(append([]string{systemDefault}, devices...), nil)
	s.officerDev.SetSelected(orDefault(c.Audio.OfficerDevice, systemDefault))
	s.callerDev = widget.NewSelect(append([]string{noCaller}, devices...), nil)
	s.callerDev.SetSelected(orDefault(c.Audio.CallerDevice, noCaller))
	s.meter = widget.NewProgressBar()
	s.meter.Min, s.meter.Max = -60, 0
	s.meter.TextFormatter = func() string {
		if s.meter.Value <= -60 {
			return "silence"
		}
		return fmt.Sprintf("%.0f dBFS", s.meter.Value)
	}
	s.meter.SetValue(-60)
	testBtn := widget.NewButton("Test level", s.startMeter)
	audio := widget.NewForm(
		withHint("Officer microphone", s.officerDev, devNote),
		withHint("Caller channel", s.callerDev, "A loopback or monitor input that carries the caller; see docs/recording.md"),
		withHint("Level", container.NewBorder(nil, nil, nil, testBtn, s.meter), "Speak: the bar should move"),
	)

	s.serverURL = entry(c.Server.URL, "https://callguard.example.org — empty: this PC (embedded)")
	user := entry("", "your callguard user name")
	pass := widget.NewPasswordEntry()
	enrol := widget.NewButton("Enrol this desktop", func() {
		role, err := s.backend.Enroll(context.Background(), strings.TrimSpace(s.serverURL.Text), strings.TrimSpace(user.Text), pass.Text)
		pass.SetText("")
		if err != nil {
			s.say("Enrolment failed: " + err.Error())
			return
		}
		s.say("Enrolled as " + role + ". The token is in the OS keyring.")
	})
	server := widget.NewForm(
		withHint("Server", s.serverURL, s.lockIf("server.url", s.serverURL)),
		withHint("User", user, ""),
		withHint("Password", pass, "Used once to enrol; not stored"),
		widget.NewFormItem("", enrol),
	)

	port := c.LocalAPI.Port
	if port == 0 {
		port = config.DefaultLocalAPIPort
	}
	s.apiPort = entry(strconv.Itoa(port), "7465; -1 turns the local API off")
	s.token = widget.NewEntry()
	if tok, err := s.backend.LocalAPIToken(); err == nil {
		s.token.SetText(tok)
	} else {
		s.token.SetText("unavailable: " + err.Error())
	}
	s.token.Disable()
	copyBtn := widget.NewButton("Copy", func() { fyne.CurrentApp().Clipboard().SetContent(s.token.Text) })
	regen := widget.NewButton("New token", func() {
		tok, err := s.backend.RegenerateLocalAPIToken()
		if err != nil {
			s.say(err.Error())
			return
		}
		s.token.SetText(tok)
		s.say("New token made: update the CRM and payment pages that use it.")
	})
	api := widget.NewForm(
		withHint("Port", s.apiPort, "On 127.0.0.1 only"),
		withHint("Token", container.NewBorder(nil, nil, nil, container.NewHBox(copyBtn, regen), s.token), s.backend.KeyringNote()),
	)

	var tabs *container.AppTabs
	s.message = widget.NewLabel("")
	s.message.Wrapping = fyne.TextWrapWord
	save := widget.NewButton("Save", s.save)
	save.Importance = widget.HighImportance
	tabs = container.NewAppTabs(
		container.NewTabItem("Phone system", phone),
		container.NewTabItem("Audio", audio),
		container.NewTabItem("Server", server),
		container.NewTabItem("Local API", api),
	)
	s.tabs = tabs
	var top fyne.CanvasObject
	if warnings := s.backend.Warnings(); len(warnings) > 0 {
		w := widget.NewLabel(strings.Join(warnings, "\n"))
		w.Wrapping = fyne.TextWrapWord
		w.Importance = widget.DangerImportance
		top = w
	}
	s.content = container.NewBorder(top, container.NewVBox(s.message, save), nil, nil, tabs)
}

func withHint(label string, w fyne.CanvasObject, hint string) *widget.FormItem {
	it := widget.NewFormItem(label, w)
	it.HintText = hint
	return it
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *Settings) say(msg string) { s.message.SetText(msg) }

func (s *Settings) startMeter() {
	if s.meterStop != nil {
		s.meterStop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.meterStop = cancel
	dev := s.officerDev.Selected
	if dev == systemDefault {
		dev = ""
	}
	go func() {
		err := s.backend.Level(ctx, dev, func(db float64) {
			v := math.Max(-60, math.Min(0, db))
			fyne.Do(func() { s.meter.SetValue(v) })
		})
		if err != nil && ctx.Err() == nil {
			fyne.Do(func() { s.say("Level meter: " + err.Error()) })
		}
	}()
}

// collect reads the form into a Config.
func (s *Settings) collect() (config.Config, error) {
	c := s.backend.Settings()
	c.PhoneSystem.Address = strings.TrimSpace(s.address.Text)
	c.PhoneSystem.Transport = s.transport.Selected
	c.PhoneSystem.Extension = strings.TrimSpace(s.extension.Text)
	c.PhoneSystem.Domain = strings.TrimSpace(s.domain.Text)
	c.PhoneSystem.AuthUser = strings.TrimSpace(s.authUser.Text)
	c.PhoneSystem.CAFile = strings.TrimSpace(s.caFile.Text)
	c.Audio.OfficerDevice = s.officerDev.Selected
	if c.Audio.OfficerDevice == systemDefault {
		c.Audio.OfficerDevice = ""
	}
	c.Audio.CallerDevice = s.callerDev.Selected
	if c.Audio.CallerDevice == noCaller {
		c.Audio.CallerDevice = ""
	}
	c.Server.URL = strings.TrimSpace(s.serverURL.Text)
	port, err := strconv.Atoi(strings.TrimSpace(s.apiPort.Text))
	if err != nil {
		return c, fmt.Errorf("local API port %q is not a number", s.apiPort.Text)
	}
	if port == config.DefaultLocalAPIPort {
		port = 0
	}
	c.LocalAPI.Port = port
	return c, c.Validate()
}

func (s *Settings) save() {
	c, err := s.collect()
	if err != nil {
		s.say(err.Error())
		return
	}
	var pw *string
	if s.password.Text != "" {
		v := s.password.Text
		pw = &v
	}
	note, err := s.backend.Save(c, pw)
	if err != nil {
		s.say("Not saved: " + err.Error())
		return
	}
	s.password.SetText("")
	s.say(strings.TrimSpace("Saved. " + note))
}

// AddPanel adds the "Panel" tab: always on top, mini mode and the keys
// that work in every program, applied at once (not on Save).
func (s *Settings) AddPanel(p PanelChoices) {
	prefs, locked := p.Prefs()
	onTop := widget.NewCheck("Keep the panel above other windows", p.SetOnTop)
	s.onTop = onTop
	onTop.SetChecked(prefs.AlwaysOnTop)
	hint := "So that the softphone and the CRM never hide the recording state."
	if locked {
		onTop.Disable()
		hint = "Set by your IT department"
	}
	if note := p.OnTopNote(); note != "" {
		hint = note
	}
	mini := widget.NewCheck("Mini mode: one line with the state, the timer, pause and resume", p.SetMini)
	mini.SetChecked(prefs.Mini)
	s.mini = mini
	keys := widget.NewLabel(p.HotkeyNote())
	keys.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		withHint("On top", onTop, hint),
		withHint("Mini mode", mini, "Always above other windows. Ctrl+M or the tray menu switches; drag it to any edge."),
		widget.NewFormItem("Keys anywhere", keys),
	)
	s.tabs.Append(container.NewTabItem("Panel", form))
}

// ShowSettings opens the settings in their own window, with the "Panel"
// tab for panel when it is not nil.
func ShowSettings(a fyne.App, backend SettingsBackend, panel PanelChoices) fyne.Window {
	w := a.NewWindow("callguard settings")
	s := NewSettings(w, backend)
	if panel != nil {
		s.AddPanel(panel)
	}
	w.SetContent(s.Content())
	w.Resize(fyne.NewSize(560, 520))
	w.SetOnClosed(s.Close)
	w.Show()
	return w
}
