package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/callguard/callguard/rtpengine/pcapaudio"
	"github.com/callguard/callguard/server"
)

// Server is the central server as the collector uses it (the uplink
// client, enrolled as a collector account).
type Server interface {
	// LookUpPhoneRecording says what to do with the call sipCallID; a call
	// the server does not know answers an error that IsUnknown matches.
	LookUpPhoneRecording(ctx context.Context, sipCallID string) (server.PhoneRecording, error)
	// UploadRecording uploads dir's <id>.json and its audio, resumably,
	// and deletes them once the server verified the bytes.
	UploadRecording(ctx context.Context, dir, id string) error
}

// PhoneSystem is the phone system's recorder: whether it still holds a
// call (rtpengine's ng query).
type PhoneSystem interface {
	Holds(ctx context.Context, sipCallID string) (bool, error)
}

// Options configure a Job.
type Options struct {
	// RecordingDir is rtpengine's recording-dir.
	RecordingDir string
	// SpoolDir holds the recordings made and not yet uploaded, encrypted
	// (<call-id>.wav.age and <call-id>.json).
	SpoolDir string
	// Recipients are the organisation's age keys (the policy's).
	Recipients []string
	// KeypadGuard is the policy's keypad.guard.
	KeypadGuard time.Duration
	Server      Server
	PhoneSystem PhoneSystem
	// IsUnknown reports that a lookup's error says the server does not
	// know the call.
	IsUnknown func(error) bool
	Logger    *slog.Logger
}

// Job turns the finished calls of rtpengine's recording-dir into callguard
// recordings on the server, one sweep at a time.
//
// A call is finished once rtpengine no longer holds it and none of its
// stretches is open. Its pcaps are deleted only once the server has the
// call's recording (uploaded by this job, or by the officer's desktop at a
// site that records at both) or has deleted it: a job stopped at any point
// and started again finishes the work, and never uploads a call twice.
type Job struct {
	o Options
	// told is the last outcome logged of each call, so a call that waits
	// is logged when its reason changes, not at every sweep.
	told map[string]string
}

