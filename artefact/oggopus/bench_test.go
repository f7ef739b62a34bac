package oggopus_test

import (
	"bytes"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact/oggopus"
)

// longStream is the opusenc sample's packets over and over for d, framed
// by the Writer: a recording of d at opusenc's 24 kbit/s.
func longStream(t testing.TB, d time.Duration) []byte {
	t.Helper()
	head, ps := mustReadAll(t, speech(t))
	var buf bytes.Buffer
	w, err := oggopus.NewWriter(&buf, head, oggopus.Tags{Vendor: "callguard test"})
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < int(d/(20*time.Millisecond)); n++ {
		if err := w.WritePacket(ps[n%len(ps)].Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The budget: a 10-minute interval of a 1-hour recording redacted
// in under a second (the age decryption and encryption around it aside).
func BenchmarkRedact10MinOf1Hour(b *testing.B) {
	stream := longStream(b, time.Hour)
	cuts := []oggopus.Interval{{FromMS: (20 * time.Minute).Milliseconds(), ToMS: (30 * time.Minute).Milliseconds()}}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := oggopus.Redact(io.Discard, bytes.NewReader(stream), cuts, nil)
		if err != nil || res.Replaced < 30_000 {
			b.Fatalf("%v, %d replaced", err, res.Replaced)
		}
	}
	b.ReportMetric(float64(len(stream))/1e6, "MB/recording")
}

// Reading every packet of a 1-hour recording, as the player and the WAV
// export do.
func BenchmarkRead1Hour(b *testing.B) {
	stream := longStream(b, time.Hour)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := oggopus.NewReader(bytes.NewReader(stream))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

// Redaction and reading take the same memory for a long recording as for
// a short one: they stream page by page.
//
// Not parallel: it counts the process's allocations.
func TestMemoryDoesNotGrowWithTheRecording(t *testing.T) {
	short, long := longStream(t, 10*time.Second), longStream(t, 10*time.Minute)
	cuts := []oggopus.Interval{{FromMS: 2000, ToMS: 7000}}
	alloc := func(stream []byte) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := oggopus.Redact(io.Discard, bytes.NewReader(stream), cuts, nil); err != nil {
			t.Fatal(err)
		}
		r, err := oggopus.NewReader(bytes.NewReader(stream))
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	alloc(short) // warm up
	s, l := alloc(short), alloc(long)
	t.Logf("allocated %d kB for 10 s, %d kB for 10 min (%d kB of stream)", s/1024, l/1024, len(long)/1024)
	if l > s+512<<10 || l > 2<<20 {
		t.Fatalf("10 minutes took %d kB, 10 seconds %d kB: memory grows with the recording", l/1024, s/1024)
	}
}
