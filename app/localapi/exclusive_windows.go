//go:build windows

package localapi

import (
	"errors"
	"syscall"
)

// Winsock's values (winsock2.h); the syscall package names few of them.
const (
	soExclusiveAddrUse = ^syscall.SO_REUSEADDR // SO_EXCLUSIVEADDRUSE
	wsaEACCES          = syscall.Errno(10013)
	wsaEAFNOSUPPORT    = syscall.Errno(10047)
	wsaEADDRINUSE      = syscall.Errno(10048)
	wsaEADDRNOTAVAIL   = syscall.Errno(10049)
)

// exclusive holds the port exclusively: without it Windows lets another
// program bind the same address and port with SO_REUSEADDR and take the
// CRM pages' connections.
func exclusive(network, address string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, soExclusiveAddrUse, 1)
	}); err != nil {
		return err
	}
	return serr
}

// portInUse: in use, or (WSAEACCES) held exclusively by another program.
func portInUse(err error) bool {
	return errors.Is(err, wsaEADDRINUSE) || errors.Is(err, wsaEACCES)
}

func noSuchAddress(err error) bool {
	return errors.Is(err, wsaEADDRNOTAVAIL) || errors.Is(err, wsaEAFNOSUPPORT)
}
