package recorder

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/dtmf"
	"github.com/callguard/callguard/recorder/opus"
	"github.com/callguard/callguard/vad"
)

// queueBuffers is how far the writer may fall behind the capture before the
// recording fails loudly: 256 buffers of 20 ms.
const queueBuffers = 256

// gateState is what Pause and Resume publish to the capture path. The
// capture path loads it before and after reading each buffer; every command
// stores a new value, so a change of pointer means a command came in.
type gateState struct {
	paused     bool
	reason     string
	prevReason string    // for an open gate: the reason of the pause it ended
	at         time.Time // when the command was given (for latency measurement)
}

var gateOpen = &gateState{}

// block is one capture buffer on its way to the writer. data is nil for a
// buffer the gate silenced: such a buffer is written as zeros, and its samples
// never left the capture path.
type block struct {
	data       *[bufferBytes]byte
	pos        int64       // recording frame of the buffer's first sample
	transition *transition // non-nil when silence began, ended or changed reason at pos
	overflow   bool        // the device dropped input before this buffer
}

// transition is a pause boundary as the capture path applied it.
type transition struct {
	paused    bool
	reason    string
	commanded time.Time // when Pause or Resume was called
	applied   time.Time // when the capture path applied it
}

// Recording is one call's recording in progress. It implements app.Recording.
type Recording struct {
	rec    *Recorder
	log    *slog.Logger
	onFail func(error)

	// gate is the single word the capture path reads per buffer.
	gate atomic.Pointer[gateState]

	// Capture side: touched only under cap.mu.
	cap    *capture
	pre    *gateState // the gate as it was when the current read began
	silent bool       // the last buffer was silenced
	reason string     // ... for this reason
	pos    int64
	// startFrame is the capture frame of the recording's first frame.
	startFrame int64
	queue      chan block
	free       chan *[bufferBytes]byte
	cause      error // why the queue was closed: nil for Stop

	// Writer side: owned by the writer goroutine until done is closed.
	audioPath, manifestPath string
	file                    *os.File
	aw                      *artefact.Writer // the age stream into file; fsyncs each chunk
	// enc encodes the masker's output into Ogg Opus pages for aw; nil for
	// a WAV recording, whose PCM goes to aw as it is.
	enc        *opus.Encoder
	man        *artefact.Manifest
	frames     int64
	boundaries []boundary   // every transition written, for tests
	written    atomic.Int64 // frames gated so far, for benchmarks
	// masker silences keypad tones between the gate and aw; it holds back
	// dtmf.LookAhead of what was gated (never of what the gate does).
	masker *dtmf.Masker
	run    *dtmf.Run
	runs   []int64 // frames where a run was completed, not reported yet
	masked int     // masker intervals already in the manifest
	// voice computes the voice-activity timeline of the masker's output;
	// voiceTee hands that output to it and on to enc or aw.
	voice    *vad.Timeline
	voiceTee io.Writer
	// redactionsDue: the manifest on disk lacks some of them; manifestAt
	// is when it was last written.
	redactionsDue bool
	manifestAt    time.Time
	onKeypad      func(app.KeypadEvent)

	mu      sync.Mutex // guards cmdMu-protected fields below
	end     *app.RecordingEnd
	result  error
	stopped bool
	done    chan struct{}
}

// boundary is a transition at a recording frame, kept for tests that
// measure pause latency.
type boundary struct {
	pos int64
	transition
}

// Pause closes the gate. When it returns, every sample the capture path
// receives from then on is written as digital silence. The capture path reads
// the gate when a buffer's read begins and again when it completes, and
// silences the buffer if either says paused or a command came in between; so
// the pause starts at the first sample of the buffer being read when Pause was
// called (or of the next one), never later than one buffer (20 ms).
func (r *Recording) Pause(reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return ErrStopped
	}
	if g := r.gate.Load(); g.paused && g.reason == reason {
		return nil
	}
	r.gate.Store(&gateState{paused: true, reason: reason, at: time.Now()})
	return nil
}

