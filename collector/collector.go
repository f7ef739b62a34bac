package collector

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/dtmf"
	"github.com/callguard/callguard/rtpengine/pcapaudio"
	"github.com/callguard/callguard/vad"
)

// Version names the collector in the manifests it writes.
const Version = "callguard-collector/1"

// PauseReason is the reason of every pause in a collected recording: the
// gaps are where the phone system's recorder was stopped (callguard's
// pause reasons and holds are in the call's events on the server).
const PauseReason = "stopped at the phone system"

// Call is what the collector must know of a call besides its recording.
type Call struct {
	ID          string // callguard's call id: the files' names
	Agent       string
	Direction   string // "inbound" or "outbound"
	Remote      string // the other party's number
	CallStarted time.Time
	Ended       time.Time
	Notice      string // the notice outcome's name, as the desktop reported it
	// Sides says at which of rtpengine's addresses the officer's and the
	// caller's packets arrived (rtpengine.Call.ReceivesFrom, or the
	// stretches' metadata: pcapaudio.Metadata.Sides).
	Sides pcapaudio.Sides
	// KeypadGuard is the silence around each keypad tone silenced (the
	// policy's keypad.guard; 0: dtmf.DefaultGuard).
	KeypadGuard time.Duration
}

// Keypad tones silenced in a collected recording are redactions by this.
const (
	keypadBy     = "collector"
	keypadReason = "keypad tones"
)

// Convert writes the call's recording into dir, from the pcaps of its
// stretches: <id>.wav.age, encrypted to recipients (age1… keys), and its
// manifest <id>.json, complete, last. A failure leaves no manifest, so
// nothing half made is ever taken for a recording.
func Convert(call Call, pcaps []string, recipients []string, dir string) (*artefact.Manifest, error) {
	if call.ID == "" || len(pcaps) == 0 {
		return nil, errors.New("collector: a call id and at least one pcap are needed")
	}
	recips, err := artefact.ParseRecipients(recipients)
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	srcs := make([]pcapaudio.Source, 0, len(pcaps))
	for _, p := range pcaps {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("collector: %w", err)
		}
		defer f.Close()
		srcs = append(srcs, pcapaudio.Source{Name: filepath.Base(p), R: f})
	}
	asm, err := pcapaudio.Assemble(pcapaudio.Options{Sides: call.Sides}, srcs...)
	if err != nil {
		return nil, fmt.Errorf("collector: call %s: %w", call.ID, err)
	}

	audio := filepath.Join(dir, call.ID+".wav.age")
	f, err := os.OpenFile(audio, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(audio)
		}
	}()
	// Not the file itself: the writer would fsync every 64 KiB chunk, as
	// the desktop must (its audio exists nowhere else). The pcaps stay
	// until the upload is done, so one fsync at the end is enough.
	w, err := artefact.NewWriter(struct{ io.Writer }{f}, recips...)
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	// The rendered frames go straight into the age stream: no plaintext
	// ever reaches the disk. Keypad tones in the audio (keys sent in band,
	// in the G.711 itself) are silenced on the way, as the desktop's
	// recorder silences them, and the voice-activity timeline is computed
	// from what is stored, skipping the gaps.
	voice, err := vad.NewTimeline(func(from, to int64) bool {
		for _, p := range asm.Pauses {
			if from < artefact.MSToFrames(p.EndMS) && to > artefact.MSToFrames(p.StartMS) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	guard := call.KeypadGuard
	if guard == 0 {
		guard = dtmf.DefaultGuard
	}
	masker, err := dtmf.NewMasker(io.MultiWriter(w, voice), artefact.SampleRate, artefact.Channels, dtmf.WithGuard(guard))
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	if _, err := asm.WriteTo(masker); err != nil {
		return nil, fmt.Errorf("collector: write %s: %w", audio, err)
	}
	if err := masker.Close(); err != nil {
		return nil, fmt.Errorf("collector: write %s: %w", audio, err)
	}
	voice.Close()
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("collector: finish %s: %w", audio, err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}

	sums := w.Sums()
	m := &artefact.Manifest{
		Version: artefact.ManifestVersion, Recorder: Version,
		CallID: call.ID, Agent: call.Agent, Direction: call.Direction,
		CallStarted: call.CallStarted, Started: asm.Origin,
		AudioFile: call.ID + ".wav.age", Recipients: recipients,
		SampleRate: artefact.SampleRate, Channels: artefact.Channels, ChannelMap: []string{"officer", "caller"},
		Officer: "rtpengine", Caller: "rtpengine", CallerPresent: true,
		Pauses: make([]artefact.Pause, 0, len(asm.Pauses)), Notice: call.Notice,
		Frames: asm.Frames, DurationMS: artefact.FramesToMS(asm.Frames), DataBytes: w.DataBytes(),
		SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256, EncryptedBytes: sums.EncryptedBytes,
		Complete: true, Voice: voice.Voice(),
	}
	m.Remote.Number = call.Remote
	if !call.Ended.IsZero() {
		e := call.Ended
		m.Ended = &e
	}
	for _, p := range asm.Pauses {
		end := p.EndMS
		m.Pauses = append(m.Pauses, artefact.Pause{StartMS: p.StartMS, EndMS: &end, Reason: PauseReason})
	}
	now := time.Now().UTC()
	for _, iv := range masker.Masked() {
		m.Redactions = append(m.Redactions, artefact.Redaction{
			Kind: artefact.RedactionKindDTMF, FromMS: artefact.FramesToMS(iv.Start),
			ToMS:   (iv.End*1000 + artefact.SampleRate - 1) / artefact.SampleRate, // covers the last frame
			Reason: keypadReason, By: keypadBy, At: now,
		})
	}
	if err := artefact.WriteManifest(filepath.Join(dir, call.ID+".json"), m); err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	done = true
	return m, nil
}
