package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/callguard/callguard/app/config"
	"github.com/callguard/callguard/ui/native"
)

// miniHotkey switches between the full panel and the mini strip.
const miniHotkey = "Ctrl+M"

// fullSize is the full panel's size: it fits a 1080p screen at 200 %
// scaling, and only the secondary content scrolls.
var fullSize = fyne.NewSize(440, 500)

// Show shows the window, keeps it above other windows as the preferences
// say, and grabs the global hotkeys when asked to. Call it on fyne's
// goroutine, before or after the app runs.
func (w *Window) Show() {
	w.win.Show()
	w.keepAbove(w.wantAbove(), 50)
	if w.opts.GlobalHotkeys && w.hotkeys == nil {
		w.grabGlobal()
	}
}

// Prefs reports how the window sits on the screen, and whether IT forces
// always on top.
func (w *Window) Prefs() (config.Window, bool) { return w.prefs, w.opts.OnTopLocked }

// SetMini switches to the one-line strip (on) or back to the full panel,
// and remembers the choice.
func (w *Window) SetMini(on bool) {
	if w.prefs.Mini == on {
		return
	}
	w.prefs.Mini = on
	w.layout()
	w.keepAbove(w.wantAbove(), 0)
	w.trayMenu(w.app, w.opts.Session.Snapshot())
	w.save()
}

// SetOnTop keeps the full panel above other windows, or not; the mini
// strip is always above. IT's choice, where it made one, stays.
func (w *Window) SetOnTop(on bool) {
	if w.opts.OnTopLocked || w.prefs.AlwaysOnTop == on {
		return
	}
	w.prefs.AlwaysOnTop = on
	w.keepAbove(w.wantAbove(), 0)
	w.save()
}

// HotkeyNote says, in words, which global hotkeys work and why others do
// not, for Settings.
func (w *Window) HotkeyNote() string { return w.hotkeyNote }

// OnTopNote is empty while keeping the window above works, else why not.
func (w *Window) OnTopNote() string { return w.onTopNote }

func (w *Window) wantAbove() bool { return w.prefs.Mini || w.prefs.AlwaysOnTop }

func (w *Window) save() {
	if w.opts.SavePrefs == nil {
		return
	}
	if err := w.opts.SavePrefs(w.prefs); err != nil {
		w.panel.act(fmt.Errorf("could not save the window settings: %w", err))
	}
}

// layout puts the panel or the strip in the window, at its size.
func (w *Window) layout() {
	if w.prefs.Mini {
		w.win.SetContent(w.mini.Content())
		w.win.Resize(w.mini.Content().MinSize())
		return
	}
	w.win.SetContent(w.panel.Content())
	w.win.Resize(fullSize)
}

// keepAbove applies on to the native window. Before fyne's loop has made
// the window there is no native window yet, so it tries again, up to
// tries times, a tenth of a second apart.
func (w *Window) keepAbove(on bool, tries int) {
	err := native.KeepAbove(w.win, on)
	if errors.Is(err, native.ErrUnsupported) && tries > 0 {
		time.AfterFunc(100*time.Millisecond, func() {
			fyne.Do(func() {
				if w.wantAbove() == on {
					w.keepAbove(on, tries-1)
				}
			})
		})
		return
	}
	w.onTopNote = ""
	if err != nil {
		w.onTopNote = "This system cannot keep the panel above other windows (" + err.Error() + ")."
		w.log().Warn("keep the panel above other windows", "err", err)
	}
}

func (w *Window) log() *slog.Logger {
	if w.opts.Logger != nil {
		return w.opts.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// globalKeys are the keys grabbed for the whole desktop: Ctrl+Alt with
// each pause reason's key (Ctrl+1 in the panel, Ctrl+Alt+1 anywhere: Ctrl+1
// alone belongs to the CRM and the browser), then Ctrl+Alt+R to resume.
func (w *Window) globalKeys() ([]native.Key, []string, []func()) {
	var keys []native.Key
	var what []string
	var acts []func()
	for _, r := range w.opts.Policy.PauseReasons {
		name, ok := strings.CutPrefix(r.Hotkey, "Ctrl+")
		if !ok || len(name) != 1 {
			continue
		}
		id := r.ID
		keys = append(keys, native.Key{Ctrl: true, Alt: true, Name: strings.ToUpper(name)})
		what = append(what, "pause for "+r.Label)
		acts = append(acts, func() { w.actAnywhere(w.opts.Session.Pause(id)) })
	}
	keys = append(keys, native.Key{Ctrl: true, Alt: true, Name: "R"})
	what = append(what, "resume")
	acts = append(acts, func() { w.actAnywhere(w.opts.Session.Resume()) })
	return keys, what, acts
}

// actAnywhere shows an intent's refusal from a global hotkey.
func (w *Window) actAnywhere(err error) { fyne.Do(func() { w.panel.act(err) }) }

func (w *Window) grabGlobal() {
	keys, what, acts := w.globalKeys()
	h, refused, err := native.GrabHotkeys(keys, func(i int) { acts[i]() })
	if err != nil {
		w.hotkeyNote = "Keys that work in every program are not available here: " + err.Error() + ". Use the panel's keys while it has the focus."
		w.log().Info("global hotkeys", "err", err)
		return
	}
	w.hotkeys = h
	var works, not []string
	for i, k := range keys {
		if containsKey(refused, k) {
			not = append(not, k.String())
		} else {
			works = append(works, k.String()+" "+what[i])
		}
	}
	note := ""
	if len(works) > 0 {
		note = "In every program: " + strings.Join(works, ", ") + "."
	}
	if len(not) > 0 {
		note = strings.TrimSpace(note + " The system refused " + strings.Join(not, ", ") + ": another program uses them.")
		w.log().Warn("global hotkeys refused", "keys", strings.Join(not, ", "))
	}
	w.hotkeyNote = note
}

func containsKey(keys []native.Key, k native.Key) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}
