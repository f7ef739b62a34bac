package collector_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/collector"
	"github.com/callguard/callguard/rtpengine/g711"
	"github.com/callguard/callguard/rtpengine/pcap"
	"github.com/callguard/callguard/rtpengine/pcapaudio"
)

// packets is a span of 20 ms packets [from, to).
type packets struct{ from, to int }

// writeBursts writes a pcap of one stretch, packets from to to, in which
// each side carries a tone in the packets of its spans and A-law silence
// elsewhere.
func writeBursts(tb testing.TB, path string, from, to int, caller, officer []packets) {
	tb.Helper()
	writeAudio(tb, path, from, to, func(side, n int) float64 {
		for _, s := range [][]packets{caller, officer}[side] {
			if n/160 >= s.from && n/160 < s.to {
				return 3000 * math.Sin(2*math.Pi*(440+110*float64(side))*float64(n)/8000)
			}
		}
		return 0
	})
}

// writeAudio writes a pcap of one stretch, packets from to to, each side's
// 8 kHz sample n (0 the caller, 1 the officer) given by sample, in A-law.
func writeAudio(tb testing.TB, path string, from, to int, sample func(side, n int) float64) {
	tb.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.LinkEthernet)
	if err != nil {
		tb.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	for k := from; k < to; k++ {
		for side, dst := range []netip.AddrPort{callerPort, officerPort} {
			p := make([]byte, 12+160)
			p[0], p[1] = 0x80, 8 // RTP v2, PCMA
			binary.BigEndian.PutUint16(p[2:], uint16(k))
			binary.BigEndian.PutUint32(p[4:], uint32(k*160))
			binary.BigEndian.PutUint32(p[8:], uint32(0xaaaa0001+side))
			for i := range 160 {
				p[12+i] = g711.EncodeALaw(int16(sample(side, k*160+i)))
			}
			frame, err := pcap.EncodeUDP(pcap.LinkEthernet, callerPhone, dst, uint16(k), p)
			if err != nil {
				tb.Fatal(err)
			}
			if err := w.WriteRecord(t0.Add(time.Duration(k+1)*20*time.Millisecond), frame); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// A phone-system recording in two stretches (the phone system's recorder
// stopped for 2 s between them) gets the desktop's timeline: each side's
// tones within one 20 ms frame of the truth, the officer's tone that went
// on through the gap cut at both its edges, nothing voiced in the gap.
func TestCollectedRecordingHasAVoiceTimeline(t *testing.T) {
	dir := t.TempDir()
	officer := []packets{{25, 100}, {150, 420}, {600, 650}}
	caller := []packets{{80, 130}, {133, 200}, {500, 600}} // a 60 ms gap: bridged
	pcaps := []string{filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")}
	writeBursts(t, pcaps[0], 0, 300, caller, officer)
	writeBursts(t, pcaps[1], 400, 700, caller, officer)
	_, recipient, err := artefact.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	m, err := collector.Convert(collector.Call{ID: "c0ffee04", Sides: pcapaudio.Sides{callerPort: pcapaudio.SideCaller, officerPort: pcapaudio.SideOfficer}},
		pcaps, []string{recipient}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pauses) != 1 || m.Voice == nil {
		t.Fatalf("pauses %+v, voice %+v", m.Pauses, m.Voice)
	}
	p := m.Pauses[0]
	ms := func(k int) int64 { return int64(k) * 20 }
	want := map[string][]artefact.Span{
		"officer": {{FromMS: ms(25), ToMS: ms(100)}, {FromMS: ms(150), ToMS: p.StartMS}, {FromMS: *p.EndMS, ToMS: ms(420)}, {FromMS: ms(600), ToMS: ms(650)}},
		"caller":  {{FromMS: ms(80), ToMS: ms(200)}, {FromMS: ms(500), ToMS: ms(600)}},
	}
	var worst int64
	for name, runs := range map[string][]int32{"officer": m.Voice.Officer, "caller": m.Voice.Caller} {
		if got := artefact.Frames(runs) * 320; got != m.Frames {
			t.Errorf("%s: the timeline covers %d frames, the recording %d", name, got, m.Frames)
		}
		got, err := m.Voice.Spans(runs)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want[name]) {
			t.Fatalf("%s: voiced %v, want %v (pause %d-%d ms)", name, got, want[name], p.StartMS, *p.EndMS)
		}
		for i, s := range got {
			if s.FromMS < *p.EndMS && s.ToMS > p.StartMS {
				t.Errorf("%s: voiced %v in the gap %d-%d ms", name, s, p.StartMS, *p.EndMS)
			}
			for _, e := range [][2]int64{{s.FromMS, want[name][i].FromMS}, {s.ToMS, want[name][i].ToMS}} {
				d := max(e[0]-e[1], e[1]-e[0])
				worst = max(worst, d)
				if d >= artefact.VoiceFrameMS {
					t.Errorf("%s: an edge at %d ms, the truth is %d ms", name, e[0], e[1])
				}
			}
		}
	}
	t.Logf("gap %d-%d ms; every edge within %d ms of the truth", p.StartMS, *p.EndMS, worst)
}
