package collector_test

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/collector"
	"github.com/callguard/callguard/rtpengine/pcapaudio"
)

var (
	callerPhone = netip.MustParseAddrPort("192.0.2.10:40000")
	callerPort  = netip.MustParseAddrPort("192.0.2.1:52014")
	officerPort = netip.MustParseAddrPort("192.0.2.1:52000")
)

// writeStretch writes a pcap as rtpengine records one stretch: both sides'
// PCMA packets, 20 ms each, from packet from to packet to.
func writeStretch(tb testing.TB, path string, from, to int) {
	tb.Helper()
	writeAudio(tb, path, from, to, func(side, n int) float64 {
		return 8000 * math.Sin(2*math.Pi*(400+50*float64(side))*float64(n)/8000)
	})
}

// BenchmarkConvert measures the collector's cost per recorded hour: ten
// minutes of a two-sided G.711 call in two stretches with a pause between,
// assembled, rendered to 16 kHz stereo, encrypted with age and hashed, the
// manifest written.
func BenchmarkConvert(b *testing.B) {
	const minutes = 10
	n := minutes * 60 * 50
	dir := b.TempDir()
	pcaps := []string{filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")}
	writeStretch(b, pcaps[0], 0, n/2)
	writeStretch(b, pcaps[1], n/2+250, n) // a 5 s pause
	_, recipient, err := artefact.NewIdentity()
	if err != nil {
		b.Fatal(err)
	}
	call := collector.Call{Agent: "1001", Direction: "inbound", Notice: "announced",
		Sides: pcapaudio.Sides{callerPort: pcapaudio.SideCaller, officerPort: pcapaudio.SideOfficer}}
	i := 0
	for b.Loop() {
		i++
		out := filepath.Join(dir, "out", string(rune('a'+i%26)), time.Now().Format("150405.000000000"))
		if err := os.MkdirAll(out, 0o700); err != nil {
			b.Fatal(err)
		}
		call.ID = "c0ffee01"
		m, err := collector.Convert(call, pcaps, []string{recipient}, out)
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Pauses) != 1 {
			b.Fatalf("pauses %+v", m.Pauses)
		}
		os.RemoveAll(out)
	}
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perOp*60/minutes, "s/recorded-hour")
}