// Resume opens the gate at the first sample of the first buffer whose read
// begins after Resume was called: the buffer being read meanwhile stays
// silent, so no sample captured while paused is written. Resuming a recording
// that is not paused does nothing.
func (r *Recording) Resume() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return ErrStopped
	}
	g := r.gate.Load()
	if !g.paused {
		return nil
	}
	r.gate.Store(&gateState{prevReason: g.reason, at: time.Now()})
	return nil
}

// Stop finalises the recording: it closes the age stream, fsyncs the audio,
// writes the final manifest atomically and returns when both are on disk. If
// the recording failed by itself first, Stop returns that failure (and onFail
// is called with it as well).
func (r *Recording) Stop(end app.RecordingEnd) error {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		<-r.done
		return r.result
	}
	r.stopped = true
	r.end = &end
	r.mu.Unlock()
	r.cap.remove(r, nil)
	<-r.done
	r.rec.forget(r)
	return r.result
}

// offer hands one captured stereo buffer to the recording. It runs on the
// capture goroutine under cap.mu and never blocks: a writer that has fallen
// queueBuffers behind fails the recording.
func (r *Recording) offer(stereo []byte, overflow bool) {
	g0, g1 := r.pre, r.gate.Load()
	silent := g0.paused || g1.paused || g0 != g1
	var reason string
	commanded := g1.at
	switch {
	case g1.paused:
		reason = g1.reason
	case g0.paused:
		reason, commanded = g0.reason, g0.at
	case silent: // paused and resumed while this buffer was read
		reason = g1.prevReason
	}
	b := block{pos: r.pos, overflow: overflow}
	if silent != r.silent || reason != r.reason {
		b.transition = &transition{paused: silent, reason: reason, commanded: commanded, applied: time.Now()}
		r.silent, r.reason = silent, reason
	}
	if !silent {
		select {
		case d := <-r.free:
			copy(d[:], stereo)
			b.data = d
		default:
			r.cap.removeLocked(r, fmt.Errorf("%w: %v", ErrWrite, errTooSlow))
			return
		}
	}
	select {
	case r.queue <- b:
		r.pos += BufferFrames
	default:
		if b.data != nil {
			r.free <- b.data
		}
		r.cap.removeLocked(r, fmt.Errorf("%w: %v", ErrWrite, errTooSlow))
	}
}

// write runs on the recording's own goroutine: it encrypts every block, keeps
// the manifest's pauses current, and finalises when the queue closes.
func (r *Recording) write() {
	var werr error
	zeros := new([bufferBytes]byte)
	for b := range r.queue {
		if b.overflow {
			r.man.Overflows++
		}
		if werr == nil && b.transition != nil {
			werr = r.transition(b)
		}
		if werr == nil {
			data := zeros
			if b.data != nil {
				data = b.data
			}
			werr = r.writeAudio(data[:])
		}
		if werr == nil {
			werr = r.keypad()
		}
		if b.data != nil {
			r.free <- b.data
		}
		if werr != nil {
			// Stop taking audio; the queue closes and drains.
			r.cap.remove(r, werr)
		}
	}
	r.finish(werr)
}

func (r *Recording) transition(b block) error {
	r.boundaries = append(r.boundaries, boundary{pos: b.pos, transition: *b.transition})
	ms := artefact.FramesToMS(b.pos)
	if n := len(r.man.Pauses); n > 0 && r.man.Pauses[n-1].EndMS == nil {
		r.man.Pauses[n-1].EndMS = &ms
	}
	if b.transition.paused {
		r.man.Pauses = append(r.man.Pauses, artefact.Pause{StartMS: ms, Reason: b.transition.reason})
	}
	r.setLength(b.pos)
	return r.writeManifest()
}

// setLength puts a length of frames in the manifest.
func (r *Recording) setLength(frames int64) {
	r.man.Frames = frames
	r.man.DurationMS = artefact.FramesToMS(frames)
	if r.enc == nil {
		r.man.DataBytes = frames * artefact.BytesPerFrame
	}
}

