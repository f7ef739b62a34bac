package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Datagram is a UDP datagram taken out of a captured frame.
type Datagram struct {
	Src, Dst netip.AddrPort
	Payload  []byte // aliases the frame
}

var (
	// ErrNotUDP: the frame holds something other than a whole, unfragmented
	// UDP datagram over IPv4 or IPv6 (ARP, TCP, an IP fragment...).
	ErrNotUDP = errors.New("pcap: not a UDP datagram")
	// ErrLinkType: frames of this link type are not decoded.
	ErrLinkType = errors.New("pcap: unsupported link type")
)

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86DD
	etherVLAN = 0x8100
	etherQinQ = 0x88A8
)

// DecodeUDP returns the UDP datagram a frame of link type link carries.
func DecodeUDP(link LinkType, frame []byte) (Datagram, error) {
	switch link {
	case LinkEthernet:
		if len(frame) < 14 {
			return Datagram{}, fmt.Errorf("%w: short ethernet frame", ErrNotUDP)
		}
		etype, rest := binary.BigEndian.Uint16(frame[12:14]), frame[14:]
		for etype == etherVLAN || etype == etherQinQ {
			if len(rest) < 4 {
				return Datagram{}, fmt.Errorf("%w: short VLAN tag", ErrNotUDP)
			}
			etype, rest = binary.BigEndian.Uint16(rest[2:4]), rest[4:]
		}
		return decodeIP(etype, rest)
	case LinkRaw, linkRawDLT, linkRawOpenBSD:
		return decodeIP(0, frame)
	case LinkIPv4:
		return decodeIP(etherIPv4, frame)
	case LinkIPv6:
		return decodeIP(etherIPv6, frame)
	case LinkNull:
		if len(frame) < 4 {
			return Datagram{}, fmt.Errorf("%w: short loopback header", ErrNotUDP)
		}
		// The family is in the capturing host's byte order: try both.
		fam := binary.LittleEndian.Uint32(frame[:4])
		if fam > 0xFFFF {
			fam = binary.BigEndian.Uint32(frame[:4])
		}
		switch fam {
		case 2:
			return decodeIP(etherIPv4, frame[4:])
		case 24, 28, 30:
			return decodeIP(etherIPv6, frame[4:])
		}
		return Datagram{}, fmt.Errorf("%w: address family %d", ErrNotUDP, fam)
	case LinkLinuxSLL:
		if len(frame) < 16 {
			return Datagram{}, fmt.Errorf("%w: short cooked header", ErrNotUDP)
		}
		return decodeIP(binary.BigEndian.Uint16(frame[14:16]), frame[16:])
	case LinkLinuxSLL2:
		if len(frame) < 20 {
			return Datagram{}, fmt.Errorf("%w: short cooked header", ErrNotUDP)
		}
		return decodeIP(binary.BigEndian.Uint16(frame[0:2]), frame[20:])
	}
	return Datagram{}, fmt.Errorf("%w: %v", ErrLinkType, link)
}

// decodeIP decodes an IP packet; etype 0 means "look at the version".
func decodeIP(etype uint16, p []byte) (Datagram, error) {
	if etype == 0 && len(p) > 0 {
		switch p[0] >> 4 {
		case 4:
			etype = etherIPv4
		case 6:
			etype = etherIPv6
		}
	}
	switch etype {
	case etherIPv4:
		return decodeIPv4(p)
	case etherIPv6:
		return decodeIPv6(p)
	}
	return Datagram{}, fmt.Errorf("%w: ethertype %#04x", ErrNotUDP, etype)
}

