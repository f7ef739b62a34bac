package testrig

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"os"
	"time"

	"github.com/callguard/callguard/rtpengine/g711"
	"github.com/callguard/callguard/rtpengine/pcap"
)

// Tone is test audio in which every second can be traced back: in source
// second s it is a sine of BaseHz + StepHz*s, so the tone heard in any
// stored stretch of a recording says which second of the source it was.
type Tone struct {
	BaseHz, StepHz float64
	Seconds        int
	SSRC           uint32
	PCMU           bool // µ-law (payload type 0) instead of A-law (8)
}

// Frequency is the tone's frequency in source second s.
func (tn Tone) Frequency(s int) float64 { return tn.BaseHz + tn.StepHz*float64(s) }

// Sample returns the tone's linear value at 8 kHz sample n.
func (tn Tone) Sample(n int) int16 {
	s := n / 8000
	return int16(8000 * math.Sin(2*math.Pi*tn.Frequency(s)*float64(n)/8000))
}

// Payload returns the G.711 payload of 20 ms packet k (160 samples).
func (tn Tone) Payload(k int) []byte {
	p := make([]byte, 160)
	for i := range p {
		v := tn.Sample(k*160 + i)
		if tn.PCMU {
			p[i] = g711.EncodeULaw(v)
		} else {
			p[i] = g711.EncodeALaw(v)
		}
	}
	return p
}

// RTP returns RTP packet k of the tone: sequence number k, timestamp
// 160*k, 20 ms of audio.
func (tn Tone) RTP(k int) []byte {
	pt := byte(8)
	if tn.PCMU {
		pt = 0
	}
	h := make([]byte, 12, 12+160)
	h[0], h[1] = 0x80, pt
	binary.BigEndian.PutUint16(h[2:], uint16(k))
	binary.BigEndian.PutUint32(h[4:], uint32(k*160))
	binary.BigEndian.PutUint32(h[8:], tn.SSRC)
	return append(h, tn.Payload(k)...)
}

// WriteTonePCAP writes the tone as a pcap of RTP packets every 20 ms
// (Ethernet/IPv4/UDP, as SIPp's play_pcap_audio reads), the Go version of
// the rig's mkpcap.py.
func WriteTonePCAP(path string, tn Tone) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := pcap.NewWriter(f, pcap.LinkEthernet)
	if err != nil {
		f.Close()
		return err
	}
	src := netip.MustParseAddrPort("127.0.0.1:6000")
	dst := netip.MustParseAddrPort("127.0.0.1:7000")
	t0 := time.Unix(1_700_000_000, 0)
	for k := range tn.Seconds * 50 {
		frame, err := pcap.EncodeUDP(pcap.LinkEthernet, src, dst, uint16(k), tn.RTP(k))
		if err != nil {
			f.Close()
			return err
		}
		if err := w.WriteRecord(t0.Add(time.Duration(k)*20*time.Millisecond), frame); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tone pcap: %w", err)
	}
	return nil
}

// ToneMatch is what DetectTone heard in a window of audio.
type ToneMatch struct {
	Tone   int     // index into the tones given
	Second int     // the source second whose frequency it was
	Ratio  float64 // its power over the next strongest candidate's
	RMS    float64
}

// DetectTone finds which tone and source second a window of audio at rate
// Hz carries, by the Goertzel power of every candidate frequency (each
// tone's seconds 0..Seconds-1).
func DetectTone(samples []int16, rate int, tones ...Tone) ToneMatch {
	best, second := -1.0, -1.0
	var m ToneMatch
	for ti, tn := range tones {
		for s := range tn.Seconds {
			p := goertzel(samples, tn.Frequency(s), rate)
			switch {
			case p > best:
				second, best = best, p
				m.Tone, m.Second = ti, s
			case p > second:
				second = p
			}
		}
	}
	if second > 0 {
		m.Ratio = best / second
	} else {
		m.Ratio = math.Inf(1)
	}
	var sum float64
	for _, v := range samples {
		sum += float64(v) * float64(v)
	}
	if len(samples) > 0 {
		m.RMS = math.Sqrt(sum / float64(len(samples)))
	}
	return m
}

func goertzel(x []int16, f float64, rate int) float64 {
	w := 2 * math.Cos(2*math.Pi*f/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+w*s1-s2, s1
	}
	return s1*s1 + s2*s2 - w*s1*s2
}
