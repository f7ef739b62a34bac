package vad

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
)

// burst is a tone from sample Start to sample End (exclusive).
type burst struct{ start, end int64 }

// synth is a synthetic channel: Gaussian noise at noise dBFS (none for
// -inf), with sine bursts at level dBFS on it, and stretches of digital
// silence (exact zeros) over everything.
type synth struct {
	samples int64
	noise   float64
	level   float64
	freq    float64
	bursts  []burst
	zeros   []burst
}

func (s synth) pcm(seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 17))
	out := make([]int16, s.samples)
	noiseRMS := 32768 * math.Pow(10, s.noise/20) / math.Sqrt2
	amp := 32768 * math.Pow(10, s.level/20)
	phase := rng.Float64() * 2 * math.Pi
	for i := range out {
		v := 0.0
		if !math.IsInf(s.noise, -1) {
			v = rng.NormFloat64() * noiseRMS
		}
		for _, b := range s.bursts {
			if int64(i) >= b.start && int64(i) < b.end {
				v += amp * math.Sin(phase+2*math.Pi*s.freq*float64(i)/SampleRate)
			}
		}
		for _, z := range s.zeros {
			if int64(i) >= z.start && int64(i) < z.end {
				v = 0
			}
		}
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

// run feeds pcm frame by frame (skipping the frames for which skip says
// so) and returns the voiced spans in samples.
func run(t *testing.T, pcm []int16, skip func(frame int) bool, opts ...Option) ([]burst, *Detector) {
	t.Helper()
	var runs artefact.VoiceRuns
	d, err := New(&runs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	given := int64(0)
	for f := 0; f*FrameSamples < len(pcm); f++ {
		if skip != nil && skip(f) {
			d.Skip()
		} else {
			d.Frame(pcm[f*FrameSamples : min((f+1)*FrameSamples, len(pcm))])
		}
		given++
		// Streaming: no more is held back than the hangover.
		if held := given - d.Frames(); held < 0 || held >= int64(d.cfg.hangFrames) && held > 0 {
			t.Fatalf("after %d frames %d decided: %d held back, the hangover is %d frames", given, d.Frames(), held, d.cfg.hangFrames)
		}
	}
	d.Flush()
	if d.Frames() != given {
		t.Fatalf("%d frames decided of %d", d.Frames(), given)
	}
	v := &artefact.Voice{FrameMS: artefact.VoiceFrameMS, Officer: runs.Runs()}
	spans, err := v.Spans(v.Officer)
	if err != nil {
		t.Fatal(err)
	}
	var out []burst
	for _, s := range spans {
		out = append(out, burst{s.FromMS * SampleRate / 1000, s.ToMS * SampleRate / 1000})
	}
	return out, d
}

// bridge merges bursts whose gap is shorter than hang: the truth the
// detector should find.
func bridge(bs []burst, hang time.Duration) []burst {
	var out []burst
	for _, b := range bs {
		if n := len(out); n > 0 && b.start-out[n-1].end < int64(hang)*SampleRate/int64(time.Second) {
			out[n-1].end = b.end
			continue
		}
		out = append(out, b)
	}
	return out
}

// edges compares found spans with the truth and returns the largest edge
// error in samples; every edge must lie within one frame.
func edges(t *testing.T, name string, got, want []burst) int64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d voiced stretches %v, want %d %v (samples)", name, len(got), got, len(want), want)
	}
	var worst int64
	for i := range want {
		for _, e := range [][2]int64{{got[i].start, want[i].start}, {got[i].end, want[i].end}} {
			d := e[0] - e[1]
			if d < 0 {
				d = -d
			}
			worst = max(worst, d)
			if d >= FrameSamples {
				t.Errorf("%s: stretch %d edge at %.1f ms, truth %.1f ms", name, i, float64(e[0])/16, float64(e[1])/16)
			}
		}
	}
	return worst
}

func ms(d float64) int64 { return int64(d * SampleRate / 1000) }

