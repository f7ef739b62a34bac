//go:build darwin && cgo

package native

/*
#cgo CFLAGS: -x objective-c
#cgo LDFLAGS: -framework AppKit
#import <AppKit/AppKit.h>

static void callguard_set_level(uintptr_t w, int on) {
	NSWindow *win = (NSWindow *)w;
	dispatch_async(dispatch_get_main_queue(), ^{
		[win setLevel:(on ? NSFloatingWindowLevel : NSNormalWindowLevel)];
	});
}
*/
import "C"

import "fyne.io/fyne/v2/driver"

func keepAbove(ctx any, on bool) error {
	w, ok := ctx.(driver.MacWindowContext)
	if !ok || w.NSWindow == 0 {
		return ErrUnsupported
	}
	v := C.int(0)
	if on {
		v = 1
	}
	C.callguard_set_level(C.uintptr_t(w.NSWindow), v)
	return nil
}
