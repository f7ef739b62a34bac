package pcapaudio

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/rtpengine/pcap"
)

// The test call: the caller's packets arrive at rtpengine's callerPort,
// the officer's at officerPort (as rtpengine records them: source the
// phone, destination rtpengine).
var (
	callerPhone  = netip.MustParseAddrPort("192.0.2.10:40000")
	officerPhone = netip.MustParseAddrPort("192.0.2.20:40002")
	callerPort   = netip.MustParseAddrPort("192.0.2.1:52014")
	officerPort  = netip.MustParseAddrPort("192.0.2.1:52000")
	testSides    = Sides{callerPort: SideCaller, officerPort: SideOfficer}

	callerTone  = testrig.Tone{BaseHz: 400, StepHz: 100, Seconds: 20, SSRC: 0xaaaa0001}
	officerTone = testrig.Tone{BaseHz: 450, StepHz: 100, Seconds: 20, SSRC: 0xbbbb0002}

	t0 = time.Unix(1_700_000_000, 0)
)

// sent is one packet as the test's rtpengine recorded it.
type sent struct {
	at  time.Time // capture time
	rtp []byte
	dst netip.AddrPort
}

// tonePackets returns packets k in [from, to) of tone tn, captured at
// t0 + (k+1)*20 ms + delay(k) (a packet leaves once its audio was spoken).
func tonePackets(tn testrig.Tone, from, to int, dst netip.AddrPort, delay func(k int) time.Duration) []sent {
	var out []sent
	for k := from; k < to; k++ {
		d := time.Duration(0)
		if delay != nil {
			d = delay(k)
		}
		out = append(out, sent{at: t0.Add(time.Duration(k+1)*20*time.Millisecond + d), rtp: tn.RTP(k), dst: dst})
	}
	return out
}

// pcapOf writes packets, in the order given, as one rtpengine pcap.
func pcapOf(t testing.TB, link pcap.LinkType, pkts ...[]sent) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcap.NewWriter(&b, link)
	if err != nil {
		t.Fatal(err)
	}
	for _, list := range pkts {
		for i, p := range list {
			src := callerPhone
			if p.dst == officerPort {
				src = officerPhone
			}
			frame, err := pcap.EncodeUDP(link, src, p.dst, uint16(i), p.rtp)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteRecord(p.at, frame); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.Bytes()
}

func source(name string, data []byte) Source { return Source{Name: name, R: bytes.NewReader(data)} }

// render writes the assembly and splits it into officer and caller samples.
func render(t testing.TB, a *Assembly) (officer, caller []int16) {
	t.Helper()
	var b bytes.Buffer
	n, err := a.WriteTo(&b)
	if err != nil {
		t.Fatal(err)
	}
	if n != a.Frames*BytesPerFrame || int64(b.Len()) != n {
		t.Fatalf("wrote %d bytes, want %d frames", n, a.Frames)
	}
	data := b.Bytes()
	officer = make([]int16, a.Frames)
	caller = make([]int16, a.Frames)
	for i := range officer {
		officer[i] = int16(binary.LittleEndian.Uint16(data[4*i:]))
		caller[i] = int16(binary.LittleEndian.Uint16(data[4*i+2:]))
	}
	return officer, caller
}

// ms is the 16 kHz frame at a millisecond.
func ms(v int64) int64 { return v * SampleRate / 1000 }

// silent reports whether every sample of s in frames [from, to) is 0.
func silent(s []int16, from, to int64) bool {
	for _, v := range s[max(from, 0):min(to, int64(len(s)))] {
		if v != 0 {
			return false
		}
	}
	return true
}

// toneAt detects the tone in 100 ms of s from frame at.
func toneAt(s []int16, at int64, tones ...testrig.Tone) testrig.ToneMatch {
	return testrig.DetectTone(s[at:at+ms(100)], SampleRate, tones...)
}

func netipMust(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
