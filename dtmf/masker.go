package dtmf

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// LookAhead is how much audio a Masker holds back before writing it on, so
// that a tone is silenced from a guard before its first sample although the
// detector hears it only 16 ms in. It delays only what is written, never what
// is heard or the pause gate in front of the Masker.
const LookAhead = 60 * time.Millisecond

// DefaultGuard is the silence added before and after each tone.
const DefaultGuard = 40 * time.Millisecond

// MaxGuard is the longest guard a Masker accepts.
const MaxGuard = time.Second

// Errors of a Masker.
var (
	ErrChannels = errors.New("dtmf: a masker takes 1 or 2 channels")
	ErrGuard    = fmt.Errorf("dtmf: the guard must be between 0 and %v", MaxGuard)
	ErrClosed   = errors.New("dtmf: the masker is closed")
)

// Masker is a filter for interleaved little-endian 16-bit PCM (one or two
// channels) on its way to a writer: it writes the audio on unchanged, sample
// for sample, except that every keypad tone heard on any channel is replaced
// by digital silence on all channels, from a guard before the tone to a guard
// after it. It holds back LookAhead of audio to silence a tone's start; Close
// writes what it holds. Masked reports the stretches it silenced, for the
// manifest's redactions of kind dtmf.
//
// In the recorder it sits after the pause gate (paused audio is silence
// already, so it passes through as it is) and before the encryption: plaintext
// tones never reach the file. A Masker is not safe for concurrent use.
type Masker struct {
	dst        io.Writer
	rate       int
	channels   int
	frameBytes int
	grid       int64 // frames per sub-block: every mask boundary lies on this grid
	look       int64 // frames held back
	guard      int64 // frames of guard, a multiple of grid
	onTone     func(channel int, start int64)

	det []*Detector
	pcm [][]int16 // one channel of the frames being fed

	held    []byte // frames [out, in) not written yet
	part    []byte // a frame begun by the last Write
	in, out int64

	masks []mask     // silence still being written, or that may still grow
	done  []Interval // silence written and final, merged

	err    error
	closed bool
}

// mask is the silence one tone on one channel asks for.
type mask struct {
	channel    int
	start, end int64 // frames; end is meaningless while open
	open       bool  // the tone has not ended yet
}

// MaskerOption sets up a Masker.
type MaskerOption func(*Masker) error

// WithGuard sets the silence before and after each tone (DefaultGuard
// unless set), rounded up to a multiple of 4 ms. The guard after a tone is
// always kept whole. The guard before it is kept whole up to 44 ms: the
// detector starts silencing once it has heard 16 ms of a tone, and the 44 ms
// before that is what LookAhead still holds.
func WithGuard(d time.Duration) MaskerOption {
	return func(m *Masker) error {
		if d < 0 || d > MaxGuard {
			return fmt.Errorf("%w (got %v)", ErrGuard, d)
		}
		f := (int64(d)*int64(m.rate) + int64(time.Second) - 1) / int64(time.Second)
		m.guard = (f + m.grid - 1) / m.grid * m.grid
		return nil
	}
}

// WithToneStarts calls f, from inside Write, each time a tone is heard on a
// channel, with the frame where it began: for a Run that tells when a caller
// is keying a card number. f must not block.
func WithToneStarts(f func(channel int, start int64)) MaskerOption {
	return func(m *Masker) error {
		m.onTone = f
		return nil
	}
}

