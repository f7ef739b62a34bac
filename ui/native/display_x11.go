//go:build (linux || freebsd || openbsd || netbsd) && !wayland

package native

import (
	"fmt"
	"os"
	"time"

	"github.com/jezek/xgb"
)

// WaitForDisplay waits up to timeout for the X display named by DISPLAY to
// take a client, and says why not if it never does. A session's autostart
// can run before its X server answers, and a busy server may refuse a
// client for a moment; the window toolkit gives up at the first refusal.
// Without DISPLAY (a Wayland session) there is nothing to wait for.
//
// The first connection stays open for the life of the process: an X server
// with no other client resets when its last one leaves, and a window opened
// during that reset fails as if the display were not there.
func WaitForDisplay(timeout time.Duration) error {
	display := os.Getenv("DISPLAY")
	if display == "" {
		return nil
	}
	var err error
	for deadline := time.Now().Add(timeout); ; time.Sleep(100 * time.Millisecond) {
		// The connection is left open on purpose (see above); its reader
		// goroutine holds it until the process exits.
		if _, err = xgb.NewConnDisplay(display); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the X display %s refused every connection for %v: %w", display, timeout, err)
		}
	}
}
