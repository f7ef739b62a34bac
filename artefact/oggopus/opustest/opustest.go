// Package opustest gives tests of Opus recordings their real tools and
// their measures: opusdec and opusinfo (Debian's opus-tools) to decode and
// check streams, sox and espeak-ng to make known signals, and the envelope
// and level measures the recording tests compare with. It is imported only
// by tests; without a tool a test skips locally and fails in CI
// (testrig.Need).
package opustest

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/callguard/callguard/internal/testrig"
)

// Rate is the sample rate of callguard's recordings, and of the signals
// made here.
const Rate = 16000

// Decode decodes the Ogg Opus file at path with opusdec, without dither
// (which would hide digital silence), to interleaved stereo PCM16 at rate.
// opusdec applies the pre-skip and the end trimming itself.
func Decode(t testing.TB, path string, rate int) []int16 {
	t.Helper()
	testrig.NeedCommand(t, "opusdec")
	out := Run(t, "opusdec", "--quiet", "--no-dither", "--force-stereo", "--rate", itoa(rate), path, "-")
	return pcm(out)
}

// DecodeBytes is Decode for a stream in memory.
func DecodeBytes(t testing.TB, stream []byte, rate int) []int16 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stream.opus")
	if err := os.WriteFile(path, stream, 0o600); err != nil {
		t.Fatal(err)
	}
	return Decode(t, path, rate)
}

// Info runs opusinfo on the stream and returns what it says; it fails the
// test when opusinfo warns (a bad checksum, granule or header).
func Info(t testing.TB, stream []byte) string {
	t.Helper()
	testrig.NeedCommand(t, "opusinfo")
	path := filepath.Join(t.TempDir(), "stream.opus")
	if err := os.WriteFile(path, stream, 0o600); err != nil {
		t.Fatal(err)
	}
	out := string(Run(t, "opusinfo", path))
	if strings.Contains(out, "WARNING") || strings.Contains(out, "ERROR") {
		t.Fatalf("opusinfo finds fault with the stream:\n%s", out)
	}
	return out
}

// Speech is espeak-ng reading text, as 16 kHz mono PCM16.
func Speech(t testing.TB, text string) []int16 {
	t.Helper()
	testrig.NeedCommand(t, "espeak-ng")
	wav := filepath.Join(t.TempDir(), "speech.wav")
	Run(t, "espeak-ng", "-v", "en-gb", "-s", "150", "-w", wav, text)
	return Sox(t, wav)
}

// Sox runs sox on input (a file, or "-n" for a signal its effects make)
// and returns its output as 16 kHz mono PCM16, after the effects, without
// dither (the same samples every time). For
// example Sox(t, "-n", "synth", "2", "sine", "440", "tremolo", "6", "80").
func Sox(t testing.TB, input string, effects ...string) []int16 {
	t.Helper()
	testrig.NeedCommand(t, "sox")
	// -D: no dither, which is random, so a signal is the same on every run.
	args := append([]string{"-D", input, "-r", itoa(Rate), "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", "-"}, effects...)
	return pcm(Run(t, "sox", args...))
}

// Stereo interleaves left (officer) and right (caller), padding the shorter
// with silence.
func Stereo(left, right []int16) []int16 {
	n := max(len(left), len(right))
	out := make([]int16, 2*n)
	for i := range n {
		if i < len(left) {
			out[2*i] = left[i]
		}
		if i < len(right) {
			out[2*i+1] = right[i]
		}
	}
	return out
}

// Channel returns channel ch of interleaved stereo PCM.
func Channel(stereo []int16, ch int) []int16 {
	out := make([]int16, len(stereo)/2)
	for i := range out {
		out[i] = stereo[2*i+ch]
	}
	return out
}

// Bytes encodes PCM16 samples little-endian, as the recorder hands them on.
func Bytes(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// Window is one 100 ms window of a comparison of two signals.
type Window struct {
	Start    int     // first sample
	Level    float64 // RMS level of the source, dBFS
	GotLevel float64 // RMS level of the signal compared, dBFS
	// Shaped: the source's envelope varies in the window (by at least a
	// tenth of its mean), so Corr means something. A steady tone or vowel
	// has no shape to follow; compare its level.
	Shaped bool
	// Corr is the Pearson correlation of the two envelopes (0 when the
	// window has no shape).
	Corr float64
}

// Envelope measures: 100 ms windows, each with the signal's RMS over
// 20 ms around every 5 ms, which follows syllables and leaves out the
// ripple of the voice's pitch (a codec keeps the envelope of speech, not
// the phase of each pitch period).
const (
	WindowMS = 100
	hopMS    = 5
	spanMS   = 20
)

// Envelopes compares the envelopes of want and got (mono, rate Hz) window
// by window: in each 100 ms window, their levels and the Pearson
// correlation of their RMS over 20 ms around every 5 ms.
func Envelopes(want, got []int16, rate int) []Window {
	hop, span := rate*hopMS/1000, rate*spanMS/1000
	per := WindowMS / hopMS
	n := min(len(want), len(got))
	env := func(p []int16, at int) float64 {
		from, to := max(0, at+hop/2-span/2), min(n, at+hop/2+span/2)
		return rms(p[from:to])
	}
	var out []Window
	for start := 0; start+per*hop <= n; start += per * hop {
		a := make([]float64, per)
		b := make([]float64, per)
		for i := range per {
			a[i] = env(want, start+i*hop)
			b[i] = env(got, start+i*hop)
		}
		end := start + per*hop
		win := Window{Start: start, Level: DBFS(rms(want[start:end])), GotLevel: DBFS(rms(got[start:end]))}
		ma, sa := meanStd(a)
		mb, sb := meanStd(b)
		if win.Shaped = sa >= 0.1*ma && ma > 0; win.Shaped && sb > 0 {
			var c float64
			for i := range per {
				c += (a[i] - ma) * (b[i] - mb)
			}
			win.Corr = c / float64(per) / (sa * sb)
		}
		out = append(out, win)
	}
	return out
}

// Peak returns the largest absolute sample of pcm.
func Peak(pcm []int16) int {
	p := 0
	for _, v := range pcm {
		p = max(p, abs(int(v)))
	}
	return p
}

// DBFS converts an amplitude of PCM16 to dB relative to full scale (-inf
// for zero).
func DBFS(amplitude float64) float64 { return 20 * math.Log10(amplitude/32768) }

func rms(p []int16) float64 {
	var s float64
	for _, v := range p {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(1, len(p))))
}

func meanStd(x []float64) (float64, float64) {
	var m, v float64
	for _, e := range x {
		m += e
	}
	m /= float64(len(x))
	for _, e := range x {
		v += (e - m) * (e - m)
	}
	return m, math.Sqrt(v / float64(len(x)))
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func pcm(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// Run runs a program and returns its standard output; it fails the test
// with the program's error output when the program fails.
func Run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}
