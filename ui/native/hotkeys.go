package native

import "fmt"

// Hotkeys are keys grabbed for the whole desktop until Close: they reach
// callguard whichever program has the focus.
type Hotkeys struct {
	closeFn func()
}

// GrabHotkeys grabs keys for the whole desktop and calls pressed(i), on a
// goroutine of its own, each time keys[i] is pressed. It grabs every key it
// can and returns in refused those the OS would not give (another program
// holds them); err is for a system that grants none at all, such as macOS
// or Wayland here, and then h is nil. Close h to give the keys back.
func GrabHotkeys(keys []Key, pressed func(i int)) (h *Hotkeys, refused []Key, err error) {
	for _, k := range keys {
		if !k.validName() {
			return nil, nil, fmt.Errorf("hotkey %s: only a letter or a digit can be grabbed", k)
		}
	}
	return grabHotkeys(keys, pressed)
}

// Close gives the keys back and stops calling pressed. It is safe on nil.
func (h *Hotkeys) Close() {
	if h != nil && h.closeFn != nil {
		h.closeFn()
		h.closeFn = nil
	}
}