// NewJob returns a job; the spool directory is made if need be.
func NewJob(o Options) (*Job, error) {
	if o.RecordingDir == "" || o.SpoolDir == "" || o.Server == nil || o.PhoneSystem == nil {
		return nil, errors.New("collector: the recording dir, a spool dir, the server and the phone system are needed")
	}
	if len(o.Recipients) == 0 {
		return nil, errors.New("collector: the policy names no recipients to encrypt recordings to")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.IsUnknown == nil {
		o.IsUnknown = func(error) bool { return false }
	}
	if err := os.MkdirAll(o.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("collector: spool: %w", err)
	}
	return &Job{o: o, told: map[string]string{}}, nil
}

// What a sweep did with a call (Outcome.Did).
const (
	DidUpload  = "uploaded"  // made its recording and uploaded it; pcaps deleted
	DidDelete  = "deleted"   // the server has (or deleted) the call's recording; pcaps deleted
	DidWait    = "waiting"   // nothing yet: Why says for what
	DidRefuse  = "kept"      // cannot be collected as it is: Why says why; pcaps kept
	DidNothing = "recording" // rtpengine still records the call
)

// Outcome is what a sweep did with one call.
type Outcome struct {
	SIPCallID string
	CallID    string // the server's id, once looked up
	Did       string
	Why       string
}

// Sweep handles every finished call of the recording dir once. It stops
// at the first error that is not one call's own (the server or rtpengine
// unreachable), and returns what it did until then.
func (j *Job) Sweep(ctx context.Context) ([]Outcome, error) {
	calls, err := Scan(j.o.RecordingDir)
	if err != nil {
		return nil, err
	}
	var out []Outcome
	for _, rec := range calls {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		o, err := j.collect(ctx, rec)
		if err != nil {
			return out, err
		}
		out = append(out, o)
		j.tell(o)
	}
	return out, nil
}

// Run sweeps every interval until ctx ends; a failed sweep is logged and
// tried again at the next.
func (j *Job) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := ""
	for {
		_, err := j.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && err.Error() != failing:
			failing = err.Error()
			j.o.Logger.Warn("collector: sweep failed; trying again", "in", every, "err", err)
		case err == nil && failing != "":
			failing = ""
			j.o.Logger.Info("collector: sweeping again")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (j *Job) tell(o Outcome) {
	key := o.Did + ": " + o.Why
	if o.Did == DidNothing || j.told[o.SIPCallID] == key {
		return
	}
	j.told[o.SIPCallID] = key
	switch o.Did {
	case DidUpload, DidDelete:
		delete(j.told, o.SIPCallID)
		j.o.Logger.Info("collector: "+o.Did, "sip_call_id", o.SIPCallID, "call", o.CallID, "why", o.Why)
	case DidRefuse:
		j.o.Logger.Warn("collector: pcaps kept", "sip_call_id", o.SIPCallID, "call", o.CallID, "why", o.Why)
	default:
		j.o.Logger.Info("collector: "+o.Did, "sip_call_id", o.SIPCallID, "call", o.CallID, "why", o.Why)
	}
}

// collect handles one call; an error is the server's or rtpengine's, not
// the call's.
func (j *Job) collect(ctx context.Context, rec Recorded) (Outcome, error) {
	o := Outcome{SIPCallID: rec.SIPCallID, Did: DidNothing}
	if rec.Open {
		return o, nil
	}
	held, err := j.o.PhoneSystem.Holds(ctx, rec.SIPCallID)
	if err != nil {
		return o, fmt.Errorf("collector: ask the phone system about %s: %w", rec.SIPCallID, err)
	}
	if held {
		return o, nil
	}
	pr, err := j.o.Server.LookUpPhoneRecording(ctx, rec.SIPCallID)
	switch {
	case err != nil && j.o.IsUnknown(err):
		o.Did, o.Why = DidWait, "the server does not know this call (yet): the officer's desktop may not have sent it"
		return o, nil
	case err != nil:
		return o, fmt.Errorf("collector: look up %s: %w", rec.SIPCallID, err)
	}
	o.CallID = pr.CallID
	if !server.ValidID(pr.CallID) {
		o.Did, o.Why = DidRefuse, fmt.Sprintf("the server named the call %q", pr.CallID)
		return o, nil
	}
	if !pr.Upload {
		if pr.Recording != "stored" && pr.Recording != "deleted" {
			o.Did, o.Why = DidWait, pr.Why
			return o, nil
		}
		// The call's recording is on the server (or deleted there): these
		// pcaps are a copy nobody keeps, and so is anything of it spooled.
		if err := j.removeSpooled(pr.CallID); err != nil {
			return o, err
		}
		if err := removeStretches(rec.Stretches); err != nil {
			return o, err
		}
		o.Did, o.Why = DidDelete, pr.Why
		return o, nil
	}
	if _, err := os.Stat(filepath.Join(j.o.SpoolDir, pr.CallID+".json")); errors.Is(err, fs.ErrNotExist) {
		// Not made yet, or made only in part by a job that stopped: made
		// again from the start (nothing of it was uploaded, as the upload
		// needs the manifest).
		if why := j.convert(rec, pr); why != "" {
			o.Did, o.Why = DidRefuse, why
			return o, nil
		}
	} else if err != nil {
		return o, fmt.Errorf("collector: %w", err)
	}
	if err := j.o.Server.UploadRecording(ctx, j.o.SpoolDir, pr.CallID); err != nil {
		return o, fmt.Errorf("collector: upload %s (%s): %w", pr.CallID, rec.SIPCallID, err)
	}
	if err := removeStretches(rec.Stretches); err != nil {
		return o, err
	}
	o.Did = DidUpload
	return o, nil
}

// convert makes the call's recording in the spool; it returns why it
// could not, in words, or "".
func (j *Job) convert(rec Recorded, pr server.PhoneRecording) string {
	if err := j.removeSpooled(pr.CallID); err != nil {
		return err.Error()
	}
	sides := pcapaudio.Sides{}
	for side, addrs := range map[pcapaudio.Side][]string{pcapaudio.SideOfficer: pr.OfficerAddrs, pcapaudio.SideCaller: pr.CallerAddrs} {
		for _, a := range addrs {
			ap, err := netip.ParseAddrPort(a)
			if err != nil {
				return fmt.Sprintf("the server gave %q as an address of the call's audio", a)
			}
			sides[ap] = side
		}
	}
	if len(pr.OfficerAddrs) == 0 || len(pr.CallerAddrs) == 0 {
		return "the server does not know at which addresses the officer's and the caller's audio arrived"
	}
	call := Call{ID: pr.CallID, Sides: sides, KeypadGuard: j.o.KeypadGuard}
	var pcaps []string
	for _, s := range rec.Stretches {
		if s.PCAP == "" {
			return "a stretch's pcap is missing: " + filepath.Base(s.Metadata)
		}
		pcaps = append(pcaps, s.PCAP)
		if f, err := os.Open(s.Metadata); err == nil {
			m, err := pcapaudio.ReadMetadata(f)
			f.Close()
			if err == nil {
				if call.CallStarted.IsZero() || (!m.CallStart.IsZero() && m.CallStart.Before(call.CallStarted)) {
					call.CallStarted = m.CallStart
				}
				if m.CallEnd.After(call.Ended) {
					call.Ended = m.CallEnd
				}
			}
		}
	}
	if len(pcaps) == 0 {
		return "no stretch of the call has its pcap"
	}
	if _, err := Convert(call, pcaps, j.o.Recipients, j.o.SpoolDir); err != nil {
		return err.Error()
	}
	return ""
}

// removeSpooled deletes the spool's files of call id.
func (j *Job) removeSpooled(id string) error {
	for _, name := range []string{id + ".json", id + ".wav.age"} {
		if err := os.Remove(filepath.Join(j.o.SpoolDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("collector: %w", err)
		}
	}
	return nil
}

// removeStretches deletes each stretch's pcap, then its metadata: a
// metadata file left alone says a stretch was deleted but for it.
func removeStretches(ss []Stretch) error {
	for _, s := range ss {
		for _, p := range []string{s.PCAP, s.Metadata} {
			if p == "" {
				continue
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("collector: %w", err)
			}
		}
	}
	return nil
}
