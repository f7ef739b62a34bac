package recorder

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
)

// BenchmarkRecord measures the in-process path of one 20 ms stereo buffer:
// capture goroutine → gate → queue → keypad masker → Opus encoder (or none,
// for WAV) → age encryption → SHA-256 → file, with a fake device;
// "unmasked" leaves the masker out, to measure what it costs. The Opus runs
// record espeak-ng reading a dialogue (officer left, caller right, taking
// turns) or a pause. Metrics: CPU time and heap allocations per second of
// audio, and the size of the encrypted file per recorded hour (what the
// uploader sends: the chunked upload adds a request per 4 MiB).
func BenchmarkRecord(b *testing.B) {
	for _, c := range []struct {
		name             string
		paused, unmasked bool
		opus, speech     bool
	}{
		{"wav", false, false, false, false}, {"wav-unmasked", false, true, false, false}, {"wav-paused", true, false, false, false},
		{"opus-speech", false, false, true, true}, {"opus-noise", false, false, true, false}, {"opus-paused", true, false, true, false},
	} {
		paused := c.paused
		b.Run(c.name, func(b *testing.B) {
			src := newFakeSource()
			r, _ := newFakeRecorder(b, src)
			r.unmasked = c.unmasked
			reason := ""
			if paused {
				reason = "payment"
			}
			call := testCall("call-bench", reason)
			if c.opus {
				call = opusCall("call-bench", reason)
			}
			rec, err := r.start(call, nil)
			if err != nil {
				b.Fatal(err)
			}
			bufs := [][2][]int16{{signal(officerSeed, 0, BufferFrames), signal(callerSeed, 0, BufferFrames)}}
			if c.speech {
				bufs = dialogueBuffers(b)
			}
			var ru0, ru1 syscall.Rusage
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				src.bufs <- bufs[i%len(bufs)]
				// Keep the writer within half its queue, as a real device
				// would; sleeping, not spinning, so the wait is not counted
				// as the recorder's CPU.
				for int64(i-queueBuffers/2)*BufferFrames > rec.written.Load() {
					time.Sleep(100 * time.Microsecond)
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
			if fi, err := os.Stat(rec.audioPath); err == nil && audioSec >= 10 {
				b.ReportMetric(float64(fi.Size())/audioSec*3600/1e6, "MB/audio-h")
			}
			cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
			b.ReportMetric(float64(cpu.Microseconds())/1000/audioSec, "cpu-ms/audio-s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/audioSec, "allocs/audio-s")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/audioSec, "B/audio-s")
		})
	}
}

// dialogueBuffers is espeak-ng reading the officer's line in the left
// channel, then the caller's in the right, in 20 ms buffers.
func dialogueBuffers(b *testing.B) [][2][]int16 {
	officer := opustest.Speech(b, "Thank you for calling the housing repairs line. Could you give me your postcode and the first line of your address, please?")
	caller := opustest.Speech(b, "Yes, it is twelve Station Road, and the boiler has not worked since Monday morning.")
	quiet := make([]int16, BufferFrames)
	var out [][2][]int16
	for i := 0; i+BufferFrames <= len(officer); i += BufferFrames {
		out = append(out, [2][]int16{officer[i : i+BufferFrames], quiet})
	}
	for i := 0; i+BufferFrames <= len(caller); i += BufferFrames {
		out = append(out, [2][]int16{quiet, caller[i : i+BufferFrames]})
	}
	return out
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
