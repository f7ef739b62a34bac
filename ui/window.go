package ui

import (
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/config"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/ui/native"
)

// Options configure the officer's window.
type Options struct {
	Session Session
	Policy  *policy.Policy
	// SyncStatus says how the metadata sync is doing; polled every few seconds.
	SyncStatus func() string
	// OpenSettings shows the settings window; nil hides the button.
	OpenSettings func()
	// Title is the window title's prefix; "callguard" by default.
	Title string
	// Flags lists the officer's own flags and what came of them ("My
	// flags", Ctrl+Shift+F); nil hides the button, the hotkey and the tray
	// entry. Leave it nil rather than set a nil *uplink.Client.
	Flags FlagHistory
	// Scores lists the officer's own scored calls and takes comments and
	// disputes ("My calls", Ctrl+Shift+C); nil hides the button, the
	// hotkey and the tray entry.
	// Leave it nil rather than set a nil *uplink.Client.
	Scores ScoreHistory
	// Prefs is how the window starts: kept above other windows, full panel
	// or mini strip.
	Prefs config.Window
	// OnTopLocked says IT forces Prefs.AlwaysOnTop: Settings shows it and
	// the officer cannot turn it off.
	OnTopLocked bool
	// SavePrefs keeps the officer's changes to Prefs for the next start;
	// nil keeps them for this run only.
	SavePrefs func(config.Window) error
	// GlobalHotkeys grabs pause and resume keys for the whole desktop
	// (Ctrl+Alt with the pause reasons' keys, Ctrl+Alt+R), so they work
	// while the softphone or the CRM has the focus.
	GlobalHotkeys bool
	// Logger receives what the officer need not see (a window manager
	// that cannot keep the window above); nil discards it.
	Logger *slog.Logger
}

// Window is the officer's main window with its tray icon and hotkeys.
type Window struct {
	app   fyne.App
	win   fyne.Window
	panel *Panel
	opts  Options

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup

	// The open "My flags" dialog, nil when closed (fyne's goroutine only).
	flags        *MyFlags
	scores       *MyCalls // the open "My calls" view, nil when closed
	scoresDialog dialog.Dialog
	flagsDialog  dialog.Dialog

	// The window's place on the screen (fyne's goroutine only).
	mini       *Mini
	prefs      config.Window
	hotkeys    *native.Hotkeys
	hotkeyNote string
	onTopNote  string

	// rendered counts the snapshots drawn, so that tests (where fyne.Do
	// runs on the caller's goroutine) can wait for the first one.
	rendered atomic.Int32
}

// NewWindow builds the officer's window in a and starts following the
// session. Show it with Show (which also keeps it on top and grabs the
// global keys) and run the app; Close stops it.
func NewWindow(a fyne.App, opts Options) *Window {
	w := &Window{opts: opts, app: a, stop: make(chan struct{})}
	w.win = a.NewWindow("callguard")
	w.panel = NewPanel(w.win, opts.Session, opts.Policy)
	w.panel.OnSettings = opts.OpenSettings
	w.panel.SyncStatus = opts.SyncStatus
	if opts.OpenSettings == nil {
		w.panel.settingsBtn.Hide()
	}
	if opts.Flags != nil {
		w.panel.OnMyFlags = w.showMyFlags
		w.panel.myFlagsBtn.Show()
	}
	if opts.Scores != nil {
		w.panel.OnMyCalls = w.showMyCalls
		w.panel.myCallsBtn.Show()
	}
	w.mini = newMini(w.panel)
	w.mini.OnFull = func() { w.SetMini(false) }
	w.mini.OnResize = func() { w.win.Resize(w.mini.Content().MinSize()) }
	w.mini.Update(opts.Session.Snapshot())
	w.prefs = opts.Prefs
	w.hotkeyNote = "Keys that work in every program are off."
	w.layout()
	w.addShortcuts()
	w.win.SetCloseIntercept(w.confirmClose)
	w.trayMenu(a, opts.Session.Snapshot())

	snaps, cancel := opts.Session.Subscribe()
	w.wg.Add(1)
	go w.follow(a, snaps, cancel)
	return w
}

// Window is the fyne window, e.g. to Show it.
func (w *Window) Window() fyne.Window { return w.win }

// Panel is the panel inside the window.
func (w *Window) Panel() *Panel { return w.panel }

// Close stops following the session and any "My flags" load in flight.
// It does not close the fyne window; call it once fyne's loop has ended.
func (w *Window) Close() {
	w.stopOnce.Do(func() { close(w.stop) })
	w.wg.Wait()
	w.hotkeys.Close()
	if w.flags != nil {
		w.flags.Stop()
	}
}

