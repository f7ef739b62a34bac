package pcapaudio

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/callguard/callguard/rtpengine/pcap"
)

// BenchmarkAssemble assembles 10 minutes of a call recorded in both
// directions (two stretches around a pause) and writes the 16 kHz stereo
// audio out; it reports the cost per recorded hour.
func BenchmarkAssemble(b *testing.B) {
	const minutes = 10
	n := minutes * 60 * 50
	payload := callerTone.RTP(0)
	var sources [2][]byte
	for s := range sources {
		var buf bytes.Buffer
		w, _ := pcap.NewWriter(&buf, pcap.LinkEthernet)
		for k := s * n / 2; k < (s+1)*n/2; k++ {
			if s == 1 && k < n/2+250 { // a 5 s pause between the stretches
				continue
			}
			for side := range 2 {
				p := append([]byte(nil), payload...)
				binary.BigEndian.PutUint16(p[2:], uint16(k))
				binary.BigEndian.PutUint32(p[4:], uint32(k*160))
				to := callerPort
				if side == 1 {
					to = officerPort
					binary.BigEndian.PutUint32(p[8:], officerTone.SSRC)
				}
				frame, _ := pcap.EncodeUDP(pcap.LinkEthernet, callerPhone, to, uint16(k), p)
				w.WriteRecord(t0.Add(time.Duration(k+1)*20*time.Millisecond), frame)
			}
		}
		sources[s] = buf.Bytes()
	}
	b.SetBytes(int64(len(sources[0]) + len(sources[1])))
	b.ResetTimer()
	for b.Loop() {
		a, err := Assemble(Options{Sides: testSides}, source("a", sources[0]), source("b", sources[1]))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perOp*60/minutes, "s/recorded-hour")
}