// segmentEvery is how often an Opus recording is made durable: the
// encoder ends its page and the age file is cut into a new segment
// (artefact.Writer.Cut: the last chunk sealed, fsync), so a crash loses at
// most this much. Without it age seals a chunk only every 64 KiB, 21 s of
// Opus at 24 kbit/s. Each segment costs its age header, nonce and last tag,
// 200 bytes with one recipient and 98 more for each other
// (artefact's BenchmarkSegments): 0.72 MB an hour at one second, 0.14 MB
// at five; a reader opens each header (an X25519 key agreement, about
// 0.13 ms). One second keeps what the issue asks ("up to the last flushed
// second") and speech at 24 kbit/s near 10 MB an hour, inside the 15 MB
// goal with up to a dozen recipients; 32 kbit/s with one recipient is
// about 14.7 MB.
const segmentEvery = artefact.SampleRate

func (r *Recording) writeAudio(p []byte) error {
	if r.enc == nil && (r.frames+BufferFrames)*artefact.BytesPerFrame > artefact.MaxDataBytes {
		return fmt.Errorf("%w: the WAV format holds at most %v", ErrTooLong, time.Duration(artefact.MaxDataBytes/artefact.BytesPerSecond)*time.Second)
	}
	if _, err := r.sink().Write(p); err != nil {
		return writeError(r.audioPath, err)
	}
	r.frames += BufferFrames
	r.written.Store(r.frames)
	if r.enc != nil && r.frames%segmentEvery == 0 {
		if err := r.enc.Flush(); err != nil {
			return writeError(r.audioPath, err)
		}
		if err := r.aw.Cut(); err != nil {
			return writeError(r.audioPath, err)
		}
	}
	return nil
}

func (r *Recording) writeManifest() error {
	if r.voice != nil {
		r.man.Voice = r.voice.Voice()
	}
	if err := artefact.WriteManifest(r.manifestPath, r.man); err != nil {
		return writeError(r.manifestPath, err)
	}
	r.redactionsDue, r.manifestAt = false, time.Now()
	return nil
}

// finish closes the files and writes the final manifest. werr is the
// writer's own error, r.cause why the queue was closed.
func (r *Recording) finish(werr error) {
	cause := r.cause
	if werr != nil {
		cause = werr
	}
	r.mu.Lock()
	end := r.end
	r.mu.Unlock()

	m := r.man
	r.setLength(r.frames)
	if n := len(m.Pauses); n > 0 && m.Pauses[n-1].EndMS == nil {
		e := m.DurationMS
		m.Pauses[n-1].EndMS = &e
	}
	if end != nil {
		ended := end.Ended
		m.Ended = &ended
		m.Notice = end.Notice.String()
	}

	// Write what the masker holds back (its last 60 ms, a tone still
	// sounding silenced to the end), whatever stopped the recording, unless
	// writing is what failed. Then close the age stream (its last chunk)
	// unless the disk already refused us: the file keeps every complete
	// chunk and Decrypt recovers them.
	var closeErr error
	if werr == nil || !(errors.Is(werr, ErrDiskFull) || errors.Is(werr, ErrWrite)) {
		if r.masker != nil {
			if err := r.masker.Close(); err != nil {
				closeErr = err
			}
			r.addRedactions(r.masker.Masked())
		}
		// The encoder's last part frame and look-ahead, and the last page.
		if r.enc != nil && closeErr == nil {
			closeErr = r.enc.Close()
		}
	}
	if closeErr == nil && (werr == nil || !errors.Is(werr, ErrDiskFull)) {
		closeErr = r.aw.Close() // the last chunk, then fsync
	}
	if err := r.file.Close(); err != nil && closeErr == nil {
		closeErr = err
	}
	if closeErr != nil {
		closeErr = writeError(r.audioPath, closeErr)
		if cause == nil {
			cause = closeErr
		}
	}
	if closeErr == nil && (werr == nil || !errors.Is(werr, ErrDiskFull)) {
		sums := r.aw.Sums()
		m.SHA256Plaintext, m.SHA256Encrypted, m.EncryptedBytes = sums.PlaintextSHA256, sums.EncryptedSHA256, sums.EncryptedBytes
		m.Complete = true
	}
	if cause != nil {
		m.Failure = cause.Error()
	}
	r.voice.Close() // what the detectors hold back, for the final manifest
	if err := r.writeManifest(); err != nil {
		r.log.Error("final manifest not written", "call", m.CallID, "err", err)
		if cause == nil {
			cause = err
		}
	}

	// A failure (not Stop) closed the queue: the recording stopped by itself.
	failed := r.cause != nil || werr != nil
	r.mu.Lock()
	r.stopped = true
	r.result = cause
	r.mu.Unlock()
	close(r.done)
	if failed {
		r.rec.forget(r)
		r.log.Error("recording stopped by itself", "call", m.CallID, "err", cause)
		if r.onFail != nil {
			r.onFail(cause)
		}
	}
}

