package vad

import (
	"encoding/binary"
	"fmt"

	"github.com/callguard/callguard/artefact"
)

// Timeline computes a recording's voice-activity timeline from its stereo
// audio (16-bit little-endian, officer left, caller right, 16 kHz) as it
// is written: one Detector per channel, frame by frame. A frame the
// recording's pauses touch is skipped, never analysed.
//
// A Timeline is not safe for concurrent use.
type Timeline struct {
	paused func(from, to int64) bool
	det    [artefact.Channels]*Detector
	runs   [artefact.Channels]artefact.VoiceRuns
	frame  [artefact.Channels][FrameSamples]int16
	n      int   // samples of the current frame so far
	pos    int64 // the current frame's first sample, from the recording's first
	carry  []byte
}

// NewTimeline returns a timeline over audio whose pauses are where paused
// says: paused(from, to) reports whether any of the samples [from, to)
// (counted from the recording's first) lies in a pause; nil means no
// pauses. It is asked once per frame, when the frame's last sample has been
// written, and only about frames in order. The options apply to both
// channels' detectors.
func NewTimeline(paused func(from, to int64) bool, opts ...Option) (*Timeline, error) {
	if paused == nil {
		paused = func(int64, int64) bool { return false }
	}
	t := &Timeline{paused: paused, carry: make([]byte, 0, artefact.BytesPerFrame)}
	for ch := range t.det {
		d, err := New(&t.runs[ch], opts...)
		if err != nil {
			return nil, fmt.Errorf("voice timeline: %w", err)
		}
		t.det[ch] = d
	}
	return t, nil
}

// Write analyses p; it never fails, so it can sit in an io.MultiWriter
// beside where the audio is stored.
func (t *Timeline) Write(p []byte) (int, error) {
	n := len(p)
	if len(t.carry) > 0 {
		k := min(artefact.BytesPerFrame-len(t.carry), len(p))
		t.carry = append(t.carry, p[:k]...)
		p = p[k:]
		if len(t.carry) < artefact.BytesPerFrame {
			return n, nil
		}
		t.sample(t.carry)
		t.carry = t.carry[:0]
	}
	for len(p) >= artefact.BytesPerFrame {
		k := min(FrameSamples-t.n, len(p)/artefact.BytesPerFrame)
		left, right := t.frame[0][t.n:t.n+k], t.frame[1][t.n:t.n+k]
		for i := range left {
			left[i] = int16(binary.LittleEndian.Uint16(p[4*i:]))
			right[i] = int16(binary.LittleEndian.Uint16(p[4*i+2:]))
		}
		t.n += k
		p = p[k*artefact.BytesPerFrame:]
		if t.n == FrameSamples {
			t.decide()
		}
	}
	t.carry = append(t.carry, p...)
	return n, nil
}

// sample takes one stereo sample pair.
func (t *Timeline) sample(p []byte) {
	t.frame[0][t.n] = int16(binary.LittleEndian.Uint16(p))
	t.frame[1][t.n] = int16(binary.LittleEndian.Uint16(p[2:]))
	t.n++
	if t.n == FrameSamples {
		t.decide()
	}
}

// decide hands the current frame, whole or not, to the detectors.
func (t *Timeline) decide() {
	skip := t.paused(t.pos, t.pos+int64(t.n))
	for ch, d := range t.det {
		if skip {
			d.Skip()
		} else {
			d.Frame(t.frame[ch][:t.n])
		}
	}
	t.pos += int64(t.n)
	t.n = 0
}

// Close decides everything held back: a last part frame and the
// detectors' undecided gaps. Nothing may be written after it.
func (t *Timeline) Close() {
	if t.n > 0 {
		t.decide()
	}
	for _, d := range t.det {
		d.Flush()
	}
}

// Voice is the manifest's voice field as decided so far: until Close each
// channel lags what was written by at most the hangover (and the two may
// differ by as much); after it both cover the whole recording.
func (t *Timeline) Voice() *artefact.Voice {
	v := &artefact.Voice{FrameMS: artefact.VoiceFrameMS, Officer: t.runs[0].Runs(), Caller: t.runs[1].Runs()}
	if v.Officer == nil {
		v.Officer = []int32{}
	}
	if v.Caller == nil {
		v.Caller = []int32{}
	}
	return v
}
