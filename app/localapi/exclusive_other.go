//go:build !windows

package localapi

import (
	"errors"
	"syscall"
)

// exclusive leaves the socket as Go makes it: on Unix a second program
// cannot bind a port that is listened on (without SO_REUSEPORT, which Go
// does not set).
func exclusive(network, address string, c syscall.RawConn) error { return nil }

func portInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

func noSuchAddress(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}