// writeError wraps a write error with ErrDiskFull or ErrWrite.
func writeError(path string, err error) error {
	if isDiskFull(err) {
		return fmt.Errorf("%w: writing %s: %v", ErrDiskFull, path, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrWrite, path, err)
}

// newRecording creates the files, starts the audio stream (the streaming WAV
// header, or the Ogg Opus headers) and writes the first manifest. Nothing is
// captured yet.
func newRecording(rec *Recorder, call app.RecordingCall, recipients []age.Recipient, keys []string, onFail func(error), officer, caller string, started time.Time) (*Recording, error) {
	r := &Recording{
		rec: rec, log: rec.log, onFail: onFail,
		queue:        make(chan block, queueBuffers),
		free:         make(chan *[bufferBytes]byte, queueBuffers),
		audioPath:    rec.audioPath(call.ID, codecOf(call.Audio)),
		manifestPath: rec.manifestPath(call.ID),
		done:         make(chan struct{}),
	}
	for range queueBuffers {
		r.free <- new([bufferBytes]byte)
	}
	r.man = &artefact.Manifest{
		Version: artefact.ManifestVersion, Recorder: Version,
		CallID: call.ID, Agent: call.Agent, Direction: call.Direction.String(),
		CallStarted: call.Started, Started: started,
		AudioFile:  call.ID + artefact.AudioExt(codecOf(call.Audio)),
		Recipients: keys,
		SampleRate: artefact.SampleRate, Channels: artefact.Channels, ChannelMap: []string{"officer", "caller"},
		Officer: officer, Caller: caller, CallerPresent: caller != "",
		Pauses: []artefact.Pause{}, Notice: app.NoticePending.String(),
	}
	r.man.Remote.Number, r.man.Remote.Name = call.Remote.Number, call.Remote.Name
	if caller == "" {
		r.man.CallerNote = "no caller input is configured: the right channel is silence"
	}
	gate := gateOpen
	if call.PausedReason != "" {
		gate = &gateState{paused: true, reason: call.PausedReason, at: time.Now()}
	}
	r.gate.Store(gate)

	f, err := os.OpenFile(r.audioPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, writeError(r.audioPath, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(r.audioPath)
		}
	}()
	r.file = f
	if err := r.startAudio(f, recipients, call.Audio); err != nil {
		return nil, err
	}
	if err := r.setUpVoice(); err != nil {
		return nil, err
	}
	if err := r.setUpKeypad(call.Keypad); err != nil {
		return nil, err
	}
	r.onKeypad = call.OnKeypad
	if err := f.Sync(); err != nil {
		return nil, writeError(r.audioPath, err)
	}
	if err := r.writeManifest(); err != nil {
		return nil, err
	}
	ok = true
	go r.write()
	return r, nil
}
