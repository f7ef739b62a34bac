//go:build (linux || freebsd || openbsd || netbsd) && !wayland

package native

import (
	"encoding/binary"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/callguard/callguard/internal/testrig"
)

func TestMain(m *testing.M) { testrig.Main(m) }

// xdo runs xdotool on display.
func xdo(t *testing.T, display string, args ...string) {
	t.Helper()
	cmd := exec.Command(testrig.NeedCommand(t, "xdotool"), args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
}

// Keys grabbed for the desktop arrive whatever has the focus (here: no
// window at all, the root); a key another program holds is reported as
// refused, and given back it can be had.
func TestHotkeysArriveAndRefusalsAreReported(t *testing.T) {
	display := testrig.Xvfb(t)
	t.Setenv("DISPLAY", display)
	keys := []Key{{Ctrl: true, Alt: true, Name: "1"}, {Ctrl: true, Alt: true, Name: "R"}}
	got := make(chan int, 8)
	h, refused, err := GrabHotkeys(keys, func(i int) { got <- i })
	if err != nil || len(refused) > 0 {
		t.Fatalf("grab: refused %v, %v", refused, err)
	}
	t.Cleanup(h.Close)
	for i, k := range []string{"ctrl+alt+1", "ctrl+alt+r"} {
		xdo(t, display, "key", "--clearmodifiers", k)
		select {
		case n := <-got:
			if n != i {
				t.Errorf("%s arrived as key %d, want %d", k, n, i)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s never arrived", k)
		}
	}
	xdo(t, display, "key", "ctrl+1") // not grabbed: goes to the focus
	select {
	case n := <-got:
		t.Fatalf("Ctrl+1 (without Alt) arrived as key %d", n)
	case <-time.After(300 * time.Millisecond):
	}

	_, refused, err = GrabHotkeys(keys[:1], func(int) {})
	if err != nil || len(refused) != 1 || refused[0] != keys[0] {
		t.Fatalf("a second grab of %s: refused %v, %v; want it refused", keys[0], refused, err)
	}
	h.Close()
	h2, refused, err := GrabHotkeys(keys[:1], func(int) {})
	if err != nil || len(refused) > 0 {
		t.Fatalf("after Close the key is still held: refused %v, %v", refused, err)
	}
	h2.Close()
	if _, _, err := GrabHotkeys([]Key{{Ctrl: true, Name: "F5"}}, func(int) {}); err == nil {
		t.Error("a key that is not a letter or digit was accepted")
	}
}

// stacking is the window manager's stacking order, bottom first.
func stacking(t *testing.T, c *xgb.Conn) []xproto.Window {
	t.Helper()
	a, err := atom(c, "_NET_CLIENT_LIST_STACKING")
	if err != nil {
		t.Fatal(err)
	}
	r, err := xproto.GetProperty(c, false, xproto.Setup(c).DefaultScreen(c).Root, a, xproto.AtomWindow, 0, 1024).Reply()
	if err != nil {
		t.Fatal(err)
	}
	var ws []xproto.Window
	for i := 0; i+4 <= len(r.Value); i += 4 {
		ws = append(ws, xproto.Window(binary.LittleEndian.Uint32(r.Value[i:])))
	}
	return ws
}

func newWindow(t *testing.T, c *xgb.Conn, name string) xproto.Window {
	t.Helper()
	s := xproto.Setup(c).DefaultScreen(c)
	id, err := xproto.NewWindowId(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := xproto.CreateWindowChecked(c, s.RootDepth, id, s.Root, 0, 0, 400, 300, 0,
		xproto.WindowClassInputOutput, s.RootVisual, xproto.CwBackPixel, []uint32{s.WhitePixel}).Check(); err != nil {
		t.Fatal(err)
	}
	xproto.ChangeProperty(c, xproto.PropModeReplace, id, xproto.AtomWmName, xproto.AtomString, 8, uint32(len(name)), []byte(name))
	if err := xproto.MapWindowChecked(c, id).Check(); err != nil {
		t.Fatal(err)
	}
	return id
}

// above reports whether a is stacked over b.
func above(ws []xproto.Window, a, b xproto.Window) bool {
	ia, ib := slices.Index(ws, a), slices.Index(ws, b)
	return ia >= 0 && ib >= 0 && ia > ib
}

// With a window manager that follows EWMH (openbox), a window kept above
// stays over another window raised and activated over it; let go, the
// other window covers it. The second half shows the check can fail.
func TestKeepAboveUnderOpenbox(t *testing.T) {
	display := testrig.WindowManager(t)
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	panel := newWindow(t, c, "panel")
	other := newWindow(t, c, "softphone")
	testrig.Eventually(t, 30*time.Second, func() bool { // openbox's first start builds a font cache
		ws := stacking(t, c)
		return slices.Contains(ws, panel) && slices.Contains(ws, other)
	}, "openbox never managed both windows %d %d: %v", panel, other, stacking(t, c))

	raise := func() {
		xdo(t, display, "windowactivate", "--sync", itoa(other))
		xdo(t, display, "windowraise", itoa(other))
	}
	if err := SetAboveX11(display, uint32(panel), true); err != nil {
		t.Fatal(err)
	}
	testrig.Eventually(t, 5*time.Second, func() bool { on, _ := AboveX11(display, uint32(panel)); return on },
		"openbox never set _NET_WM_STATE_ABOVE")
	raise()
	time.Sleep(200 * time.Millisecond) // let openbox restack
	if ws := stacking(t, c); !above(ws, panel, other) {
		t.Fatalf("the softphone covers the panel kept above: stacking %v (panel %d, softphone %d)", ws, panel, other)
	}

	if err := SetAboveX11(display, uint32(panel), false); err != nil {
		t.Fatal(err)
	}
	testrig.Eventually(t, 5*time.Second, func() bool { on, _ := AboveX11(display, uint32(panel)); return !on },
		"openbox never cleared _NET_WM_STATE_ABOVE")
	raise()
	testrig.Eventually(t, 5*time.Second, func() bool { return above(stacking(t, c), other, panel) },
		"let go, the panel still stays over the softphone: %v", stacking(t, c))
}

func itoa(w xproto.Window) string { return strconv.FormatUint(uint64(w), 10) }