func decodeIPv4(p []byte) (Datagram, error) {
	if len(p) < 20 || p[0]>>4 != 4 {
		return Datagram{}, fmt.Errorf("%w: bad IPv4 header", ErrNotUDP)
	}
	ihl := int(p[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(p[2:4]))
	if ihl < 20 || total < ihl || len(p) < ihl {
		return Datagram{}, fmt.Errorf("%w: bad IPv4 lengths", ErrNotUDP)
	}
	if flags := binary.BigEndian.Uint16(p[6:8]); flags&0x3FFF != 0 { // MF or an offset
		return Datagram{}, fmt.Errorf("%w: IPv4 fragment", ErrNotUDP)
	}
	if p[9] != 17 {
		return Datagram{}, fmt.Errorf("%w: IP protocol %d", ErrNotUDP, p[9])
	}
	if total < len(p) {
		p = p[:total] // Ethernet padding
	}
	src, _ := netip.AddrFromSlice(p[12:16])
	dst, _ := netip.AddrFromSlice(p[16:20])
	return decodeUDPHeader(src, dst, p[ihl:])
}

func decodeIPv6(p []byte) (Datagram, error) {
	if len(p) < 40 || p[0]>>4 != 6 {
		return Datagram{}, fmt.Errorf("%w: bad IPv6 header", ErrNotUDP)
	}
	payloadLen := int(binary.BigEndian.Uint16(p[4:6]))
	next := p[6]
	src, _ := netip.AddrFromSlice(p[8:24])
	dst, _ := netip.AddrFromSlice(p[24:40])
	rest := p[40:]
	if payloadLen < len(rest) {
		rest = rest[:payloadLen]
	}
	for {
		switch next {
		case 17:
			return decodeUDPHeader(src, dst, rest)
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(rest) < 8 {
				return Datagram{}, fmt.Errorf("%w: short IPv6 extension header", ErrNotUDP)
			}
			n := (int(rest[1]) + 1) * 8
			if len(rest) < n {
				return Datagram{}, fmt.Errorf("%w: short IPv6 extension header", ErrNotUDP)
			}
			next, rest = rest[0], rest[n:]
		case 44:
			return Datagram{}, fmt.Errorf("%w: IPv6 fragment", ErrNotUDP)
		default:
			return Datagram{}, fmt.Errorf("%w: IPv6 next header %d", ErrNotUDP, next)
		}
	}
}

func decodeUDPHeader(src, dst netip.Addr, p []byte) (Datagram, error) {
	if len(p) < 8 {
		return Datagram{}, fmt.Errorf("%w: short UDP header", ErrNotUDP)
	}
	n := int(binary.BigEndian.Uint16(p[4:6]))
	if n < 8 || n > len(p) {
		return Datagram{}, fmt.Errorf("%w: UDP length %d of %d captured", ErrNotUDP, n, len(p))
	}
	return Datagram{
		Src:     netip.AddrPortFrom(src.Unmap(), binary.BigEndian.Uint16(p[0:2])),
		Dst:     netip.AddrPortFrom(dst.Unmap(), binary.BigEndian.Uint16(p[2:4])),
		Payload: p[8:n],
	}, nil
}

// EncodeUDP builds a frame of link type link (LinkEthernet, LinkRaw,
// LinkIPv4 or LinkIPv6) carrying payload from src to dst over UDP, as a
// capture of it would hold. IPv4 gets its header checksum; the UDP
// checksum is left 0 ("none"), which IPv4 allows.
func EncodeUDP(link LinkType, src, dst netip.AddrPort, id uint16, payload []byte) ([]byte, error) {
	if src.Addr().Is4() != dst.Addr().Is4() {
		return nil, errors.New("pcap: source and destination of different IP versions")
	}
	udp := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	copy(udp[8:], payload)
	var ip []byte
	var etype uint16
	if src.Addr().Is4() {
		etype = etherIPv4
		ip = make([]byte, 20, 20+len(udp))
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(udp)))
		binary.BigEndian.PutUint16(ip[4:], id)
		s, d := src.Addr().As4(), dst.Addr().As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		binary.BigEndian.PutUint16(ip[10:], checksum(ip))
	} else {
		etype = etherIPv6
		ip = make([]byte, 40, 40+len(udp))
		ip[0], ip[6], ip[7] = 0x60, 17, 64
		binary.BigEndian.PutUint16(ip[4:], uint16(len(udp)))
		s, d := src.Addr().As16(), dst.Addr().As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
	}
	ip = append(ip, udp...)
	switch link {
	case LinkEthernet:
		frame := make([]byte, 14, 14+len(ip))
		binary.BigEndian.PutUint16(frame[12:], etype)
		return append(frame, ip...), nil
	case LinkRaw, LinkIPv4, LinkIPv6:
		if link == LinkIPv4 && etype != etherIPv4 || link == LinkIPv6 && etype != etherIPv6 {
			return nil, fmt.Errorf("pcap: %v frames cannot carry these addresses", link)
		}
		return ip, nil
	}
	return nil, fmt.Errorf("%w: %v", ErrLinkType, link)
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for s > 0xFFFF {
		s = s>>16 + s&0xFFFF
	}
	return ^uint16(s)
}
