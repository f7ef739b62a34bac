package recorder

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
)

// BenchmarkRecord measures the in-process path of one 20 ms stereo buffer:
// capture goroutine → gate → queue → age encryption → SHA-256 → file, with a
// fake device. Metrics: CPU time and heap allocations per second of audio.
func BenchmarkRecord(b *testing.B) {
	for _, paused := range []bool{false, true} {
		name := "recording"
		if paused {
			name = "paused"
		}
		b.Run(name, func(b *testing.B) {
			src := newFakeSource()
			r, _ := newFakeRecorder(b, src)
			reason := ""
			if paused {
				reason = "payment"
			}
			rec, err := r.start(testCall("call-bench", reason), nil)
			if err != nil {
				b.Fatal(err)
			}
			officer, caller := signal(officerSeed, 0, BufferFrames), signal(callerSeed, 0, BufferFrames)
			var ru0, ru1 syscall.Rusage
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				src.bufs <- [2][]int16{officer, caller}
				// Keep the writer within half its queue, as a real device would.
				for int64(i-queueBuffers/2)*BufferFrames > rec.written.Load() {
					runtime.Gosched()
				}
			}
			if err := rec.Stop(app.RecordingEnd{Ended: time.Now()}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			runtime.ReadMemStats(&ms1)
			close(src.bufs)
			audioSec := float64(b.N) * BufferFrames / artefact.SampleRate
			cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
			b.ReportMetric(float64(cpu.Microseconds())/1000/audioSec, "cpu-ms/audio-s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/audioSec, "allocs/audio-s")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/audioSec, "B/audio-s")
		})
	}
}

// BenchmarkPause measures a Pause and a Resume call on a live recording: what
// the officer's click or the payment page's request waits for.
func BenchmarkPause(b *testing.B) {
	src := newFakeSource()
	r, _ := newFakeRecorder(b, src)
	rec, err := r.start(testCall("call-pause", ""), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rec.Pause("payment")
		rec.Resume()
	}
	b.StopTimer()
	rec.Stop(app.RecordingEnd{})
	close(src.bufs)
}