// Tone bursts at -40 to -3 dBFS over noise at -60 dBFS, their edges
// anywhere in a frame, with gaps of 120 ms (bridged) and 300 ms and more
// (not): every voiced edge is within one frame of the truth.
func TestToneBurstEdgesWithinOneFrame(t *testing.T) {
	bursts := []burst{
		{ms(500.3), ms(1700.9)},   // a word
		{ms(1820.9), ms(2311.2)},  // 120 ms later: bridged
		{ms(2611.7), ms(2750.5)},  // 300 ms later: not
		{ms(3900.05), ms(5123.4)}, // after a silence
		{ms(5290.0), ms(5400.0)},  // 166.6 ms later: bridged
		{ms(6000.0), ms(6017.5)},  // a click shorter than a frame: at most a frame
	}
	var worst int64
	for _, level := range []float64{-40, -30, -20, -10, -3} {
		for _, freq := range []float64{180, 440, 1000, 3100} {
			s := synth{samples: ms(7000), noise: -60, level: level, freq: freq, bursts: bursts}
			got, _ := run(t, s.pcm(uint64(level*10+freq)), nil)
			want := bridge(bursts, DefaultHangover)
			// The click is 17.5 ms: found or not, never longer than
			// the frames it touches.
			if n := len(got); n == len(want) {
				c := got[n-1]
				if c.end-c.start > 2*FrameSamples || c.start > bursts[5].start || c.end < bursts[5].end {
					t.Errorf("%.0f dBFS %.0f Hz: a 17.5 ms click came out as %v", level, freq, c)
				}
				got, want = got[:n-1], want[:n-1]
			} else {
				want = want[:len(want)-1]
			}
			worst = max(worst, edges(t, "level", got, want))
		}
	}
	t.Logf("worst edge error %.2f ms over 5 levels × 4 frequencies × %d edges", float64(worst)/16, 2*5)
}

// Frame-aligned bursts: a gap of 9 frames (180 ms) is bridged, one of 10
// (200 ms, the hangover) is not, and the edges are exact.
func TestHangoverBridgesShorterGapsOnly(t *testing.T) {
	f := func(n int64) int64 { return n * FrameSamples }
	bursts := []burst{{f(10), f(30)}, {f(39), f(60)}, {f(70), f(90)}, {f(111), f(120)}}
	s := synth{samples: f(150), noise: -60, level: -20, freq: 700, bursts: bursts}
	got, _ := run(t, s.pcm(1), nil)
	want := []burst{{f(10), f(60)}, {f(70), f(90)}, {f(111), f(120)}}
	if w := edges(t, "aligned", got, want); w != 0 {
		t.Errorf("frame-aligned edges off by %d samples", w)
	}
	// No hangover: three frames' gap is a gap.
	got, _ = run(t, s.pcm(1), nil, WithHangover(0))
	if len(got) != len(bursts) {
		t.Errorf("without a hangover %d stretches, want %d", len(got), len(bursts))
	}
	// A hangover between frames counts the frame it ends in: 190 ms
	// bridges the 180 ms gap, not the 200 ms one.
	got, _ = run(t, s.pcm(1), nil, WithHangover(190*time.Millisecond))
	if w := edges(t, "hangover 190 ms", got, want); w != 0 {
		t.Errorf("with a hangover of 190 ms edges off by %d samples", w)
	}
	// A longer hangover bridges the 200 ms gap as well.
	got, _ = run(t, s.pcm(1), nil, WithHangover(220*time.Millisecond))
	if len(got) != 2 {
		t.Errorf("with a hangover of 220 ms %d stretches %v, want 2", len(got), got)
	}
}