// NewMasker returns a Masker that writes to dst audio of channels (1 or 2)
// interleaved channels at sampleRate (8000 or 16000).
func NewMasker(dst io.Writer, sampleRate, channels int, opts ...MaskerOption) (*Masker, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("%w (got %d)", ErrChannels, channels)
	}
	m := &Masker{dst: dst, rate: sampleRate, channels: channels, frameBytes: 2 * channels}
	for c := 0; c < channels; c++ {
		d, err := NewDetector(sampleRate)
		if err != nil {
			return nil, err
		}
		d.emit = func(t detection) { m.detected(c, t) }
		m.det = append(m.det, d)
		m.pcm = append(m.pcm, nil)
	}
	m.grid = int64(m.det[0].h)
	m.look = int64(LookAhead) * int64(sampleRate) / int64(time.Second)
	if err := WithGuard(DefaultGuard)(m); err != nil {
		return nil, err
	}
	for _, o := range opts {
		if err := o(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Write takes audio that follows what was written before, any number of
// bytes (a frame may be split across calls), and writes on what is older than
// LookAhead. An error from the destination is returned by this and every
// later call.
func (m *Masker) Write(p []byte) (int, error) {
	if m.closed {
		return 0, ErrClosed
	}
	if m.err != nil {
		return 0, m.err
	}
	n := len(p)
	if len(m.part) > 0 {
		k := min(m.frameBytes-len(m.part), len(p))
		m.part = append(m.part, p[:k]...)
		p = p[k:]
		if len(m.part) < m.frameBytes {
			return n, nil
		}
		m.take(m.part)
		m.part = m.part[:0]
	}
	whole := len(p) / m.frameBytes * m.frameBytes
	m.take(p[:whole])
	m.part = append(m.part, p[whole:]...)
	m.writeTo(m.in - m.look)
	return n, m.err
}

// Close ends the audio: a tone still sounding is silenced to the end, and
// everything held is written. It does not close the destination.
func (m *Masker) Close() error {
	if m.closed {
		return m.err
	}
	m.closed = true
	if m.err != nil {
		return m.err
	}
	for _, d := range m.det {
		d.end()
	}
	for i := range m.masks {
		if m.masks[i].open {
			m.masks[i].open, m.masks[i].end = false, m.in
		}
	}
	m.writeTo(m.in)
	if m.err == nil && len(m.part) > 0 {
		// A frame cut short: written as it came, unless silence runs to the end.
		if n := len(m.done); n > 0 && m.done[n-1].End == m.in {
			clear(m.part)
		}
		if _, err := m.dst.Write(m.part); err != nil {
			m.err = fmt.Errorf("dtmf: writing audio: %w", err)
		}
	}
	clear(m.held)
	m.held, m.part = nil, nil
	return m.err
}

// Masked returns the stretches silenced so far, in frames, oldest first. Each
// is final: it has been written and will not grow. After Close it is the
// whole list.
func (m *Masker) Masked() []Interval { return slices.Clone(m.done) }

// Buffered is the number of bytes held back, not yet written.
func (m *Masker) Buffered() int { return len(m.held) + len(m.part) }

// take feeds whole frames to the detectors and holds them.
func (m *Masker) take(frames []byte) {
	nf := len(frames) / m.frameBytes
	if nf == 0 {
		return
	}
	m.held = append(m.held, frames...)
	for c, d := range m.det {
		pcm := m.pcm[c][:0]
		for i := 0; i < nf; i++ {
			o := i*m.frameBytes + 2*c
			pcm = append(pcm, int16(uint16(frames[o])|uint16(frames[o+1])<<8))
		}
		m.pcm[c] = pcm
		d.feed(pcm)
	}
	m.in += int64(nf)
}

// detected turns a tone on channel c into silence to write.
func (m *Masker) detected(c int, t detection) {
	sp := t.span(m.det[c])
	open := -1
	for i := range m.masks {
		if m.masks[i].channel == c && m.masks[i].open {
			open = i
		}
	}
	switch t.kind {
	case toneSuspected, ToneBegan:
		if open < 0 {
			// Silence what is still held of the guard before the tone.
			// Frames before out are written already; the start stays on
			// the grid.
			earliest := (m.out + m.grid - 1) / m.grid * m.grid
			m.masks = append(m.masks, mask{channel: c, start: max(sp.Start-m.guard, earliest, 0), open: true})
		}
		if t.kind == ToneBegan && m.onTone != nil {
			m.onTone(c, sp.Start)
		}
	case toneDismissed, ToneEnded:
		if open >= 0 {
			end := sp.End + m.guard
			if t.streamEnd > 0 {
				end = t.streamEnd
			}
			mk := &m.masks[open]
			mk.open, mk.end = false, max(end, mk.start)
		}
	}
}

// writeTo silences what the masks cover in the held frames before upTo and
// writes them.
func (m *Masker) writeTo(upTo int64) {
	if m.err != nil || upTo <= m.out {
		return
	}
	n := (upTo - m.out) * int64(m.frameBytes)
	for _, mk := range m.masks {
		end := mk.end
		if mk.open {
			end = upTo
		}
		s, e := max(mk.start, m.out), min(end, upTo)
		if s < e {
			clear(m.held[(s-m.out)*int64(m.frameBytes) : (e-m.out)*int64(m.frameBytes)])
		}
	}
	if _, err := m.dst.Write(m.held[:n]); err != nil {
		m.err = fmt.Errorf("dtmf: writing audio: %w", err)
		return
	}
	m.held = m.held[:copy(m.held, m.held[n:])]
	m.out = upTo
	m.retire()
}

// retire moves to done the silence that is written and can no longer grow:
// groups of overlapping or touching masks that are all closed and end at or
// before out (a mask that begins later starts at out or after it).
func (m *Masker) retire() {
	if len(m.masks) == 0 {
		return
	}
	slices.SortFunc(m.masks, func(a, b mask) int { return int(a.start - b.start) })
	keep := m.masks[:0]
	for i := 0; i < len(m.masks); {
		g := Interval{Start: m.masks[i].start, End: m.masks[i].end}
		open := m.masks[i].open
		j := i + 1
		for ; j < len(m.masks) && (open || m.masks[j].start <= g.End); j++ {
			open = open || m.masks[j].open
			g.End = max(g.End, m.masks[j].end)
		}
		if open || g.End > m.out {
			keep = append(keep, m.masks[i:j]...)
		} else if g.End > g.Start {
			if n := len(m.done); n > 0 && m.done[n-1].End >= g.Start {
				m.done[n-1].End = max(m.done[n-1].End, g.End)
			} else {
				m.done = append(m.done, g)
			}
		}
		i = j
	}
	m.masks = keep
}
