package native

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
)

// KeepAbove keeps w above other windows (on) or lets them cover it again.
// Call it on fyne's goroutine once w is shown; a window that is not shown
// yet has no native window and yields ErrUnsupported.
func KeepAbove(w fyne.Window, on bool) error {
	nw, ok := w.(driver.NativeWindow)
	if !ok {
		return fmt.Errorf("keep above: %w", ErrUnsupported)
	}
	var err error
	nw.RunNative(func(ctx any) { err = keepAbove(ctx, on) })
	if err != nil {
		return fmt.Errorf("keep above: %w", err)
	}
	return nil
}