// Noise and silence alone are never voice; nor is digital silence, which
// ends a gap unbridged and leaves the noise floor where it was.
func TestSilenceAndDigitalSilence(t *testing.T) {
	for _, noise := range []float64{math.Inf(-1), -70, -60, -52} {
		got, _ := run(t, synth{samples: ms(5000), noise: noise}.pcm(3), nil)
		if len(got) != 0 {
			t.Errorf("noise at %.0f dBFS voiced: %v", noise, got)
		}
	}
	// Tone, 100 ms of digital silence (a masked key), tone: two
	// stretches, the zeros never voiced.
	s := synth{samples: ms(4000), noise: -60, level: -20, freq: 500,
		bursts: []burst{{ms(1000), ms(3000)}}, zeros: []burst{{ms(2000), ms(2100)}}}
	got, d := run(t, s.pcm(4), nil)
	edges(t, "digital silence", got, []burst{{ms(1000), ms(2000)}, {ms(2100), ms(3000)}})
	if f := d.Floor(); f < -62 || f > -55 {
		t.Errorf("noise floor %.1f dBFS after noise at -60 with digital silence in it", f)
	}
	// A channel that is digital silence between quiet words (a softphone
	// without comfort noise): voice from the first word.
	s = synth{samples: ms(5000), noise: math.Inf(-1), level: -45, freq: 250,
		bursts: []burst{{ms(300), ms(1300)}, {ms(2000), ms(4000)}}}
	got, _ = run(t, s.pcm(6), nil)
	edges(t, "quiet words in digital silence", got, s.bursts)
	// Seconds of digital silence, then noise and a quiet tone: the floor
	// never went to -inf, so the noise is not voice and the tone is.
	s = synth{samples: ms(9000), noise: -60, level: -40, freq: 300,
		bursts: []burst{{ms(7000), ms(8000)}}, zeros: []burst{{0, ms(5000)}}}
	got, d = run(t, s.pcm(5), nil)
	edges(t, "after digital silence", got, []burst{{ms(7000), ms(8000)}})
	if f := d.Floor(); math.IsInf(f, 0) || f < -62 {
		t.Errorf("noise floor %.1f dBFS", f)
	}
}

// A skipped stretch (a pause) inside a tone is not voiced, and the detector
// learns nothing from it: the floor is the same on both sides.
func TestSkippedFramesAreNotVoice(t *testing.T) {
	s := synth{samples: ms(4000), noise: -60, level: -30, freq: 800, bursts: []burst{{ms(1000), ms(3000)}}}
	pcm := s.pcm(6)
	var floors []float64
	var runs artefact.VoiceRuns
	d, err := New(&runs)
	if err != nil {
		t.Fatal(err)
	}
	for f := 0; f < 200; f++ {
		switch {
		case f >= 75 && f < 125: // 1500-2500 ms
			if f == 75 {
				floors = append(floors, d.Floor())
			}
			d.Skip()
		default:
			if f == 125 {
				floors = append(floors, d.Floor())
			}
			d.Frame(pcm[f*FrameSamples : (f+1)*FrameSamples])
		}
	}
	d.Flush()
	v := &artefact.Voice{FrameMS: 20, Officer: runs.Runs()}
	spans, _ := v.Spans(v.Officer)
	want := []artefact.Span{{FromMS: 1000, ToMS: 1500}, {FromMS: 2500, ToMS: 3000}}
	if len(spans) != 2 || spans[0] != want[0] || spans[1] != want[1] {
		t.Errorf("spans %v, want %v", spans, want)
	}
	if floors[0] != floors[1] {
		t.Errorf("the floor moved across the skipped frames: %.2f then %.2f dBFS", floors[0], floors[1])
	}
}

