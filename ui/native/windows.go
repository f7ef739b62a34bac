//go:build windows

package native

import (
	"fyne.io/fyne/v2/driver"
	"golang.org/x/sys/windows"
)

var (
	user32           = windows.NewLazySystemDLL("user32.dll")
	procSetWindowPos = user32.NewProc("SetWindowPos")
)

const (
	swpNoSize     = 0x0001
	swpNoMove     = 0x0002
	swpNoActivate = 0x0010
)

// The HWND_TOPMOST and HWND_NOTOPMOST pseudo-handles.
var (
	hwndTopmost   = ^uintptr(0)     // (HWND)-1
	hwndNoTopmost = ^uintptr(0) - 1 // (HWND)-2
)

func keepAbove(ctx any, on bool) error {
	w, ok := ctx.(driver.WindowsWindowContext)
	if !ok || w.HWND == 0 {
		return ErrUnsupported
	}
	after := hwndNoTopmost
	if on {
		after = hwndTopmost
	}
	if r, _, err := procSetWindowPos.Call(w.HWND, after, 0, 0, 0, 0, swpNoMove|swpNoSize|swpNoActivate); r == 0 {
		return err
	}
	return nil
}
