//go:build !windows && !(darwin && cgo) && !((linux || freebsd || openbsd || netbsd) && !wayland)

package native

func keepAbove(any, bool) error { return ErrUnsupported }