// follow renders every snapshot, and ticks the call and pause timers once a
// second only while a call is live, so an idle callguard does no work.
func (w *Window) follow(a fyne.App, snaps <-chan app.Snapshot, cancel func()) {
	defer w.wg.Done()
	defer cancel()
	var (
		tick     *time.Ticker
		tickC    <-chan time.Time
		lastTray trayKey
		trayed   bool
		syncC    = time.NewTicker(3 * time.Second)
		current  app.Snapshot
	)
	defer syncC.Stop()
	for {
		select {
		case <-w.stop:
			if tick != nil {
				tick.Stop()
			}
			return
		case s, ok := <-snaps:
			if !ok {
				return
			}
			current = s
			key := trayKeyOf(s)
			trayChanged := !trayed || key != lastTray
			lastTray, trayed = key, true
			fyne.Do(func() {
				w.panel.Update(s)
				w.mini.Update(s)
				if trayChanged {
					w.trayMenu(a, s)
				}
				w.rendered.Add(1)
			})
			live := s.Call != nil
			switch {
			case live && tick == nil:
				tick = time.NewTicker(time.Second)
				tickC = tick.C
			case !live && tick != nil:
				tick.Stop()
				tick, tickC = nil, nil
			}
		case <-tickC:
			s := current
			fyne.Do(func() { w.panel.Tick(); w.mini.Tick(s) })
		case <-syncC.C:
			if w.opts.SyncStatus != nil {
				s := current
				fyne.Do(func() {
					// Only a change is drawn: an idle window repaints nothing.
					if text := w.panel.statusText(s); text != w.panel.status.Text {
						w.panel.status.SetText(text)
					}
				})
			}
		}
	}
}

// trayKey is what the tray menu shows of a snapshot: the menu is rebuilt
// when any of it changes (a pause can switch its reason and stay paused).
type trayKey struct {
	state     app.RecordingState
	label     string
	call      bool
	resumable bool
}

func trayKeyOf(s app.Snapshot) trayKey {
	return trayKey{state: s.State, label: s.ReasonLabel, call: s.Call != nil, resumable: resumable(s)}
}

// trayMenu mirrors the state in the system tray, where the OS has one.
func (w *Window) trayMenu(a fyne.App, s app.Snapshot) {
	desk, ok := a.(desktop.App)
	if !ok {
		return
	}
	l := lookOf(s.State)
	headline := l.Headline
	if s.State == app.StatePaused {
		headline += " — " + s.ReasonLabel
	}
	state := fyne.NewMenuItem(headline, nil)
	state.Disabled = true
	switchTo := "Mini mode (one line)"
	if w.prefs.Mini {
		switchTo = "Full panel"
	}
	items := []*fyne.MenuItem{state, fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Show callguard", func() { w.win.Show(); w.win.RequestFocus() }),
		fyne.NewMenuItem(switchTo, func() { w.SetMini(!w.prefs.Mini) })}
	for _, r := range w.opts.Policy.PauseReasons {
		id := r.ID
		it := fyne.NewMenuItem("Pause: "+r.Label, func() { w.panel.act(w.opts.Session.Pause(id)) })
		it.Disabled = s.Call == nil
		items = append(items, it)
	}
	resume := fyne.NewMenuItem("Resume recording", func() { w.panel.act(w.opts.Session.Resume()) })
	resume.Disabled = !resumable(s)
	items = append(items, resume)
	if w.opts.Flags != nil {
		items = append(items, fyne.NewMenuItemSeparator(), fyne.NewMenuItem("My flags…", func() {
			w.win.Show()
			w.win.RequestFocus()
			w.showMyFlags()
		}))
	}
	if w.opts.Scores != nil {
		items = append(items, fyne.NewMenuItem("My calls…", func() {
			w.win.Show()
			w.win.RequestFocus()
			w.showMyCalls()
		}))
	}
	desk.SetSystemTrayMenu(fyne.NewMenu("callguard", items...))
	desk.SetSystemTrayIcon(StateIcon(s.State))
}

// confirmClose asks before quitting during a call: quitting stops recording.
func (w *Window) confirmClose() {
	if w.opts.Session.Snapshot().Call == nil {
		w.win.Close()
		return
	}
	d := dialog.NewConfirm("Quit callguard?",
		"A call is in progress. If you quit, callguard stops recording it\nand can no longer pause for card or health details.",
		func(ok bool) {
			if ok {
				w.win.Close()
			}
		}, w.win)
	d.SetConfirmText("Quit anyway")
	d.SetDismissText("Keep running")
	d.Show()
}

