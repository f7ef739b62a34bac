// Package native does for the officer's windows what fyne has no API for:
// keep a window above the softphone and the CRM, and pause or resume from
// the keyboard while another program has the focus. It reaches the
// platform window through fyne's driver.NativeWindow; it never draws and
// never decides what a key does (the caller passes the action).
//
// X11 (Linux and the BSDs) talks EWMH and core-protocol key grabs over its
// own connection (github.com/jezek/xgb); Windows uses user32 through
// golang.org/x/sys/windows; macOS sets the NSWindow level with cgo and has
// no global hotkeys here.
package native

import "errors"

// ErrUnsupported is returned where the platform (or its window system, e.g.
// Wayland) offers no way to do what was asked.
var ErrUnsupported = errors.New("not available on this system")

// Key is a key with its modifiers, as Ctrl+Alt+1: Name is one letter or
// digit, upper case.
type Key struct {
	Ctrl, Alt, Shift bool
	Name             string
}

// String is the key as the officer reads it, e.g. "Ctrl+Alt+1".
func (k Key) String() string {
	s := ""
	if k.Ctrl {
		s += "Ctrl+"
	}
	if k.Alt {
		s += "Alt+"
	}
	if k.Shift {
		s += "Shift+"
	}
	return s + k.Name
}

// validName reports whether Name is a key every platform here can grab.
func (k Key) validName() bool {
	if len(k.Name) != 1 {
		return false
	}
	c := k.Name[0]
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
}