// The floor rises slowly: a quiet tone held for 5 s is voice throughout,
// while noise that steps up from -60 to -40 dBFS and stays is voice only
// until the floor has caught up (at 1 dB/s, under 15 s), and a tone over
// the louder noise is voice again.
func TestNoiseFloorFollowsSlowly(t *testing.T) {
	got, _ := run(t, synth{samples: ms(7000), noise: -60, level: -40, freq: 400, bursts: []burst{{ms(1000), ms(6000)}}}.pcm(7), nil)
	edges(t, "a held quiet tone", got, []burst{{ms(1000), ms(6000)}})

	quiet := synth{samples: ms(5000), noise: -60}.pcm(8)
	loud := synth{samples: ms(25000), noise: -40, level: -20, freq: 1200, bursts: []burst{{ms(20000), ms(22000)}}}.pcm(9)
	got, d := run(t, append(quiet, loud...), nil)
	if len(got) != 2 || got[0].start > ms(5020) || got[0].end > ms(5000+15000) {
		t.Fatalf("stretches %v after the noise stepped up at 5 s", got)
	}
	edges(t, "a tone over louder noise", got[1:], []burst{{ms(25000), ms(27000)}})
	t.Logf("noise stepped up by 20 dB was voice for %.1f s; floor %.1f dBFS at the end", float64(got[0].end-got[0].start)/SampleRate, d.Floor())
}

func TestOptionsAreChecked(t *testing.T) {
	var runs artefact.VoiceRuns
	for name, opts := range map[string][]Option{
		"negative margin":   {WithMargin(-1)},
		"positive floor":    {WithAbsoluteFloor(3)},
		"negative hangover": {WithHangover(-time.Second)},
	} {
		if _, err := New(&runs, opts...); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("a detector without runs")
	}
}

func TestLevel(t *testing.T) {
	s := synth{samples: FrameSamples * 50, noise: math.Inf(-1), level: -3, freq: 1000, bursts: []burst{{0, FrameSamples * 50}}}
	if l, ok := Level(s.pcm(1)); !ok || math.Abs(l+3) > 0.05 {
		t.Errorf("a -3 dBFS sine measures %.2f dBFS", l)
	}
	if _, ok := Level(make([]int16, FrameSamples)); ok {
		t.Error("zeros are sound")
	}
}

// BenchmarkVAD runs one detector per channel over stereo 16 kHz audio
// (tone bursts over noise, 10 s repeated): per second of audio, the time
// taken and the share of one core. "detectors" hands each channel's frames
// to its detector; "timeline" writes the interleaved 16-bit stereo through
// a Timeline in 20 ms buffers, as the recorder does.
func BenchmarkVAD(b *testing.B) {
	n := int64(SampleRate * 10)
	officer := synth{samples: n, noise: -60, level: -20, freq: 300, bursts: []burst{{ms(500), ms(2300)}, {ms(2400), ms(4000)}, {ms(7000), ms(9500)}}}.pcm(1)
	caller := synth{samples: n, noise: -55, level: -30, freq: 200, bursts: []burst{{ms(3800), ms(6900)}, {ms(9000), ms(9900)}}}.pcm(2)
	frames := int(n / FrameSamples)
	report := func(b *testing.B) {
		perSec := float64(b.Elapsed().Nanoseconds()) / (float64(b.N) * artefact.VoiceFrameMS / 1000)
		b.ReportMetric(perSec, "ns/audio-s")
		b.ReportMetric(perSec/1e9*100, "%core")
	}
	b.Run("detectors", func(b *testing.B) {
		var ro, rc artefact.VoiceRuns
		do, _ := New(&ro)
		dc, _ := New(&rc)
		for i := 0; b.Loop(); i++ {
			f := i % frames
			do.Frame(officer[f*FrameSamples : (f+1)*FrameSamples])
			dc.Frame(caller[f*FrameSamples : (f+1)*FrameSamples])
		}
		report(b)
	})
	b.Run("timeline", func(b *testing.B) {
		stereo := make([]byte, 4*n)
		for i := range n {
			binary.LittleEndian.PutUint16(stereo[4*i:], uint16(officer[i]))
			binary.LittleEndian.PutUint16(stereo[4*i+2:], uint16(caller[i]))
		}
		tl, _ := NewTimeline(func(int64, int64) bool { return false })
		const buf = 4 * FrameSamples
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			f := i % frames
			tl.Write(stereo[f*buf : (f+1)*buf])
		}
		report(b)
	})
}
