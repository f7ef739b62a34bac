package oggopus

import (
	"errors"
	"fmt"
)

// ErrBadSilence: a packet given as silence is not one Opus frame small
// enough to stand in for another packet.
var ErrBadSilence = errors.New("not a usable Opus silence packet")

// celtSilenceFrame is a CELT frame whose first symbol, the silence flag
// (RFC 6716 section 4.3), is set: the two bytes the range coder leaves for
// that one bit, and what libopus's encoder writes for digital silence in
// CELT mode. A decoder outputs zeros for it, after the fade-out of the
// frame before; it codes nothing else, so it is the same for every frame
// size, bandwidth and channel count. (A frame of one byte or less would not
// do: decoders treat it as a lost packet and conceal it with a guess.)
var celtSilenceFrame = []byte{0xff, 0xfe}

// maxSilencePacket keeps a replacement packet to one lacing value, so that a
// page never grows when packets on it are replaced.
const maxSilencePacket = maxLacingValue - 1

// CELTSilence returns an Opus packet of the given duration (48 kHz samples,
// a multiple of 120 up to 5760, that is 2.5 ms to 120 ms) that decodes to
// digital silence: CELT frames with the silence flag, in the bandwidth that
// suits an input of inputRate Hz (0 for fullband), mono or stereo. It needs
// no encoder, so the server builds it from a stream's OpusHead.
func CELTSilence(channels, inputRate, samples int) ([]byte, error) {
	if samples <= 0 || samples%120 != 0 || samples > maxPacketSamples {
		return nil, fmt.Errorf("oggopus: no Opus packet lasts %d samples", samples)
	}
	// The longest frame that makes up the duration in at most 48 frames.
	frame := 960
	for samples%frame != 0 {
		frame /= 2
	}
	config := map[int]int{120: 0, 240: 1, 480: 2, 960: 3}[frame]
	switch {
	case inputRate > 0 && inputRate <= 8000:
		config += 16 // NB
	case inputRate > 0 && inputRate <= 16000:
		config += 20 // WB
	case inputRate > 0 && inputRate <= 24000:
		config += 24 // SWB
	default:
		config += 28 // FB
	}
	toc := TOC(config << 3)
	if channels == 2 {
		toc |= 0x04
	}
	return repeatFrame(toc, celtSilenceFrame, samples/frame), nil
}

// repeatFrame builds a packet of n copies of one frame: code 0 for one,
// code 1 (two frames of equal size) for two, code 3 with constant-size
// frames and no padding for more (RFC 6716 section 3.2).
func repeatFrame(toc TOC, frame []byte, n int) []byte {
	toc &^= 0x03
	var p []byte
	switch n {
	case 1:
		p = append(make([]byte, 0, 1+len(frame)), byte(toc))
	case 2:
		p = append(make([]byte, 0, 1+2*len(frame)), byte(toc|1))
	default:
		p = append(make([]byte, 0, 2+n*len(frame)), byte(toc|3), byte(n))
	}
	for range n {
		p = append(p, frame...)
	}
	return p
}

// silencer gives the replacement for a packet of a given duration: the
// packet the caller gave, repeated to fill it when it can, CELT silence
// otherwise.
type silencer struct {
	toc       TOC
	frame     []byte // the given packet's frame, nil when none was given
	samples   int    // its duration
	channels  int
	inputRate int
	cache     map[int][]byte
}

// CheckSilence checks that p can stand in for redacted packets: a single
// Opus frame (code 0) of at most 254 bytes. Whether it decodes to silence
// is the encoder's promise, which its tests keep.
func CheckSilence(p []byte) error {
	if len(p) < 2 || len(p) > maxSilencePacket {
		return fmt.Errorf("%w: %d bytes (2 to %d)", ErrBadSilence, len(p), maxSilencePacket)
	}
	if TOC(p[0]).Code() != 0 {
		return fmt.Errorf("%w: it holds more than one frame", ErrBadSilence)
	}
	return nil
}

func newSilencer(packet []byte, head Head) (*silencer, error) {
	s := &silencer{channels: head.Channels, inputRate: head.InputRate, cache: map[int][]byte{}}
	if packet == nil {
		return s, nil
	}
	if err := CheckSilence(packet); err != nil {
		return nil, err
	}
	s.toc, s.frame, s.samples = TOC(packet[0]), packet[1:], TOC(packet[0]).FrameSamples()
	return s, nil
}

// packet returns a silent packet of the given duration.
func (s *silencer) packet(samples int) ([]byte, error) {
	if p, ok := s.cache[samples]; ok {
		return p, nil
	}
	var p []byte
	if s.frame != nil && samples%s.samples == 0 {
		n := samples / s.samples
		if q := repeatFrame(s.toc, s.frame, n); len(q) <= maxSilencePacket && n <= 48 {
			p = q
		}
	}
	if p == nil {
		var err error
		if p, err = CELTSilence(s.channels, s.inputRate, samples); err != nil {
			return nil, err
		}
	}
	s.cache[samples] = p
	return p, nil
}
