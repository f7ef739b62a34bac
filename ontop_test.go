package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/ui"
	"github.com/callguard/callguard/ui/native"
)

// xkey sends keys to display with xdotool, to whatever has the focus.
func xkey(t *testing.T, display string, args ...string) {
	t.Helper()
	cmd := exec.Command(testrig.NeedCommand(t, "xdotool"), args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
}

// showsMini waits until the mini strip's screenshot shows state's colour
// on its state word (at the strip's left end), and keeps it as name.
func showsMini(t *testing.T, display, id string, state app.RecordingState, name string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	want := ui.StateColour(state)
	var chip float64
	var b image.Rectangle
	var last []byte
	deadline := time.Now().Add(15 * time.Second)
	for {
		img := screenshot(t, display, id, path)
		b = img.Bounds()
		mid := b.Min.Y + b.Dy()/2
		// Above the word, inside the chip's padding: the chip is 36 high.
		chip = share(subImage(img, image.Rect(b.Min.X+12, mid-14, b.Min.X+60, mid-11)), want)
		shot, _ := os.ReadFile(path)
		// Twice the same picture: a strip that grew has drawn all of itself.
		if chip >= 0.9 && b.Dy() < 80 && bytes.Equal(shot, last) {
			break
		}
		last = shot
		if time.Now().After(deadline) {
			t.Fatalf("the strip (%v) never showed %s: %.0f%% of its state word's edge in %v", b, state, chip*100, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	keepScreenshot(t, path, name)
}

// keepScreenshotAround keeps, as name, the screen around window id (its
// frame and what lies behind), when screenshots are being updated.
func keepScreenshotAround(t *testing.T, display, id, name string) {
	t.Helper()
	if os.Getenv("CALLGUARD_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	geo := exec.Command(testrig.NeedCommand(t, "xdotool"), "getwindowgeometry", "--shell", id)
	geo.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := geo.Output()
	if err != nil {
		t.Fatal(err)
	}
	var x, y, w, h int
	for _, line := range strings.Fields(string(out)) {
		fmt.Sscanf(line, "X=%d", &x)
		fmt.Sscanf(line, "Y=%d", &y)
		fmt.Sscanf(line, "WIDTH=%d", &w)
		fmt.Sscanf(line, "HEIGHT=%d", &h)
	}
	path := filepath.Join(t.TempDir(), "root.png")
	img := screenshot(t, display, "root", path)
	const margin = 60
	r := image.Rect(x-margin, y-margin-30, x+w+margin, y+h+margin).Intersect(img.Bounds())
	f, err := os.Create(filepath.Join("docs", "screenshots", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, subImage(img, r)); err != nil {
		t.Fatal(err)
	}
}

// TestPanelStaysOnTopUnderAWindowManager runs callguard under openbox with
// a softphone window that fills the screen: raised over the panel, it
// does not cover it; the global keys pause and resume while the softphone
// has the focus; Ctrl+M switches to the mini strip, which stays on top
// too, and the choice is saved.
func TestPanelStaysOnTopUnderAWindowManager(t *testing.T) {
	display := testrig.WindowManager(t)
	alsa := testrig.NewALSA(t, "mic")
	feed(t, alsa.Input("mic"))
	in := start(t, nil, append(alsa.Env(), "DISPLAY="+display))
	id := window(t, display, "callguard")
	xid, _ := strconv.ParseUint(id, 10, 32)
	testrig.Eventually(t, 15*time.Second, func() bool { on, _ := native.AboveX11(display, uint32(xid)); return on },
		"callguard's window never got _NET_WM_STATE_ABOVE")

	phone := testrig.CoverWindow(t, display, "softphone")
	shows(t, display, id, app.StateIdle, "on-top.png") // a covered window would show the softphone's white
	keepScreenshotAround(t, display, id, "on-top.png")

	if code, body := in.call(t, "POST", "/v1/calls", `{"direction":"inbound","number":"07700 900123"}`); code != 201 {
		t.Fatalf("start call: %d %v", code, body)
	}
	in.waitState(t, "recording")
	testrig.Raise(t, display, phone) // the officer types in the softphone
	xkey(t, display, "key", "--clearmodifiers", "ctrl+alt+1")
	in.waitState(t, "paused")
	xkey(t, display, "key", "--clearmodifiers", "ctrl+alt+r")
	in.waitState(t, "recording")

	xkey(t, display, "windowactivate", "--sync", id, "key", "--clearmodifiers", "ctrl+m")
	testrig.Raise(t, display, phone)
	showsMini(t, display, id, app.StateRecording, "mini-recording.png")
	keepScreenshotAround(t, display, id, "mini-on-top.png")
	steps := []struct {
		method, path, body string
		state              app.RecordingState
		shot               string
	}{
		{"POST", "/v1/pause", `{"reason":"payment"}`, app.StatePaused, "mini-paused.png"},
		{"POST", "/v1/resume", ``, app.StateRecording, ""},
		{"DELETE", "/v1/calls/current", ``, app.StateIdle, "mini-idle.png"},
		{"POST", "/v1/calls", `{"direction":"outbound","number":"01632 960123"}`, app.StateAwaitingNotice, "mini-awaiting-notice.png"},
		{"POST", "/v1/notice", `{"outcome":"objected"}`, app.StateDeclined, "mini-declined.png"},
	}
	for _, s := range steps {
		if code, body := in.call(t, s.method, s.path, s.body); code >= 300 {
			t.Fatalf("%s %s: %d %v", s.method, s.path, code, body)
		}
		in.waitState(t, s.state.String())
		if s.shot != "" {
			showsMini(t, display, id, s.state, s.shot)
		}
	}
	var saved struct {
		Window struct {
			Mini        bool `json:"mini"`
			AlwaysOnTop bool `json:"always_on_top"`
		} `json:"window"`
	}
	b, err := os.ReadFile(filepath.Join(in.dir, "settings.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &saved); err != nil || !saved.Window.Mini || !saved.Window.AlwaysOnTop {
		t.Fatalf("settings saved %s (%v): want mini mode remembered, always on top kept", b, err)
	}
}
