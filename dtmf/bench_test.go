package dtmf

import (
	"io"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time this process has used, so that a benchmark on a
// busy machine reports what it cost rather than how long it waited.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSignal is one second at rate: noise at −30 dBFS with four 100 ms
// keypad tones in it, so that every path of the detector runs.
func benchSignal(rate int) []int16 {
	rng := rand.New(rand.NewPCG(1, 2))
	pcm := make([]int16, rate)
	for i := range pcm {
		pcm[i] = int16(rng.NormFloat64() * 32768 * 0.03)
	}
	for k := 0; k < 4; k++ {
		lo, hi := float64(toneHz[k]), float64(toneHz[4+k])
		start := k * rate / 4
		for i := 0; i < rate/10; i++ {
			x := float64(i) / float64(rate)
			pcm[start+i] += int16(6000*math.Sin(2*math.Pi*lo*x) + 6000*math.Sin(2*math.Pi*hi*x))
		}
	}
	return pcm
}

// BenchmarkDetector measures one second of one channel per operation.
func BenchmarkDetector(b *testing.B) {
	for _, rate := range []int{16000, 8000} {
		b.Run(map[int]string{16000: "16kHz", 8000: "8kHz"}[rate], func(b *testing.B) {
			pcm := benchSignal(rate)
			d, err := NewDetector(rate)
			if err != nil {
				b.Fatal(err)
			}
			var evs []Event
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				for p := 0; p < len(pcm); p += rate / 50 {
					evs = d.Feed(evs[:0], pcm[p:p+rate/50])
				}
			}
			perAudioSecond := (cpuTime() - cpu) / time.Duration(b.N)
			b.ReportMetric(float64(perAudioSecond.Microseconds())/1000, "cpu-ms/channel-s")
			b.ReportMetric(float64(perAudioSecond)/float64(time.Second)*100, "%core/channel")
		})
	}
}

// BenchmarkMasker measures one second of the recorder's stereo 16 kHz per
// operation, written in its 20 ms buffers.
func BenchmarkMasker(b *testing.B) {
	const rate = 16000
	buf := pcmToBytes(interleave(benchSignal(rate), benchSignal(rate)))
	m, err := NewMasker(io.Discard, rate, 2)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		for p := 0; p < len(buf); p += 1280 {
			if _, err := m.Write(buf[p : p+1280]); err != nil {
				b.Fatal(err)
			}
		}
	}
	perAudioSecond := (cpuTime() - cpu) / time.Duration(b.N)
	b.ReportMetric(float64(perAudioSecond.Microseconds())/1000, "cpu-ms/audio-s")
	b.ReportMetric(float64(perAudioSecond)/float64(time.Second)*100, "%core")
}
