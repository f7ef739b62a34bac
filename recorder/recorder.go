package recorder

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
)

// Version identifies this recorder in manifests.
const Version = "callguard-recorder/1"

// Options configure a Recorder.
type Options struct {
	SpoolDir      string   // where <call-id>.opus.age (or .wav.age) and <call-id>.json go
	Recipients    []string // the organisation's age recipients ("age1…"); none: Start fails with ErrNoRecipient
	OfficerDevice string   // PortAudio input device name; "" is the default input
	// CallerDevice is a second input that carries the caller (a loopback or
	// monitor device). "" means none: the right channel is silence and the
	// manifest says so.
	CallerDevice string
	Logger       *slog.Logger     // nil: slog.Default()
	Clock        func() time.Time // nil: time.Now
}

// Recorder starts recordings that share one capture of the configured
// devices. It implements app.Recorder. The devices are opened when the first
// recording starts and closed when the last one stops.
type Recorder struct {
	spool string
	log   *slog.Logger
	clock func() time.Time

	// openSource opens the devices; PortAudio outside tests.
	openSource  func(officer, caller string) (source, error)
	openTimeout time.Duration
	stall       time.Duration
	// unmasked records without the keypad masker: only benchmarks set it,
	// to measure what masking costs.
	unmasked bool

	mu         sync.Mutex
	keys       []string
	recipients []age.Recipient
	officer    string
	caller     string
	cap        *capture
	live       map[*Recording]bool
	closed     bool
}

var _ app.Recorder = (*Recorder)(nil)

// New returns a Recorder. It checks the options but opens no device.
func New(opts Options) (*Recorder, error) {
	if opts.SpoolDir == "" {
		return nil, errors.New("recorder: no spool directory")
	}
	if err := os.MkdirAll(opts.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("recorder: spool directory: %w", err)
	}
	r := &Recorder{
		spool: opts.SpoolDir, log: opts.Logger, clock: opts.Clock,
		openSource:  openPortAudio,
		openTimeout: 5 * time.Second,
		stall:       3 * time.Second,
		live:        map[*Recording]bool{},
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.clock == nil {
		r.clock = time.Now
	}
	if err := r.SetRecipients(opts.Recipients); err != nil {
		return nil, err
	}
	if err := r.SetDevices(opts.OfficerDevice, opts.CallerDevice); err != nil {
		return nil, err
	}
	return r, nil
}

// SetRecipients replaces the age recipients for recordings started from now on.
func (r *Recorder) SetRecipients(keys []string) error {
	recips := make([]age.Recipient, 0, len(keys))
	for i, k := range keys {
		rs, err := age.ParseRecipients(strings.NewReader(k))
		if err != nil || len(rs) != 1 {
			return fmt.Errorf("recorder: recipient %d is not an age public key (age1…)", i+1)
		}
		recips = append(recips, rs[0])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys, r.recipients = append([]string(nil), keys...), recips
	return nil
}

// SetDevices changes the input devices. It takes effect when the devices are
// next opened (a call in progress keeps its devices).
func (r *Recorder) SetDevices(officer, caller string) error {
	if caller != "" && caller == officer {
		return fmt.Errorf("%w: the caller input %q is the officer's microphone; choose a loopback or monitor input, or none", ErrNoDevice, caller)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.officer, r.caller = officer, caller
	return nil
}

// Start begins recording call into the spool. It returns an error, within a
// bounded time, when it cannot: no recipient key, no usable device, the spool
// not writable. onFail is called once if the recording later stops by itself.
func (r *Recorder) Start(call app.RecordingCall, onFail func(error)) (app.Recording, error) {
	rec, err := r.start(call, onFail)
	if err != nil {
		return nil, err
	}
	return rec, nil
}

func (r *Recorder) start(call app.RecordingCall, onFail func(error)) (*Recording, error) {
	if call.ID == "" || call.ID != filepath.Base(call.ID) || strings.ContainsAny(call.ID, `/\:`) || strings.HasPrefix(call.ID, ".") {
		return nil, fmt.Errorf("recorder: call id %q cannot name a file", call.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if len(r.recipients) == 0 {
		return nil, fmt.Errorf("%w: the organisation policy has no age recipient, so calls cannot be recorded; ask IT to set one", ErrNoRecipient)
	}
	// Reuse the running capture when there is one; otherwise open the devices.
	var src source
	if r.cap == nil || !r.capAlive() {
		var err error
		if src, err = r.openWithDeadline(); err != nil {
			return nil, err
		}
	}
	var officer, caller string
	if src != nil {
		officer, caller = src.names()
	} else {
		officer, caller = r.cap.src.names()
	}
	rec, err := newRecording(r, call, r.recipients, r.keys, onFail, officer, caller, r.clock())
	if err != nil {
		if src != nil {
			src.close()
		}
		return nil, err
	}
	if src != nil {
		r.cap = newCapture(src, rec, r.log, r.stall)
	} else if !r.cap.add(rec) {
		// The capture stopped between the check and now: unlikely, but the
		// recording must not be left without audio.
		rec.cause = fmt.Errorf("%w: capture stopped while starting", ErrDeviceLost)
		close(rec.queue)
		<-rec.done
		return nil, rec.cause
	}
	r.live[rec] = true
	r.log.Info("recording started", "call", call.ID, "paused", call.PausedReason != "", "officer_device", officer, "caller_device", caller)
	return rec, nil
}

// capAlive reports whether the current capture still accepts recordings.
func (r *Recorder) capAlive() bool {
	r.cap.mu.Lock()
	defer r.cap.mu.Unlock()
	return !r.cap.exited
}

// openWithDeadline opens the devices, giving up after openTimeout: a driver
// that hangs must not hang the call. A late open is closed when it returns.
func (r *Recorder) openWithDeadline() (source, error) {
	if r.cap != nil {
		// A stopping capture still holds the devices for at most one buffer.
		select {
		case <-r.cap.done:
		case <-time.After(r.openTimeout):
			r.log.Warn("previous audio capture did not stop; opening anyway")
		}
	}
	type result struct {
		src source
		err error
	}
	ch := make(chan result, 1)
	officer, caller := r.officer, r.caller
	go func() {
		s, err := r.openSource(officer, caller)
		ch <- result{s, err}
	}()
	select {
	case res := <-ch:
		return res.src, res.err
	case <-time.After(r.openTimeout):
		go func() {
			if res := <-ch; res.err == nil {
				res.src.close()
			}
		}()
		return nil, fmt.Errorf("%w: the audio input did not open within %v", ErrNoDevice, r.openTimeout)
	}
}

// forget drops a stopped recording from the live set.
func (r *Recorder) forget(rec *Recording) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.live, rec)
}

// Close stops every live recording (finalising its files, notice still
// pending) and waits, within a bound, for the devices to close.
func (r *Recorder) Close() error {
	r.mu.Lock()
	r.closed = true
	live := make([]*Recording, 0, len(r.live))
	for rec := range r.live {
		live = append(live, rec)
	}
	c := r.cap
	r.mu.Unlock()
	var errs []error
	for _, rec := range live {
		if err := rec.Stop(app.RecordingEnd{Ended: r.clock()}); err != nil {
			errs = append(errs, err)
		}
	}
	if c != nil {
		select {
		case <-c.done:
		case <-time.After(time.Second):
			r.log.Warn("audio capture still blocked in a read; leaving it")
		}
	}
	return errors.Join(errs...)
}

func (r *Recorder) audioPath(id, codec string) string {
	return filepath.Join(r.spool, id+artefact.AudioExt(codec))
}
func (r *Recorder) manifestPath(id string) string { return filepath.Join(r.spool, id+".json") }
