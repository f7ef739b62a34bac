//go:build (linux || freebsd || openbsd || netbsd) && !wayland

package native

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// Modifiers that must not stop a key from matching: Caps Lock and Num Lock
// (Mod2 on every common layout).
var lockMasks = []uint16{0, xproto.ModMaskLock, xproto.ModMask2, xproto.ModMaskLock | xproto.ModMask2}

func grabHotkeys(keys []Key, pressed func(int)) (*Hotkeys, []Key, error) {
	display := os.Getenv("DISPLAY")
	if display == "" {
		return nil, nil, fmt.Errorf("global hotkeys: no X display: %w", ErrUnsupported)
	}
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, nil, fmt.Errorf("global hotkeys: connect to X display %q: %w", display, err)
	}
	setup := xproto.Setup(c)
	root := setup.DefaultScreen(c).Root
	first, count := setup.MinKeycode, byte(setup.MaxKeycode-setup.MinKeycode+1)
	km, err := xproto.GetKeyboardMapping(c, first, count).Reply()
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("global hotkeys: read the keyboard map: %w", err)
	}
	codeOf := func(k Key) (xproto.Keycode, bool) {
		sym := xproto.Keysym(strings.ToLower(k.Name)[0]) // Latin-1 keysyms are their characters
		per := int(km.KeysymsPerKeycode)
		for i := 0; i < int(count); i++ {
			for j := 0; j < per && j < 2; j++ { // unshifted and shifted
				if km.Keysyms[i*per+j] == sym {
					return first + xproto.Keycode(i), true
				}
			}
		}
		return 0, false
	}
	type grab struct {
		code xproto.Keycode
		mods uint16
	}
	grabs := map[grab]int{}
	var refused []Key
	for i, k := range keys {
		code, ok := codeOf(k)
		if !ok {
			refused = append(refused, k)
			continue
		}
		var mods uint16
		if k.Ctrl {
			mods |= xproto.ModMaskControl
		}
		if k.Alt {
			mods |= xproto.ModMask1
		}
		if k.Shift {
			mods |= xproto.ModMaskShift
		}
		var failed bool
		for _, lock := range lockMasks {
			if err := xproto.GrabKeyChecked(c, true, root, mods|lock, code, xproto.GrabModeAsync, xproto.GrabModeAsync).Check(); err != nil {
				failed = true // BadAccess: another client holds it
				break
			}
		}
		if failed {
			for _, lock := range lockMasks {
				xproto.UngrabKey(c, code, root, mods|lock)
			}
			refused = append(refused, k)
			continue
		}
		grabs[grab{code, mods}] = i
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := c.WaitForEvent()
			if ev == nil && err == nil {
				return // the connection is closed
			}
			kp, ok := ev.(xproto.KeyPressEvent)
			if !ok {
				continue
			}
			mods := kp.State &^ (xproto.ModMaskLock | xproto.ModMask2)
			if i, ok := grabs[grab{kp.Detail, mods}]; ok {
				pressed(i)
			}
		}
	}()
	var once sync.Once
	return &Hotkeys{closeFn: func() {
		once.Do(func() {
			// Give the keys back before hanging up: the server drops a
			// closed client's grabs only when it notices the hang-up, and
			// a grab by another program in between would be refused.
			// Checked requests wait for the server's answer.
			for g := range grabs {
				for _, lock := range lockMasks {
					_ = xproto.UngrabKeyChecked(c, g.code, root, g.mods|lock).Check()
				}
			}
			c.Close()
			<-done
		})
	}}, refused, nil
}
