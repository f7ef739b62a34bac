package testrig

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// WindowManager returns the DISPLAY of a virtual X server of the test's
// own, managed by openbox (a window manager that follows EWMH, so
// "keep above" and stacking mean there what they mean on an officer's
// desktop). Both stop when the test ends. The shared Xvfb has no window
// manager, so that the other tests' screenshots stay as they are.
func WindowManager(t testing.TB) string {
	t.Helper()
	ob := NeedCommand(t, "openbox")
	display, stop, err := startXvfb()
	Need(t, "Xvfb", err)
	t.Cleanup(stop)
	cmd := exec.Command(ob, "--sm-disable")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		Need(t, "openbox", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		if t.Failed() {
			select {
			case <-exited:
				t.Logf("openbox had exited (%v):\n%s", cmd.ProcessState, logs.String())
			default:
				t.Logf("openbox output:\n%s", logs.String())
			}
		}
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	// openbox is ready once it manages windows: its EWMH check window alone
	// is not enough (a window mapped just after it appeared was, now and
	// then, never managed). A probe window is mapped until one is.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if probeManaged(display, 2*time.Second) {
			return display
		}
		select {
		case <-exited:
			Need(t, "openbox", errors.New("exited at start: "+logs.String()))
		default:
		}
		if time.Now().After(deadline) {
			Need(t, "openbox", errors.New("managed no window in 30 s: "+logs.String()))
		}
	}
}

// probeManaged maps a small window on display and reports whether the
// window manager lists it in _NET_CLIENT_LIST within wait; the window is
// destroyed either way.
func probeManaged(display string, wait time.Duration) bool {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return false
	}
	defer c.Close()
	s := xproto.Setup(c).DefaultScreen(c)
	id, err := xproto.NewWindowId(c)
	if err != nil {
		return false
	}
	if xproto.CreateWindowChecked(c, s.RootDepth, id, s.Root, 0, 0, 10, 10, 0,
		xproto.WindowClassInputOutput, s.RootVisual, 0, nil).Check() != nil {
		return false
	}
	defer xproto.DestroyWindow(c, id)
	if xproto.MapWindowChecked(c, id).Check() != nil {
		return false
	}
	name := "_NET_CLIENT_LIST"
	a, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
	if err != nil {
		return false
	}
	for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		r, err := xproto.GetProperty(c, false, s.Root, a.Atom, xproto.AtomWindow, 0, 1024).Reply()
		if err != nil {
			return false
		}
		for i := 0; i+4 <= len(r.Value); i += 4 {
			if xproto.Window(binary.LittleEndian.Uint32(r.Value[i:])) == id {
				return true
			}
		}
	}
	return false
}

// CoverWindow opens a plain white window titled title that fills display's
// screen (as a softphone or CRM maximised over the panel would) and
// activates and raises it; it returns the window's id for xdotool. Call it
// again with the id to raise it again. It closes when the test ends.
func CoverWindow(t testing.TB, display, title string) string {
	t.Helper()
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatalf("cover window: %v", err)
	}
	t.Cleanup(c.Close)
	s := xproto.Setup(c).DefaultScreen(c)
	id, err := xproto.NewWindowId(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := xproto.CreateWindowChecked(c, s.RootDepth, id, s.Root, 0, 0, s.WidthInPixels, s.HeightInPixels, 0,
		xproto.WindowClassInputOutput, s.RootVisual, xproto.CwBackPixel, []uint32{s.WhitePixel}).Check(); err != nil {
		t.Fatalf("cover window: %v", err)
	}
	xproto.ChangeProperty(c, xproto.PropModeReplace, id, xproto.AtomWmName, xproto.AtomString, 8, uint32(len(title)), []byte(title))
	if err := xproto.MapWindowChecked(c, id).Check(); err != nil {
		t.Fatalf("cover window: %v", err)
	}
	win := strconv.FormatUint(uint64(id), 10)
	Raise(t, display, win)
	return win
}

// Raise activates window id and raises it over the others, as a click on
// it would.
func Raise(t testing.TB, display, id string) {
	t.Helper()
	xdotool := NeedCommand(t, "xdotool")
	// The window manager may take a moment to take a new window on.
	Eventually(t, 10*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, xdotool, "windowactivate", "--sync", id, "windowraise", id)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		return cmd.Run() == nil
	}, "xdotool could not raise window %s", id)
}
