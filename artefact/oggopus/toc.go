package oggopus

import (
	"fmt"
	"time"
)

// Mode is the coding mode of an Opus packet (RFC 6716 section 3.1).
type Mode int

// The modes; the zero value means unknown.
const (
	ModeUnknown Mode = iota
	ModeSILK         // linear prediction, for speech up to wideband
	ModeHybrid       // SILK below 8 kHz, CELT above
	ModeCELT         // transform coding
)

// String names the mode as RFC 6716 does.
func (m Mode) String() string {
	switch m {
	case ModeSILK:
		return "SILK-only"
	case ModeHybrid:
		return "Hybrid"
	case ModeCELT:
		return "CELT-only"
	}
	return "unknown"
}

// Bandwidth is the audio bandwidth of an Opus packet.
type Bandwidth int

// The bandwidths; the zero value means unknown.
const (
	BandwidthUnknown Bandwidth = iota
	Narrowband                 // 4 kHz
	Mediumband                 // 6 kHz
	Wideband                   // 8 kHz
	SuperWideband              // 12 kHz
	Fullband                   // 20 kHz
)

// String names the bandwidth as RFC 6716 does.
func (b Bandwidth) String() string {
	switch b {
	case Narrowband:
		return "NB"
	case Mediumband:
		return "MB"
	case Wideband:
		return "WB"
	case SuperWideband:
		return "SWB"
	case Fullband:
		return "FB"
	}
	return "unknown"
}

// TOC is the first byte of an Opus packet: its configuration (mode,
// bandwidth, frame size), whether it is stereo, and how many frames it holds
// (RFC 6716 section 3.1).
type TOC byte

// Config is the configuration number, 0 to 31.
func (t TOC) Config() int { return int(t >> 3) }

// Stereo reports whether the packet's frames are coded in stereo.
func (t TOC) Stereo() bool { return t&0x04 != 0 }

// Code is the frame count code: 0 for one frame, 1 for two of equal size,
// 2 for two of different sizes, 3 for a count given in the next byte.
func (t TOC) Code() int { return int(t & 0x03) }

// Mode is the packet's coding mode.
func (t TOC) Mode() Mode {
	switch c := t.Config(); {
	case c < 12:
		return ModeSILK
	case c < 16:
		return ModeHybrid
	default:
		return ModeCELT
	}
}

// Bandwidth is the packet's audio bandwidth.
func (t TOC) Bandwidth() Bandwidth {
	switch c := t.Config(); {
	case c < 4:
		return Narrowband
	case c < 8:
		return Mediumband
	case c < 12:
		return Wideband
	case c < 14:
		return SuperWideband
	case c < 16:
		return Fullband
	case c < 20:
		return Narrowband
	case c < 24:
		return Wideband
	case c < 28:
		return SuperWideband
	default:
		return Fullband
	}
}

// FrameSamples is the duration of one frame of the packet in 48 kHz
// samples: 120 (2.5 ms) to 2880 (60 ms).
func (t TOC) FrameSamples() int {
	c := t.Config()
	switch {
	case c < 12: // SILK: 10, 20, 40, 60 ms
		return [4]int{480, 960, 1920, 2880}[c%4]
	case c < 16: // Hybrid: 10, 20 ms
		return [2]int{480, 960}[c%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		return [4]int{120, 240, 480, 960}[c%4]
	}
}

// String describes the TOC, for example "SILK-only WB 20 ms stereo".
func (t TOC) String() string {
	ch := "mono"
	if t.Stereo() {
		ch = "stereo"
	}
	return fmt.Sprintf("%s %s %v %s", t.Mode(), t.Bandwidth(), samplesDuration(t.FrameSamples()), ch)
}

// maxPacketSamples is the longest an Opus packet may last: 120 ms.
const maxPacketSamples = 5760

// PacketFrames returns how many frames the Opus packet p holds.
func PacketFrames(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, fmt.Errorf("%w: empty Opus packet", ErrCorrupt)
	}
	switch TOC(p[0]).Code() {
	case 0:
		return 1, nil
	case 1, 2:
		return 2, nil
	}
	if len(p) < 2 {
		return 0, fmt.Errorf("%w: Opus packet of code 3 without its frame count", ErrCorrupt)
	}
	n := int(p[1] & 0x3f)
	if n == 0 {
		return 0, fmt.Errorf("%w: Opus packet of zero frames", ErrCorrupt)
	}
	return n, nil
}

// PacketSamples returns the duration of the Opus packet p in 48 kHz
// samples. A packet longer than 120 ms is corrupt.
func PacketSamples(p []byte) (int, error) {
	n, err := PacketFrames(p)
	if err != nil {
		return 0, err
	}
	d := n * TOC(p[0]).FrameSamples()
	if d > maxPacketSamples {
		return 0, fmt.Errorf("%w: Opus packet of %v (at most 120 ms)", ErrCorrupt, samplesDuration(d))
	}
	return d, nil
}

// samplesDuration converts a count of 48 kHz samples to a duration.
func samplesDuration[N ~int | ~int64](n N) time.Duration {
	return time.Duration(n) * time.Second / SampleRate
}
