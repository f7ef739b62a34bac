//go:build windows

package native

import (
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	procRegisterHotKey     = user32.NewProc("RegisterHotKey")
	procUnregisterHotKey   = user32.NewProc("UnregisterHotKey")
	procGetMessageW        = user32.NewProc("GetMessageW")
	procPostThreadMessageW = user32.NewProc("PostThreadMessageW")
)

const (
	modAlt      = 0x0001
	modControl  = 0x0002
	modShift    = 0x0004
	modNoRepeat = 0x4000
	wmHotkey    = 0x0312
	wmQuit      = 0x0012
)

type msg struct {
	hwnd    uintptr
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      struct{ x, y int32 }
}

// grabHotkeys registers the keys on a thread of their own, which then waits
// for WM_HOTKEY: Windows sends it to the thread that registered the key.
func grabHotkeys(keys []Key, pressed func(int)) (*Hotkeys, []Key, error) {
	type result struct {
		thread  uint32
		refused []Key
	}
	ready := make(chan result)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var refused []Key
		var ids []uintptr
		for i, k := range keys {
			mods := uintptr(modNoRepeat)
			if k.Ctrl {
				mods |= modControl
			}
			if k.Alt {
				mods |= modAlt
			}
			if k.Shift {
				mods |= modShift
			}
			id := uintptr(i + 1)
			if r, _, _ := procRegisterHotKey.Call(0, id, mods, uintptr(k.Name[0])); r == 0 {
				refused = append(refused, k) // another program holds it
				continue
			}
			ids = append(ids, id)
		}
		ready <- result{windows.GetCurrentThreadId(), refused}
		var m msg
		for {
			r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
			if int32(r) <= 0 { // WM_QUIT or an error
				break
			}
			if m.message == wmHotkey && m.wParam >= 1 && int(m.wParam) <= len(keys) {
				pressed(int(m.wParam) - 1)
			}
		}
		for _, id := range ids {
			procUnregisterHotKey.Call(0, id)
		}
	}()
	res := <-ready
	var once sync.Once
	return &Hotkeys{closeFn: func() {
		once.Do(func() {
			procPostThreadMessageW.Call(uintptr(res.thread), wmQuit, 0, 0)
			<-done
		})
	}}, res.refused, nil
}
