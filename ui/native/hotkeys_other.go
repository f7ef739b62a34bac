//go:build !windows && !((linux || freebsd || openbsd || netbsd) && !wayland)

package native

import "fmt"

func grabHotkeys([]Key, func(int)) (*Hotkeys, []Key, error) {
	return nil, nil, fmt.Errorf("global hotkeys: %w", ErrUnsupported)
}