// showMyFlags opens the "My flags" dialog, or reloads it when it is open.
func (w *Window) showMyFlags() {
	if w.opts.Flags == nil {
		return
	}
	if w.flags != nil {
		w.flags.Refresh()
		return
	}
	v := NewMyFlags(w.opts.Flags, w.opts.Policy, w.opts.Session.Snapshot())
	d := dialog.NewCustom("My flags: what came of them", "Close", v.Content(), w.win)
	d.SetOnClosed(func() {
		v.Stop()
		w.flags, w.flagsDialog = nil, nil
	})
	d.Resize(fyne.NewSize(420, 440))
	w.flags, w.flagsDialog = v, d
	d.Show()
	v.Refresh()
}

// showMyCalls opens the "My calls" dialog, or reloads it when it is open.
func (w *Window) showMyCalls() {
	if w.opts.Scores == nil {
		return
	}
	if w.scores != nil {
		w.scores.Refresh()
		return
	}
	v := NewMyCalls(w.opts.Scores, w.opts.Session.Snapshot(), w.win)
	d := dialog.NewCustom("My calls: how they were scored", "Close", v.Content(), w.win)
	d.SetOnClosed(func() {
		v.Stop()
		w.scores, w.scoresDialog = nil, nil
	})
	d.Resize(fyne.NewSize(440, 480))
	w.scores, w.scoresDialog = v, d
	d.Show()
	v.Refresh()
}

// toggleMyFlags is the hotkey's action: it opens the dialog, or closes it
// when it is open, so the keyboard alone can do both.
func (w *Window) toggleMyFlags() {
	if w.flagsDialog != nil {
		w.flagsDialog.Hide()
		return
	}
	w.showMyFlags()
}

// toggleMyCalls is the hotkey's action: it opens the dialog, or closes it
// when it is open.
func (w *Window) toggleMyCalls() {
	if w.scoresDialog != nil {
		w.scoresDialog.Hide()
		return
	}
	w.showMyCalls()
}

// addShortcuts binds every action to a key, so the panel works without a mouse.
func (w *Window) addShortcuts() {
	c := w.win.Canvas()
	p := w.panel
	bind := func(spec string, f func()) {
		if sc, ok := parseHotkey(spec); ok {
			c.AddShortcut(sc, func(fyne.Shortcut) { f() })
		}
	}
	for _, r := range w.opts.Policy.PauseReasons {
		id := r.ID
		bind(r.Hotkey, func() { p.act(p.session.Pause(id)) })
	}
	bind("Ctrl+R", func() { p.act(p.session.Resume()) })
	bind("Ctrl+N", func() { p.act(p.session.Notice(app.NoticeRead)) })
	bind("Ctrl+O", p.confirmObjection)
	bind("Ctrl+D", p.showFlag)
	bind(myFlagsHotkey, w.toggleMyFlags)
	bind(myCallsHotkey, w.toggleMyCalls)
	bind("Ctrl+Shift+S", func() {
		if p.session.Snapshot().Link == app.LinkManual {
			p.showStart()
		}
	})
	bind("Ctrl+Shift+E", func() {
		if p.session.Snapshot().Link == app.LinkManual {
			p.act(p.session.EndManual())
		}
	})
	bind(miniHotkey, func() { w.SetMini(!w.prefs.Mini) })
	bind("Ctrl+,", func() {
		if w.opts.OpenSettings != nil {
			w.opts.OpenSettings()
		}
	})
}

// parseHotkey reads "Ctrl+1", "Ctrl+Shift+E", "Alt+F5" or "F5". Ctrl means
// the platform's shortcut key (Cmd on macOS).
func parseHotkey(spec string) (*desktop.CustomShortcut, bool) {
	if spec == "" {
		return nil, false
	}
	parts := strings.Split(spec, "+")
	var mod fyne.KeyModifier
	for _, m := range parts[:len(parts)-1] {
		switch strings.ToLower(strings.TrimSpace(m)) {
		case "ctrl", "cmd":
			mod |= fyne.KeyModifierShortcutDefault
		case "shift":
			mod |= fyne.KeyModifierShift
		case "alt", "option":
			mod |= fyne.KeyModifierAlt
		default:
			return nil, false
		}
	}
	key := strings.TrimSpace(parts[len(parts)-1])
	name := fyne.KeyName(strings.ToUpper(key))
	switch key {
	case ",":
		name = fyne.KeyComma
	}
	if len(key) > 1 && (key[0] == 'F' || key[0] == 'f') {
		name = fyne.KeyName("F" + key[1:])
	}
	return &desktop.CustomShortcut{KeyName: name, Modifier: mod}, true
}
