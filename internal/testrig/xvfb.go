package testrig

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
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
	xOnce.Do(func() { xDisplay, xErr = startXvfb() })
	Need(t, "Xvfb", xErr)
	return xDisplay
}

func startXvfb() (string, error) {
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		return "", err
	}
	for n := 90 + os.Getpid()%400; n < 1000; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		display := fmt.Sprintf(":%d", n)
		cmd := exec.Command(bin, display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "+extension", "GLX")
		if err := cmd.Start(); err != nil {
			return "", err
		}
		sock := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
		for range 100 {
			if c, err := net.Dial("unix", sock); err == nil {
				c.Close()
				atExit(func() { cmd.Process.Kill(); cmd.Wait() })
				return display, nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	return "", fmt.Errorf("no free X display")
}

func freePortNoT() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 55432
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
