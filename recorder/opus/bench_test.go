package opus_test

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact/oggopus/opustest"
	"github.com/callguard/callguard/recorder/opus"
)

// conversation is the three dialogues one after the other, officer and
// caller taking turns (36 s), as a stereo recording; with noise, both
// inputs also carry a noise floor, as microphones and lines do (pink noise
// at -64 dBFS on the officer's side, brown at -55 dBFS on the caller's), so
// that no channel is ever digital silence.
func conversation(b *testing.B, noise bool) []int16 {
	var left, right []int16
	for _, d := range dialogues {
		o, c := speech(b, d[0]), speech(b, d[1])
		left = slices.Concat(left, o, make([]int16, len(c)))
		right = slices.Concat(right, make([]int16, len(o)), c)
	}
	if noise {
		secs := fmt.Sprint(float64(len(left))/rate + 0.1)
		nl := opustest.Sox(b, "-n", "synth", secs, "pinknoise", "vol", "0.003")
		nr := opustest.Sox(b, "-n", "synth", secs, "brownnoise", "vol", "0.003")
		for i := range left {
			left[i] += nl[i]
			right[i] += nr[i]
		}
	}
	return opustest.Stereo(left, right)
}

// benchEncode encodes pcm b.N times, in 20 ms buffers as the recorder hands
// them over, and reports the size of a recorded hour and the CPU time per
// recorded second (user and system, libopus included).
func benchEncode(b *testing.B, pcm []int16) {
	in := opustest.Bytes(pcm)
	seconds := float64(len(pcm)/2) / rate
	var size int
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for b.Loop() {
		var out bytes.Buffer
		e, err := opus.NewEncoder(&out)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(in); i += 1280 {
			if _, err := e.Write(in[i:min(len(in), i+1280)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
		size = out.Len()
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	perSecond := cpu.Seconds() / (float64(b.N) * seconds)
	b.ReportMetric(float64(size)/seconds*3600/1e6, "MB/h")
	b.ReportMetric(perSecond*1000, "cpu-ms/audio-s")
	b.ReportMetric(perSecond*100, "%core")
}

// Bytes per recorded hour and encoder CPU per recorded second at the
// default bitrate: for speech (espeak-ng reading the dialogues), for speech
// over a noise floor, and for a paused stretch (digital silence).
func BenchmarkEncode(b *testing.B) {
	b.Run("speech", func(b *testing.B) { benchEncode(b, conversation(b, false)) })
	b.Run("speech-over-noise", func(b *testing.B) { benchEncode(b, conversation(b, true)) })
	b.Run("silence", func(b *testing.B) { benchEncode(b, make([]int16, 2*rate*30)) })
}

// Decoder CPU per second of audio, for the player and the WAV export.
func BenchmarkDecode(b *testing.B) {
	pcm := conversation(b, true)
	stream, _ := encode(b, pcm)
	seconds := float64(len(pcm)/2) / rate
	b.ResetTimer()
	for b.Loop() {
		d, err := opus.NewDecoder(bytes.NewReader(stream))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, d); err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/seconds/1e6, "ms/audio-s")
}
