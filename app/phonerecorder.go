package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// PhoneRecorder is the phone system's own recorder of calls (rtpengine
// beside Kamailio, and in time Asterisk's MixMonitor, FreeSWITCH's
// uuid_record or Amazon Connect): the core starts, stops and restarts its
// recording of a call. Each method returns only once the phone system
// confirmed the command; an error means it may or may not have obeyed.
type PhoneRecorder interface {
	// Record makes the phone system record call from now on.
	Record(ctx context.Context, call PhoneCall) error
	// Stop makes the phone system stop recording call from now on.
	Stop(ctx context.Context, call PhoneCall) error
}

// PhoneCall names a call to the phone system's recorder.
type PhoneCall struct {
	ID        string // callguard's call id
	SIPCallID string // the dialog's call-id in the phone system's feed (RFC 4235)
	// OfficerTag is the officer's SIP tag in the dialog (the feed's
	// local-tag; "" if the feed gave none): the phone system's recording of
	// the call tells the officer's audio from the caller's by it.
	OfficerTag string
}

// ErrUnconfirmed is matched (errors.Is) by every *UnconfirmedError, and is
// what a pause of a call in StateUnconfirmed returns: the phone system may
// still be recording it.
var ErrUnconfirmed = errors.New("the phone system did not confirm the pause: it may still be recording")

// UnconfirmedError says that the phone system's recorder did not confirm
// a pause or a stop in time, or refused it: it may still be recording.
type UnconfirmedError struct {
	Command string // "pause", "stop"
	Err     error  // what the recorder's backend said
}

func (e *UnconfirmedError) Error() string {
	return fmt.Sprintf("the phone system did not confirm the %s of its recording: %v", e.Command, e.Err)
}

// Unwrap returns the backend's error.
func (e *UnconfirmedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnconfirmed) true.
func (e *UnconfirmedError) Is(target error) bool { return target == ErrUnconfirmed }

// UnconfirmedText is what the officer and the supervisors read while the
// phone system may still be recording a call that should not be.
const UnconfirmedText = "The phone system may still be recording — do not take card details"

// PhoneSystemRecorder returns a Recorder that records calls at the phone
// system through pr, waiting at most confirmWithin for each command: the
// officer's PC captures nothing. A pause or a stop that pr does not confirm
// in time fails with an *UnconfirmedError.
func PhoneSystemRecorder(pr PhoneRecorder, confirmWithin time.Duration) Recorder {
	return &phoneSystemRecorder{pr: pr, within: confirmWithin}
}

type phoneSystemRecorder struct {
	pr     PhoneRecorder
	within time.Duration
}

func (r *phoneSystemRecorder) Start(call RecordingCall, _ func(error)) (Recording, error) {
	if call.SIPCallID == "" {
		return nil, errors.New("the phone system gave no Call-ID for the call, so its recording cannot be controlled")
	}
	rec := &phoneRecording{r: r, call: PhoneCall{ID: call.ID, SIPCallID: call.SIPCallID, OfficerTag: call.LocalTag}}
	if call.PausedReason != "" {
		// Starts paused: the phone system is never told to record, so
		// nothing of the call is recorded until Resume.
		return rec, nil
	}
	if err := rec.do("start", r.pr.Record); err != nil {
		return nil, err
	}
	rec.recording = true
	return rec, nil
}

// phoneRecording is one call's recording at the phone system. The core
// calls it from its one goroutine; the lock only guards against misuse.
type phoneRecording struct {
	r    *phoneSystemRecorder
	call PhoneCall

	mu        sync.Mutex
	recording bool  // the phone system confirmed it records
	doubt     error // a stop or pause was not confirmed
}

func (p *phoneRecording) do(what string, cmd func(context.Context, PhoneCall) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.r.within)
	defer cancel()
	if err := cmd(ctx, p.call); err != nil {
		return fmt.Errorf("%s the phone system's recording of call %s: %w", what, p.call.SIPCallID, err)
	}
	return nil
}

func (p *phoneRecording) Pause(string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.doubt != nil {
		return p.doubt
	}
	if !p.recording {
		return nil // switching the reason of a pause
	}
	if err := p.do("pause", p.r.pr.Stop); err != nil {
		p.doubt = &UnconfirmedError{Command: "pause", Err: err}
		return p.doubt
	}
	p.recording = false
	return nil
}

func (p *phoneRecording) Resume() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.doubt != nil {
		return p.doubt
	}
	if p.recording {
		return nil
	}
	if err := p.do("resume", p.r.pr.Record); err != nil {
		// It may have started after all: stopping it is never unlawful.
		p.doubt = &UnconfirmedError{Command: "resume", Err: err}
		return p.doubt
	}
	p.recording = true
	return nil
}

// Stop stops the phone system's recording. After a command that was not
// confirmed it tries no more and returns that doubt at once, so that the
// officer's alarm comes within one confirmation time. When the call ended
// it sends nothing: the phone system ends its recording with the call
// (rtpengine when Kamailio deletes the call at BYE).
func (p *phoneRecording) Stop(end RecordingEnd) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.doubt != nil && !end.CallEnded {
		return p.doubt
	}
	if !p.recording || end.CallEnded {
		p.recording = false
		return nil
	}
	if err := p.do("stop", p.r.pr.Stop); err != nil {
		p.doubt = &UnconfirmedError{Command: "stop", Err: err}
		return p.doubt
	}
	p.recording = false
	return nil
}

// BothRecorders returns a Recorder that records each call on the officer's
// PC (desktop) and at the phone system (phone) at once. A pause closes the
// desktop's gate first, then waits for the phone system; it succeeds only
// when both did.
func BothRecorders(desktop, phone Recorder) Recorder { return bothRecorders{desktop, phone} }

type bothRecorders struct{ desktop, phone Recorder }

func (b bothRecorders) Start(call RecordingCall, onFail func(error)) (Recording, error) {
	d, err := b.desktop.Start(call, onFail)
	if err != nil {
		return nil, err
	}
	p, err := b.phone.Start(call, onFail)
	if err != nil {
		if serr := d.Stop(RecordingEnd{Ended: time.Now()}); serr != nil {
			err = errors.Join(err, serr)
		}
		return nil, err
	}
	return bothRecordings{d, p}, nil
}

type bothRecordings struct{ desktop, phone Recording }

func (b bothRecordings) Pause(reason string) error {
	return errors.Join(b.desktop.Pause(reason), b.phone.Pause(reason))
}

func (b bothRecordings) Resume() error {
	if err := b.desktop.Resume(); err != nil {
		return err
	}
	return b.phone.Resume()
}

func (b bothRecordings) Stop(end RecordingEnd) error {
	return errors.Join(b.desktop.Stop(end), b.phone.Stop(end))
}

// doubt marks c unconfirmed when err says the phone system's recorder may
// still be recording it.
// The state's reason is in words for the officer; the log has the details.
func (m *Machine) doubt(c *call, err error) {
	var ue *UnconfirmedError
	if !errors.As(err, &ue) || c.unconfirmed != "" {
		return
	}
	m.log.Error("the phone system may still be recording", "call", c.id, "err", err)
	c.unconfirmed = "the phone system did not confirm the " + ue.Command + " of its recording in time, or refused it"
	m.notifyUnconfirmed(c)
}

func (m *Machine) notifyUnconfirmed(c *call) {
	m.notify(Notification{
		Kind:  NotifyRecordingFailed,
		Title: "Not paused: the phone system may still be recording",
		Body:  UnconfirmedText + ". Tell your supervisor.",
		Key:   c.id + "/unconfirmed",
	})
}
