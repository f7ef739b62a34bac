package vad

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/callguard/callguard/artefact"
)

// Frame geometry: 20 ms of 16 kHz mono.
const (
	// SampleRate is the rate the detector expects.
	SampleRate = artefact.SampleRate
	// FrameSamples is one frame: artefact.VoiceFrameMS of audio.
	FrameSamples = SampleRate * artefact.VoiceFrameMS / 1000
)

// Defaults of the detector's rule.
const (
	// DefaultHangover is the longest gap between voiced frames that is
	// still voice: the pauses inside and between words.
	DefaultHangover = 200 * time.Millisecond
	// DefaultMargin is how far above the noise floor a frame must be.
	DefaultMargin = 10.0 // dB
	// DefaultAbsoluteFloor is the level a frame must reach whatever the
	// noise floor: quieter is never voice.
	DefaultAbsoluteFloor = -50.0 // dBFS
	// DefaultRise is how fast the noise floor rises towards louder
	// frames: slowly, so speech does not lift it, a fan switched on does.
	DefaultRise = 1.0 // dB per second
)

// Bounds of the noise floor: it never goes below the level of one least
// significant bit.
const (
	lowestFloor = -90.0 // dBFS: under 1 LSB RMS (-87.3 dBFS), which is digital silence
	// silentPower is the mean square (in LSB²) under which a frame is
	// digital silence: a paused, masked or muted stretch, never voice,
	// and not noise the floor should follow.
	silentPower = 1.0
)

// fullScale is the mean square of a full-scale sine in LSB², the 0 dBFS
// of Level (as AES17 has it: a full-scale square wave is +3 dBFS).
const fullScale = 32768.0 * 32768.0 / 2

// config is the rule, set by Options.
type config struct {
	hangFrames    int
	margin        float64
	absoluteFloor float64
	rise          float64 // dB per frame
}

// Option changes one part of the detector's rule.
type Option func(*config)

// WithHangover sets the hangover: a gap between voiced frames shorter than
// d is voiced, one of d or longer is not; 0 bridges nothing.
func WithHangover(d time.Duration) Option {
	frame := artefact.VoiceFrameMS * time.Millisecond
	return func(c *config) { c.hangFrames = int((d + frame - 1) / frame) }
}

// WithMargin sets how many dB above the noise floor a frame is voice.
func WithMargin(db float64) Option { return func(c *config) { c.margin = db } }

// WithAbsoluteFloor sets the level in dBFS under which no frame is voice.
func WithAbsoluteFloor(dbfs float64) Option { return func(c *config) { c.absoluteFloor = dbfs } }

// WithRise sets how fast, in dB per second, the noise floor rises towards
// frames louder than it.
func WithRise(dbPerSecond float64) Option {
	return func(c *config) { c.rise = dbPerSecond * artefact.VoiceFrameMS / 1000 }
}

// Detector is the voice-activity detector of one channel. A frame is
// voiced when its level is above both the noise floor plus the margin and
// the absolute floor. The noise floor follows the quietest frames at once
// and rises slowly towards louder ones. A gap shorter than the hangover
// between two voiced frames is voiced too, but a voiced stretch ends where
// the level fell: the detector holds back the frames of a gap (at most the
// hangover's) until it knows whether voice resumes. Digital silence, a
// skipped frame and Flush end a gap unvoiced.
//
// A Detector is not safe for concurrent use.
type Detector struct {
	cfg     config
	runs    *artefact.VoiceRuns
	floor   float64 // dBFS
	inVoice bool    // the last decided frame was voiced
	held    int     // unvoiced frames after it, not decided yet
	frames  int64   // frames decided
}

// New returns a detector that appends its decisions to runs.
func New(runs *artefact.VoiceRuns, opts ...Option) (*Detector, error) {
	c := config{margin: DefaultMargin, absoluteFloor: DefaultAbsoluteFloor}
	WithHangover(DefaultHangover)(&c)
	WithRise(DefaultRise)(&c)
	for _, o := range opts {
		o(&c)
	}
	switch {
	case runs == nil:
		return nil, errors.New("vad: no runs to append to")
	case c.hangFrames < 0 || c.margin < 0 || c.rise < 0:
		return nil, errors.New("vad: a negative hangover, margin or rise")
	case c.absoluteFloor > 0 || c.absoluteFloor < lowestFloor:
		return nil, fmt.Errorf("vad: an absolute floor of %.1f dBFS, outside %.0f to 0", c.absoluteFloor, lowestFloor)
	}
	// The floor starts where the rule is the absolute floor alone, so a
	// channel that is digital silence between words (nothing to learn the
	// floor from) hears quiet speech from its first frame.
	return &Detector{cfg: c, runs: runs, floor: max(c.absoluteFloor-c.margin, lowestFloor)}, nil
}

// Level is the level of samples in dBFS (RMS, relative to a full-scale
// sine's), and false for digital silence (RMS under one LSB).
func Level(samples []int16) (float64, bool) {
	p := power(samples)
	if p < silentPower {
		return math.Inf(-1), false
	}
	return 10 * math.Log10(p/fullScale), true
}

// power is the mean square of samples, in LSB².
func power(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum int64
	for _, s := range samples {
		v := int64(s)
		sum += v * v
	}
	return float64(sum) / float64(len(samples))
}

// Frame analyses one frame (FrameSamples samples; a shorter last frame is
// analysed as it is).
func (d *Detector) Frame(samples []int16) {
	level, sound := Level(samples)
	if !sound {
		d.brk()
		return
	}
	voiced := level > d.floor+d.cfg.margin && level > d.cfg.absoluteFloor
	if level < d.floor {
		d.floor = max(level, lowestFloor)
	} else {
		d.floor = min(d.floor+d.cfg.rise, level)
	}
	switch {
	case voiced:
		for ; d.held > 0; d.held-- {
			d.add(true) // the gap was short: bridged
		}
		d.add(true)
		d.inVoice = true
	case d.inVoice:
		d.held++
		if d.held >= d.cfg.hangFrames {
			d.release()
		}
	default:
		d.add(false)
	}
}

// Skip records a frame that is not analysed (inside a pause): no voice,
// and the detector learns nothing from it.
func (d *Detector) Skip() {
	d.brk()
}

// Flush decides the frames held back (a gap that voice did not end before
// the recording did): call it at the end.
func (d *Detector) Flush() {
	d.release()
}

// Frames is the number of frames decided so far.
func (d *Detector) Frames() int64 { return d.frames }

// Floor is the noise floor now, in dBFS.
func (d *Detector) Floor() float64 { return d.floor }

// brk is a frame that is never voice: it ends a gap unvoiced.
func (d *Detector) brk() {
	d.release()
	d.add(false)
}

// release decides the held-back gap as no voice.
func (d *Detector) release() {
	for ; d.held > 0; d.held-- {
		d.add(false)
	}
	d.inVoice = false
}

func (d *Detector) add(voiced bool) {
	d.runs.Add(voiced)
	d.frames++
}
