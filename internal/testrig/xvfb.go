package testrig

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb"
)

var (
	xOnce    sync.Once
	xDisplay string
	xErr     error
)

// Xvfb returns the DISPLAY of a virtual X server (1280x800, 24-bit) started
// once per test binary and stopped by Main.
func Xvfb(t testing.TB) string {
	t.Helper()
	xOnce.Do(func() {
		var stop func()
		if xDisplay, stop, xErr = startXvfb(); xErr == nil {
			atExit(stop)
		}
	})
	Need(t, "Xvfb", xErr)
	return xDisplay
}

// startXvfb starts the server with -noreset: without it, the server resets
// whenever its last client leaves, and a window opened in that moment fails
// with "Failed to open display" (a probe's connection closing just before the
// app's was enough). It lets the X server choose its own free display (-displayfd), so
// two test binaries started together can never both think they own one:
// picking a number here and probing its socket once let a second binary
// attach to the first one's server and lose its display when that binary
// finished.
func startXvfb() (string, func(), error) {
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		return "", nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, fmt.Errorf("xvfb: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset", "+extension", "GLX")
	cmd.ExtraFiles = []*os.File{w}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		return "", nil, fmt.Errorf("xvfb: %w", err)
	}
	w.Close()
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			cmd.Process.Kill()
			cmd.Wait()
			return "", nil, fmt.Errorf("xvfb exited without a display: %s", strings.TrimSpace(stderr.String()))
		}
		return ":" + n, func() { cmd.Process.Kill(); cmd.Wait() }, nil
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return "", nil, fmt.Errorf("xvfb chose no display within 10 s: %s", strings.TrimSpace(stderr.String()))
	}
}

// WaitForX waits until a client can connect to display, for up to 10 s,
// before a test starts a program that would give up at its first refusal.
// Every refusal is logged with what the X server's socket directory and
// process list held then, so a display that went away says so.
func WaitForX(t testing.TB, display string) {
	t.Helper()
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c, err := xgb.NewConnDisplay(display)
		if err == nil {
			c.Close()
			return
		}
		if last == nil || err.Error() != last.Error() {
			sockets, _ := exec.Command("ls", "-la", "/tmp/.X11-unix").CombinedOutput()
			servers, _ := exec.Command("pgrep", "-a", "Xvfb").CombinedOutput()
			t.Logf("X display %s refused a client: %v\n/tmp/.X11-unix:\n%s\nXvfb processes:\n%s", display, err, sockets, servers)
		}
		last = err
	}
	t.Fatalf("X display %s refused every client for 10 s: %v", display, last)
}
