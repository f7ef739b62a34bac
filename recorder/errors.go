package recorder

import (
	"errors"

	"github.com/callguard/callguard/artefact"
)

// Errors a recording can fail with. They are wrapped with detail (which
// device, which file); callers test them with errors.Is and show the detail
// to the officer, who can act on it.
var (
	// ErrNoDevice: the capture device is not there or cannot capture 16 kHz.
	ErrNoDevice = errors.New("recorder: no usable audio input device")
	// ErrDeviceLost: the device stopped delivering audio in the middle of a call.
	ErrDeviceLost = errors.New("recorder: audio input device lost")
	// ErrDiskFull: the spool's file system has no room left.
	ErrDiskFull = errors.New("recorder: disk full")
	// ErrWrite: the recording could not be written (other than a full disk).
	ErrWrite = errors.New("recorder: cannot write recording")
	// ErrNoRecipient: no organisation key to encrypt to, so nothing may be recorded.
	ErrNoRecipient = errors.New("recorder: no recipient key configured")
	// ErrTooLong: the recording reached the WAV size limit (about 18 hours).
	ErrTooLong = errors.New("recorder: recording too long")
	// ErrStopped: the recording was already stopped (by Stop or by a failure).
	ErrStopped = errors.New("recorder: recording already stopped")
	// ErrClosed: the Recorder was closed.
	ErrClosed = errors.New("recorder: closed")
	// ErrVerify: a recording does not match its manifest.
	ErrVerify = artefact.ErrVerify
)
