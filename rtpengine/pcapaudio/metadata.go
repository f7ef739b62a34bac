package pcapaudio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Metadata is rtpengine's metadata file of one recorded stretch (in
// recording-dir/metadata/ once the stretch's pcap is closed: the sign that
// the pcap is complete).
type Metadata struct {
	PCAP string // the stretch's pcap file
	// SDPs are the offer and answer as rtpengine rewrote them. Only a
	// stretch recording since the call's offer has them: a stretch started
	// by "start recording" later has none.
	SDPs       []SDP
	Terminated time.Time // when the call ended; zero while it goes on
	// CallStart and CallEnd are to the second, in rtpengine's local time.
	CallStart, CallEnd time.Time
}

// SDP is one session description rtpengine wrote to a metadata file.
type SDP struct {
	Mode    string    // "offer" or "answer"
	Started time.Time // when rtpengine handled it
	Body    string
}

// Party is a side of the SIP offer/answer exchange.
type Party int

// The parties of a call: the offerer sent the INVITE with SDP (the caller),
// the answerer answered it.
const (
	PartyUnknown Party = iota
	Offerer
	Answerer
)

// ReadMetadata parses a metadata file.
func ReadMetadata(r io.Reader) (*Metadata, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(linesKeepingCR) // the SDP's lines end in CRLF, the file's in LF
	m := &Metadata{}
	var cur *SDP
	inBody := false
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			m.PCAP = strings.TrimSpace(line)
			first = false
			if m.PCAP == "" {
				return nil, errors.New("rtpengine metadata: no pcap file on the first line")
			}
			continue
		}
		if inBody {
			if strings.HasSuffix(line, "\r") {
				cur.Body += line + "\n"
				continue
			}
			inBody = false // the blank line after the SDP
		}
		key, val, ok := strings.Cut(line, ": ")
		if !ok {
			if cur != nil && line == "" && cur.Body == "" && cur.Mode != "" {
				inBody = true
			}
			continue
		}
		switch {
		case key == "Timestamp started ms":
			m.SDPs = append(m.SDPs, SDP{Started: millis(val)})
			cur = &m.SDPs[len(m.SDPs)-1]
		case key == "SDP mode" && cur != nil:
			cur.Mode = val
		case strings.HasPrefix(key, "Timestamp terminated ms"):
			m.Terminated = millis(val)
			cur = nil
		case key == "call start time":
			m.CallStart, _ = time.ParseInLocation("2006-01-02T15:04:05", val, time.Local)
		case key == "call end time":
			m.CallEnd, _ = time.ParseInLocation("2006-01-02T15:04:05", val, time.Local)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("rtpengine metadata: %w", err)
	}
	if first {
		return nil, errors.New("rtpengine metadata: empty file")
	}
	return m, nil
}

// linesKeepingCR splits at LF and, unlike bufio.ScanLines, keeps a CR
// before it.
func linesKeepingCR(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// millis parses "1796234424178.853" (ms since the epoch); 0 is zero time.
func millis(s string) time.Time {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 {
		return time.Time{}
	}
	return time.UnixMicro(int64(f * 1000))
}

// ErrNoSDP: the metadata holds no offer and answer to tell the sides by.
var ErrNoSDP = errors.New("rtpengine metadata: no offer and answer (recording started after the call was set up)")

// Sides tells the call's two directions apart from the offer and answer
// rtpengine wrote: the offer it sent on to the answerer names the address
// where the answerer's packets arrive, the answer it sent back to the
// offerer the address where the offerer's arrive. officer says which of
// the two the officer is: the answerer of an inbound call, the offerer of
// an outbound one.
func (m *Metadata) Sides(officer Party) (Sides, error) {
	if officer != Offerer && officer != Answerer {
		return nil, errors.New("pcapaudio: say whether the officer offered or answered")
	}
	var offer, answer string
	for _, s := range m.SDPs {
		switch s.Mode {
		case "offer":
			offer = s.Body
		case "answer":
			answer = s.Body
		}
	}
	if offer == "" || answer == "" {
		return nil, ErrNoSDP
	}
	fromAnswerer, err := sdpAudio(offer)
	if err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	fromOfferer, err := sdpAudio(answer)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	sides := Sides{}
	for _, a := range fromAnswerer {
		sides[a] = map[Party]Side{Answerer: SideOfficer, Offerer: SideCaller}[officer]
	}
	for _, a := range fromOfferer {
		sides[a] = map[Party]Side{Offerer: SideOfficer, Answerer: SideCaller}[officer]
	}
	return sides, nil
}

// sdpAudio returns the address of every audio m= line of an SDP.
func sdpAudio(sdp string) ([]netip.AddrPort, error) {
	var session, media netip.Addr
	var out []netip.AddrPort
	inAudio, seenM := false, false
	var port uint16
	flush := func() {
		if inAudio && port != 0 {
			a := media
			if !a.IsValid() {
				a = session
			}
			if a.IsValid() {
				out = append(out, netip.AddrPortFrom(a, port))
			}
		}
	}
	for _, line := range strings.Split(sdp, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "m="):
			flush()
			seenM = true
			f := strings.Fields(line[2:])
			inAudio, port, media = len(f) >= 2 && f[0] == "audio", 0, netip.Addr{}
			if inAudio {
				if p, err := strconv.ParseUint(f[1], 10, 16); err == nil {
					port = uint16(p)
				}
			}
		case strings.HasPrefix(line, "c="):
			f := strings.Fields(line[2:])
			if len(f) < 3 {
				continue
			}
			a, err := netip.ParseAddr(strings.Split(f[2], "/")[0])
			if err != nil {
				continue
			}
			if seenM {
				media = a
			} else {
				session = a
			}
		}
	}
	flush()
	if len(out) == 0 {
		return nil, errors.New("no audio address")
	}
	return out, nil
}
