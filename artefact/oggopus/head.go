package oggopus

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Head is the identification header of an Ogg Opus stream, its first
// packet (RFC 7845 section 5.1).
type Head struct {
	// Version is the encapsulation version, 1 for every stream written
	// today; versions up to 15 are read as 1.
	Version byte
	// Channels is 1 or 2.
	Channels int
	// PreSkip is how many 48 kHz samples at the start a decoder discards
	// (the encoder's delay).
	PreSkip int
	// InputRate is the sample rate of the audio the encoder was given, in
	// Hz; informational (Opus always runs at 48 kHz granules).
	InputRate int
	// OutputGain is a gain in 1/256 dB that players apply.
	OutputGain int16
}

// SampleRate is the rate of Opus granule positions and of packet
// durations: 48 kHz, whatever the rate of the input.
const SampleRate = 48000

const (
	headMagic = "OpusHead"
	tagsMagic = "OpusTags"
	headSize  = 19
	// maxPacket bounds the memory a packet or header may take. An Opus
	// audio packet is at most about 61 KB (RFC 6716); tags with cover
	// art can be larger, but not in a recording.
	maxPacket = 1 << 20
)

// ParseHead parses an OpusHead packet. Only mapping family 0 (mono or
// stereo) is supported.
func ParseHead(p []byte) (Head, error) {
	if len(p) < headSize || string(p[:8]) != headMagic {
		return Head{}, fmt.Errorf("%w: the first packet is not an OpusHead", ErrCorrupt)
	}
	h := Head{
		Version:    p[8],
		Channels:   int(p[9]),
		PreSkip:    int(binary.LittleEndian.Uint16(p[10:])),
		InputRate:  int(binary.LittleEndian.Uint32(p[12:])),
		OutputGain: int16(binary.LittleEndian.Uint16(p[16:])),
	}
	if h.Version>>4 != 0 {
		return Head{}, fmt.Errorf("%w: OpusHead version %d", ErrUnsupported, h.Version)
	}
	if family := p[18]; family != 0 {
		return Head{}, fmt.Errorf("%w: channel mapping family %d (only mono and stereo are supported)", ErrUnsupported, family)
	}
	if h.Channels != 1 && h.Channels != 2 {
		return Head{}, fmt.Errorf("%w: %d channels with mapping family 0", ErrCorrupt, h.Channels)
	}
	return h, nil
}

// Marshal returns the OpusHead packet (version 1, mapping family 0).
func (h Head) Marshal() []byte {
	b := make([]byte, headSize)
	copy(b, headMagic)
	b[8] = 1
	b[9] = byte(h.Channels)
	binary.LittleEndian.PutUint16(b[10:], uint16(h.PreSkip))
	binary.LittleEndian.PutUint32(b[12:], uint32(h.InputRate))
	binary.LittleEndian.PutUint16(b[16:], uint16(h.OutputGain))
	return b
}

// Tags is the comment header, the second packet (RFC 7845 section 5.2).
type Tags struct {
	// Vendor names the encoder.
	Vendor string
	// Comments are "NAME=value" pairs.
	Comments []string
}

// Get returns the value of the first comment named name (case-insensitive,
// as Vorbis comments are), and whether there is one.
func (t Tags) Get(name string) (string, bool) {
	for _, c := range t.Comments {
		k, v, ok := strings.Cut(c, "=")
		if ok && strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// ParseTags parses an OpusTags packet.
func ParseTags(p []byte) (Tags, error) {
	bad := fmt.Errorf("%w: the second packet is not a valid OpusTags", ErrCorrupt)
	if len(p) < 16 || string(p[:8]) != tagsMagic {
		return Tags{}, bad
	}
	rest := p[8:]
	next := func() (string, bool) {
		if len(rest) < 4 {
			return "", false
		}
		n := binary.LittleEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return "", false
		}
		s := string(rest[4 : 4+n])
		rest = rest[4+n:]
		return s, true
	}
	var t Tags
	var ok bool
	if t.Vendor, ok = next(); !ok || len(rest) < 4 {
		return Tags{}, bad
	}
	count := binary.LittleEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(count) > uint64(len(rest)/4) { // each comment takes at least its length
		return Tags{}, bad
	}
	for range count {
		c, ok := next()
		if !ok {
			return Tags{}, bad
		}
		t.Comments = append(t.Comments, c)
	}
	return t, nil
}

// Marshal returns the OpusTags packet.
func (t Tags) Marshal() []byte {
	b := []byte(tagsMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Vendor)))
	b = append(b, t.Vendor...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Comments)))
	for _, c := range t.Comments {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b
}
