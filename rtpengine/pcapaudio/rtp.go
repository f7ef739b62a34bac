package pcapaudio

import (
	"encoding/binary"
	"errors"
)

// rtpHeader is the part of an RTP packet the assembler uses.
type rtpHeader struct {
	pt      uint8
	seq     uint16
	ts      uint32
	ssrc    uint32
	payload []byte
}

var errNotRTP = errors.New("not RTP")

// isRTCP tells RTCP (payload types 200-204 in the second byte) from RTP,
// as in RFC 5761.
func isRTCP(p []byte) bool { return len(p) >= 2 && p[1] >= 192 && p[1] <= 223 }

func parseRTP(p []byte) (rtpHeader, error) {
	if len(p) < 12 || p[0]>>6 != 2 {
		return rtpHeader{}, errNotRTP
	}
	cc := int(p[0] & 0x0f)
	n := 12 + 4*cc
	if len(p) < n {
		return rtpHeader{}, errNotRTP
	}
	if p[0]&0x10 != 0 { // header extension
		if len(p) < n+4 {
			return rtpHeader{}, errNotRTP
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(p[n+2:n+4]))
		if len(p) < n {
			return rtpHeader{}, errNotRTP
		}
	}
	end := len(p)
	if p[0]&0x20 != 0 { // padding: the last byte says how much
		pad := int(p[end-1])
		if pad == 0 || end-pad < n {
			return rtpHeader{}, errNotRTP
		}
		end -= pad
	}
	return rtpHeader{
		pt:      p[1] & 0x7f,
		seq:     binary.BigEndian.Uint16(p[2:4]),
		ts:      binary.BigEndian.Uint32(p[4:8]),
		ssrc:    binary.BigEndian.Uint32(p[8:12]),
		payload: p[n:end],
	}, nil
}
