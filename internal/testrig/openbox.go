package testrig

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// WindowManager returns the DISPLAY of a virtual X server of the test's
// own, managed by openbox (a window manager that follows EWMH, so
// "keep above" and stacking mean there what they mean on an officer's
// desktop). Both stop when the test ends. The shared Xvfb has no window
// manager, so that the other tests' screenshots stay as they are.
func WindowManager(t testing.TB) string {
	t.Helper()
	ob := NeedCommand(t, "openbox")
	xprop := NeedCommand(t, "xprop")
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
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	// openbox is ready once it has put up its EWMH check window.
	deadline := time.Now().Add(15 * time.Second)
	for {
		q := exec.Command(xprop, "-root", "_NET_SUPPORTING_WM_CHECK")
		q.Env = cmd.Env
		out, _ := q.Output()
		if strings.Contains(string(out), "window id #") {
			return display
		}
		select {
		case <-exited:
			Need(t, "openbox", errors.New("exited at start: "+logs.String()))
		default:
		}
		if time.Now().After(deadline) {
			Need(t, "openbox", errors.New("no EWMH check window after 15 s: "+logs.String()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
