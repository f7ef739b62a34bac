package rtpengine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrTimeout is matched (errors.Is) by every *TimeoutError.
	ErrTimeout = errors.New("rtpengine: no answer in time")
	// ErrUnknownCall is matched by an *Error whose reason is that
	// rtpengine has no call with that Call-ID.
	ErrUnknownCall = errors.New("rtpengine: no such call")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("rtpengine: client closed")
	// ErrBadAnswer: rtpengine answered something that is not an ng answer
	// of the expected shape.
	ErrBadAnswer = errors.New("rtpengine: malformed answer")
)

// TimeoutError says that rtpengine did not answer a command in time. The
// command may have been applied (its answer may be what was lost), so it
// must be treated as unconfirmed, never as done.
type TimeoutError struct {
	Command string        // e.g. "stop recording"
	CallID  string        // "" for commands without one
	Addr    string        // rtpengine's ng address
	Sent    int           // copies sent, all with the same cookie
	Timeout time.Duration // the time the command had
	Waited  time.Duration // from the first copy to giving up
	// Refused is true when the system reported that nothing listens on
	// Addr (ICMP port unreachable): rtpengine is down rather than slow.
	Refused bool
}

func (e *TimeoutError) Error() string {
	why := ""
	if e.Refused {
		why = "; nothing is listening there"
	}
	return fmt.Sprintf("rtpengine at %s did not answer %q%s within %v (%d attempts%s)",
		e.Addr, e.Command, forCall(e.CallID), e.Timeout.Round(time.Millisecond), e.Sent, why)
}

// Is makes errors.Is(err, ErrTimeout) and errors.Is(err,
// context.DeadlineExceeded) true.
func (e *TimeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// Error is an answer from rtpengine that refuses the command: result
// "error" with its error-reason, or "load limit" with its message.
type Error struct {
	Command string
	CallID  string
	Result  string // "error" or "load limit"
	Reason  string // rtpengine's words, e.g. "Unknown call-id"
}

func (e *Error) Error() string {
	return fmt.Sprintf("rtpengine refused %q%s: %s", e.Command, forCall(e.CallID), e.Reason)
}

// Is makes errors.Is(err, ErrUnknownCall) true when rtpengine did not know
// the call.
func (e *Error) Is(target error) bool {
	return target == ErrUnknownCall && e.Reason == "Unknown call-id"
}

func forCall(callID string) string {
	if callID == "" {
		return ""
	}
	return fmt.Sprintf(" for call %q", callID)
}
