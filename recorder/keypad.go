package recorder

import (
	"fmt"
	"io"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/dtmf"
)

// Redactions the recorder makes while recording.
const (
	// RedactionKindDTMF is the kind of a redaction of keypad tones.
	RedactionKindDTMF = artefact.RedactionKindDTMF
	redactedBy        = "recorder"
	dtmfReason        = "keypad tones"
)

// sink is where gated audio goes: the masker, which writes on to the
// encoder and the age stream.
func (r *Recording) sink() io.Writer {
	if r.masker == nil {
		return r.encoded()
	}
	return r.masker
}

// encoded is where the masker's output goes: the voice-activity tee,
// which hands it on to store.
func (r *Recording) encoded() io.Writer {
	if r.voiceTee != nil {
		return r.voiceTee
	}
	return r.store()
}

// store is where audio is kept: the Opus encoder, which writes its pages
// to the age stream, or the age stream itself for a WAV.
func (r *Recording) store() io.Writer {
	if r.enc == nil {
		return r.aw
	}
	return r.enc
}

// setUpKeypad builds the masker (between the gate and the age stream) and
// the run counter for a recording, with the call's settings.
func (r *Recording) setUpKeypad(k app.KeypadSettings) error {
	guard := dtmf.DefaultGuard
	switch {
	case k.Guard < 0:
		guard = 0
	case k.Guard > 0:
		guard = k.Guard
	}
	tones, within := k.RunTones, k.RunWithin
	if tones == 0 {
		tones = dtmf.DefaultRunTones
	}
	if within == 0 {
		within = dtmf.DefaultRunWithin
	}
	run, err := dtmf.NewRun(artefact.SampleRate, tones, within)
	if err != nil {
		return fmt.Errorf("recorder: keypad run: %w", err)
	}
	r.run = run
	if r.rec.unmasked {
		return nil
	}
	m, err := dtmf.NewMasker(r.encoded(), artefact.SampleRate, artefact.Channels, dtmf.WithGuard(guard),
		dtmf.WithToneStarts(func(_ int, start int64) {
			if r.run.Tone(start) {
				r.runs = append(r.runs, start)
			}
		}))
	if err != nil {
		return fmt.Errorf("recorder: keypad masker: %w", err)
	}
	r.masker = m
	return nil
}

// manifestEvery is how often at most the manifest is rewritten for new
// keypad redactions alone (each rewrite is an fsync); pause boundaries and
// Stop write it anyway.
const manifestEvery = time.Second

// keypad runs after each buffer went into the masker: it puts the stretches
// silenced since in the manifest (on disk within manifestEvery, so a crash
// keeps them) and tells the core of them and of a run.
func (r *Recording) keypad() error {
	runs := r.runs
	r.runs = r.runs[:0]
	for _, at := range runs {
		r.report(app.KeypadEvent{Kind: app.KeypadRun, AtMS: artefact.FramesToMS(at)})
	}
	if r.masker != nil && r.addRedactions(r.masker.Masked()) {
		r.redactionsDue = true
	}
	if !r.redactionsDue || time.Since(r.manifestAt) < manifestEvery {
		return nil
	}
	return r.writeManifest()
}

// addRedactions adds to the manifest the masked stretches not in it yet,
// reports each, and says whether there were any.
func (r *Recording) addRedactions(masked []dtmf.Interval) bool {
	if len(masked) <= r.masked {
		return false
	}
	now := r.rec.clock().UTC()
	for _, iv := range masked[r.masked:] {
		from := artefact.FramesToMS(iv.Start)
		to := (iv.End*1000 + artefact.SampleRate - 1) / artefact.SampleRate // covers the last frame
		r.man.Redactions = append(r.man.Redactions, artefact.Redaction{
			Kind: RedactionKindDTMF, FromMS: from, ToMS: to, Reason: dtmfReason, By: redactedBy, At: now,
		})
		r.report(app.KeypadEvent{Kind: app.KeypadMasked, FromMS: from, ToMS: to})
	}
	r.masked = len(masked)
	return true
}

func (r *Recording) report(ev app.KeypadEvent) {
	if r.onKeypad != nil {
		r.onKeypad(ev)
	}
}
