//go:build (linux || freebsd || openbsd || netbsd) && !wayland

package native

import (
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"os"

	"fyne.io/fyne/v2/driver"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// xgb logs to stderr when it connects without an ~/.Xauthority (the
// usual case under a display manager's own auth); callguard says what
// matters itself.
func init() { xgb.Logger = log.New(io.Discard, "", 0) }

func keepAbove(ctx any, on bool) error {
	x, ok := ctx.(driver.X11WindowContext)
	if !ok || x.WindowHandle == 0 {
		return ErrUnsupported
	}
	return SetAboveX11(os.Getenv("DISPLAY"), uint32(x.WindowHandle), on)
}

// SetAboveX11 asks the window manager of display to keep X window win above
// others (_NET_WM_STATE_ABOVE, EWMH), or to stop. A window manager that
// does not follow EWMH ignores it.
func SetAboveX11(display string, win uint32, on bool) error {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return fmt.Errorf("connect to X display %q: %w", display, err)
	}
	defer c.Close()
	state, err := atom(c, "_NET_WM_STATE")
	if err != nil {
		return err
	}
	above, err := atom(c, "_NET_WM_STATE_ABOVE")
	if err != nil {
		return err
	}
	action := uint32(0) // _NET_WM_STATE_REMOVE
	if on {
		action = 1 // _NET_WM_STATE_ADD
		// A window the window manager has not taken on yet is read from
		// its property when it is; one it manages changes by the message.
		b := make([]byte, 4)
		binary.LittleEndian.PutUint32(b, uint32(above))
		if err := xproto.ChangePropertyChecked(c, xproto.PropModeAppend, xproto.Window(win), state, xproto.AtomAtom, 32, 1, b).Check(); err != nil {
			return fmt.Errorf("set _NET_WM_STATE: %w", err)
		}
	}
	ev := xproto.ClientMessageEvent{
		Format: 32,
		Window: xproto.Window(win),
		Type:   state,
		Data:   xproto.ClientMessageDataUnionData32New([]uint32{action, uint32(above), 0, 1, 0}), // 1: a normal application
	}
	root := xproto.Setup(c).DefaultScreen(c).Root
	mask := uint32(xproto.EventMaskSubstructureRedirect | xproto.EventMaskSubstructureNotify)
	if err := xproto.SendEventChecked(c, false, root, mask, string(ev.Bytes())).Check(); err != nil {
		return fmt.Errorf("send _NET_WM_STATE: %w", err)
	}
	return nil
}

func atom(c *xgb.Conn, name string) (xproto.Atom, error) {
	r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
	if err != nil {
		return 0, fmt.Errorf("intern %s: %w", name, err)
	}
	return r.Atom, nil
}

// AboveX11 reports whether win's _NET_WM_STATE, as the window manager set
// it, holds _NET_WM_STATE_ABOVE.
func AboveX11(display string, win uint32) (bool, error) {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return false, fmt.Errorf("connect to X display %q: %w", display, err)
	}
	defer c.Close()
	state, err := atom(c, "_NET_WM_STATE")
	if err != nil {
		return false, err
	}
	above, err := atom(c, "_NET_WM_STATE_ABOVE")
	if err != nil {
		return false, err
	}
	r, err := xproto.GetProperty(c, false, xproto.Window(win), state, xproto.AtomAtom, 0, 64).Reply()
	if err != nil {
		return false, fmt.Errorf("read _NET_WM_STATE: %w", err)
	}
	for i := 0; i+4 <= len(r.Value); i += 4 {
		if xproto.Atom(binary.LittleEndian.Uint32(r.Value[i:])) == above {
			return true, nil
		}
	}
	return false, nil
}
