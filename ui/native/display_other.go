//go:build !((linux || freebsd || openbsd || netbsd) && !wayland)

package native

import "time"

// WaitForDisplay has nothing to wait for where the desktop is not X11: the
// window system is there as long as the session is.
func WaitForDisplay(time.Duration) error { return nil }
