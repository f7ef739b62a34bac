package dtmf

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// maskAll runs interleaved audio through a Masker in writes of chunk bytes
// (the recorder writes 1280: 20 ms of stereo) and closes it.
func maskAll(t testing.TB, rate, channels int, pcm []int16, chunk int, opts ...MaskerOption) ([]int16, *Masker) {
	t.Helper()
	var out bytes.Buffer
	m, err := NewMasker(&out, rate, channels, opts...)
	if err != nil {
		t.Fatal(err)
	}
	b := pcmToBytes(pcm)
	for p := 0; p < len(b); p += chunk {
		if n, err := m.Write(b[p:min(p+chunk, len(b))]); err != nil || n != min(chunk, len(b)-p) {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if out.Len() != len(b) {
		t.Fatalf("masker wrote %d bytes of %d", out.Len(), len(b))
	}
	return bytesToPCM(out.Bytes()), m
}

// channel returns channel c of interleaved stereo.
func channel(pcm []int16, c int) []int16 {
	out := make([]int16, len(pcm)/2)
	for i := range out {
		out[i] = pcm[2*i+c]
	}
	return out
}

// speechStretch is n samples of the hour of speech from offset off, at rms
// dBFS (of its louder half).
func speechStretch(t testing.TB, rate, off, n int, rms float64) []int16 {
	return scaleRMS(stretch(speechHour(t, rate), off, n), rms)
}

func TestMaskerPassesAudioExactly(t *testing.T) {
	t.Parallel()
	const rate = 16000
	// Forty seconds of two different voices, one per channel, with digital
	// silence (a pause) in the middle.
	n := 40 * rate
	left, right := speechStretch(t, rate, 0, n, -18), speechStretch(t, rate, 600*rate, n, -24)
	clear(left[20*rate : 23*rate])
	clear(right[20*rate : 23*rate])
	in := interleave(left, right)
	for _, chunk := range []int{1280, 4095, 1, 3} {
		t.Run(fmt.Sprintf("writes of %d bytes", chunk), func(t *testing.T) {
			in := in
			if chunk < 1000 {
				in = in[19*2*rate : 24*2*rate] // five seconds around the pause
			}
			out, m := maskAll(t, rate, 2, in, chunk)
			if masked := m.Masked(); len(masked) > 0 {
				t.Fatalf("speech masked at %v", masked)
			}
			if i := firstDiff(in, out); i >= 0 {
				t.Fatalf("sample %d differs: %d in, %d out", i, in[i], out[i])
			}
		})
	}
}

func firstDiff(a, b []int16) int {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	if len(b) > len(a) {
		return len(a)
	}
	return -1
}

// TestMaskerHoldsBackOnlyTheLookAhead: after every write, all but the last
// 60 ms has been written on; Close writes the rest.
func TestMaskerHoldsBackOnlyTheLookAhead(t *testing.T) {
	t.Parallel()
	for _, rate := range []int{16000, 8000} {
		for _, ch := range []int{1, 2} {
			var out bytes.Buffer
			m, err := NewMasker(&out, rate, ch)
			if err != nil {
				t.Fatal(err)
			}
			look := int(LookAhead) * rate / int(time.Second) * 2 * ch
			in := 0
			rng := rand.New(rand.NewPCG(uint64(rate), uint64(ch)))
			for in < 2*rate*2*ch {
				k := 1 + rng.IntN(3000)
				m.Write(make([]byte, k))
				in += k
				whole := in / (2 * ch) * (2 * ch)
				if want := max(0, whole-look); out.Len() != want || m.Buffered() != in-want {
					t.Fatalf("%d Hz, %d channels: after %d bytes in, %d written and %d buffered; want %d and %d", rate, ch, in, out.Len(), m.Buffered(), want, in-want)
				}
			}
			if err := m.Close(); err != nil || out.Len() != in || m.Buffered() != 0 {
				t.Fatalf("after Close: %d of %d bytes written, %d buffered, %v", out.Len(), in, m.Buffered(), err)
			}
		}
	}
}

// maskCase is one way keypad tones reach the recorder.
type maskCase struct {
	name       string
	toneCh     int     // the channel the tones are on (0 officer, 1 caller)
	sameSpeech float64 // speech under the tones, dB below them (0: none)
	sameNoise  float64 // white noise under the tones, dB below them (0: none)
	otherVoice bool    // speech on the other channel
}

var maskCases = []maskCase{
	{name: "alone", toneCh: 1},
	{name: "with speech on the same channel 15 dB below", toneCh: 1, sameSpeech: 15},
	{name: "with speech on the other channel", toneCh: 1, otherVoice: true},
	{name: "with noise on the same channel 15 dB below", toneCh: 1, sameNoise: 15},
	{name: "on the officer's channel, with the caller speaking", toneCh: 0, otherVoice: true},
}

// keypresses are every key at every duration (40 to 200 ms), at levels from
// −25 to −3 dBFS and each twist Q.24 allows, in turn, with pauses of 60 to
// 250 ms between them.
func keypresses(rate int, seed uint64) ([]piece, []tone) {
	rng := rand.New(rand.NewPCG(seed, 2))
	var ps []piece
	var ts []tone
	i := 0
	for _, d := range []time.Duration{40, 50, 70, 100, 200} {
		for k := range keys {
			tn := tone{key: keys[k], dur: d * time.Millisecond, level: levels[i%len(levels)], twist: []float64{8, 0, -4}[i%3]}
			ps = append(ps, piece{gap: time.Duration(60+rng.IntN(191)) * time.Millisecond}, piece{tone: tn})
			ts = append(ts, tn)
			i++
		}
	}
	return append(ps, piece{gap: 300 * time.Millisecond}), ts
}

func TestMaskerSilencesEveryTone(t *testing.T) {
	t.Parallel()
	const rate = 16000
	guard := int64(DefaultGuard) * rate / int64(time.Second)
	for ci, mc := range maskCases {
		t.Run(mc.name, func(t *testing.T) {
			t.Parallel()
			ps, ts := keypresses(rate, uint64(ci))
			k := soxKeys(t, rate, ps, uint64(ci)+100)
			n := len(k.pcm)
			tonesCh := k.pcm
			if mc.sameSpeech > 0 || mc.sameNoise > 0 {
				// Under each tone (and 50 ms either side), speech or noise
				// that many dB below it.
				what, snr := "speech", mc.sameSpeech
				if mc.sameNoise > 0 {
					what, snr = "noise", mc.sameNoise
				}
				tonesCh = underTones(t, rate, k, ts, what, snr)
			}
			other := make([]int16, n)
			if mc.otherVoice {
				other = speechStretch(t, rate, 1200*rate, n, -20)
			}
			left, right := other, tonesCh
			if mc.toneCh == 0 {
				left, right = tonesCh, other
			}
			in := interleave(left, right)
			out, m := maskAll(t, rate, 2, in, 1280)
			masked := m.Masked()

			// Every sample of every tone is silence, on both channels, and
			// the guards are kept.
			var pre, post []float64
			for i, iv := range k.tones {
				if z := nonZero(out, iv.Start, iv.End); z >= 0 {
					t.Errorf("tone %d (%c, %v at %.0f dBFS): sample %d (%.1f ms in) survived", i, k.keys[i], ts[i].dur, ts[i].level, z, ms(z-iv.Start, rate))
					continue
				}
				j := slices.IndexFunc(masked, func(mk Interval) bool { return mk.Start <= iv.Start && mk.End >= iv.End })
				if j < 0 {
					t.Errorf("tone %d silenced but in no interval reported: %v", i, masked)
					continue
				}
				pre = append(pre, ms(iv.Start-masked[j].Start, rate))
				post = append(post, ms(masked[j].End-iv.End, rate))
			}
			// Outside what is reported, the audio is untouched; inside, it is
			// all silence; and each interval holds a tone.
			checkMasks(t, in, out, masked, k.tones)
			if len(pre) > 0 {
				slices.Sort(pre)
				slices.Sort(post)
				t.Logf("%d tones in %d intervals; guard before %.0f ms (median %.0f), after %.0f ms (median %.0f)", len(k.tones), len(masked), pre[0], pre[len(pre)/2], post[0], post[len(post)/2])
				if pre[0] < ms(guard, rate)-8 || post[0] < ms(guard, rate)-8 {
					t.Errorf("guards of %.0f and %.0f ms at the least, want %.0f ms less at most half a window", pre[0], post[0], ms(guard, rate))
				}
			}

			// Nothing the detector or multimon-ng can decode is left on either
			// channel; multimon-ng did decode the tones before.
			dir := t.TempDir()
			for c := 0; c < 2; c++ {
				if got := hear(t, rate, channel(out, c)); len(got) > 0 {
					t.Errorf("channel %d: the detector still hears %d tones in the masked audio, the first at %.0f ms", c, len(got), ms(got[0].tone.Start, rate))
				}
				wav := filepath.Join(dir, fmt.Sprintf("out%d.wav", c))
				writeWAV(t, wav, rate, 1, channel(out, c))
				if got := multimonDTMF(t, wav); got != "" {
					t.Errorf("channel %d: multimon-ng decodes %q in the masked audio", c, got)
				}
			}
			// multimon-ng itself decodes only tones within about 5 dB of
			// twist: before masking it must decode exactly those.
			var decodable []byte
			for i, tn := range ts {
				if math.Abs(tn.twist) <= 4 {
					decodable = append(decodable, k.keys[i])
				}
			}
			wav := filepath.Join(dir, "in.wav")
			writeWAV(t, wav, rate, 1, channel(in, mc.toneCh))
			before := multimonDTMF(t, wav)
			t.Logf("multimon-ng decoded %d of the %d keys before masking (those within its twist), none after", len(before), len(k.tones))
			if mc.sameSpeech == 0 && mc.sameNoise == 0 && before != string(decodable) {
				t.Errorf("multimon-ng decoded %q before masking, want %q (the decoder is not hearing the test signal)", before, decodable)
			}
		})
	}
}

// nonZero returns the first frame in [from, to) of stereo pcm that is not
// silent, or -1.
func nonZero(pcm []int16, from, to int64) int64 {
	for f := from; f < to && 2*f+1 < int64(len(pcm)); f++ {
		if pcm[2*f] != 0 || pcm[2*f+1] != 0 {
			return f
		}
	}
	return -1
}

// checkMasks checks that out is in with exactly the reported intervals
// silenced, that the intervals are on the 4 ms grid, sorted and apart, and
// that each holds at least one of tones.
func checkMasks(t *testing.T, in, out []int16, masked []Interval, tones []Interval) {
	t.Helper()
	inMask := func(f int64) bool {
		for _, mk := range masked {
			if f >= mk.Start && f < mk.End {
				return true
			}
		}
		return false
	}
	frames := int64(len(in) / 2)
	for f := int64(0); f < frames; f++ {
		if inMask(f) {
			if out[2*f] != 0 || out[2*f+1] != 0 {
				t.Fatalf("frame %d is inside a reported interval but not silent", f)
			}
		} else if out[2*f] != in[2*f] || out[2*f+1] != in[2*f+1] {
			t.Fatalf("frame %d is outside every reported interval but changed", f)
		}
	}
	for i, mk := range masked {
		if mk.Start%64 != 0 || (mk.End%64 != 0 && mk.End != frames) || mk.End <= mk.Start || i > 0 && mk.Start <= masked[i-1].End {
			t.Errorf("interval %d %v: not on the grid, empty, or touching the one before", i, mk)
		}
		if tones != nil && !slices.ContainsFunc(tones, func(iv Interval) bool { return iv.Start < mk.End && iv.End > mk.Start }) {
			t.Errorf("interval %d (%.0f-%.0f ms) holds no tone: a false mask", i, ms(mk.Start, 16000), ms(mk.End, 16000))
		}
	}
}

// TestMaskerToneCutByThePauseGate: the recorder's gate writes digital silence
// while paused, in 20 ms buffers. A pause or a resume in the middle of a tone
// leaves a piece of it beside that silence; every piece a decoder can decode
// (multimon-ng decodes from 16 ms) is silenced.
func TestMaskerToneCutByThePauseGate(t *testing.T) {
	t.Parallel()
	const rate = 16000
	const buf = 320 // the recorder's capture buffer
	// Tones and pauses on the 4 ms grid, as the gate's 20 ms buffers are.
	k := soxKeys(t, rate, sequence(allKeys(100*time.Millisecond, -8, 0, 0), 300*time.Millisecond), 31)
	caller := mix(k.pcm, noise(t, rate, len(k.pcm), -60, 31))
	officer := speechStretch(t, rate, 2000*rate, len(caller), -22)
	// Cut each tone: the gate opens, or closes, inside it, leaving 8 to
	// 36 ms of it beside 200 ms of silence.
	var pieces []Interval
	for i, iv := range k.tones {
		left := int64(8+4*(i%8)) * rate / 1000
		var from, to int64
		if i%2 == 0 { // resumed during the tone
			to = iv.End - left
			from = to - 10*buf
			pieces = append(pieces, Interval{to, iv.End})
		} else { // paused during the tone
			from = iv.Start + left
			to = from + 10*buf
			pieces = append(pieces, Interval{iv.Start, from})
		}
		clear(caller[from:to])
		clear(officer[from:to])
	}
	in := interleave(officer, caller)
	out, m := maskAll(t, rate, 2, in, int(buf)*4)
	checkMasks(t, in, out, m.Masked(), nil)
	shortest, longest := time.Hour, time.Duration(0)
	for i, p := range pieces {
		d := p.Duration(rate)
		if nonZero(out, p.Start, p.End) >= 0 {
			longest = max(longest, d)
			if d >= 16*time.Millisecond {
				t.Errorf("tone %d: %v of it left beside the pause, not silenced", i, d)
			}
		} else {
			shortest = min(shortest, d)
		}
	}
	t.Logf("pieces of tones of %v and more silenced; the longest left: %v", shortest, longest)
	wav := filepath.Join(t.TempDir(), "out.wav")
	writeWAV(t, wav, rate, 1, channel(out, 1))
	if got := multimonDTMF(t, wav); got != "" {
		t.Errorf("multimon-ng decodes %q beside the pauses", got)
	}
}

func TestMaskerToneAtTheEnd(t *testing.T) {
	t.Parallel()
	const rate = 8000
	// 16 ms is the least the detector hears (14 ms fill 88 % of a window).
	for _, left := range []time.Duration{16, 24, 40, 100} {
		left *= time.Millisecond
		t.Run(fmt.Sprintf("%v of tone when the recording ends", left), func(t *testing.T) {
			k := soxKeys(t, rate, []piece{{gap: 200 * time.Millisecond}, {tone: tone{key: '7', dur: left, level: -10}}}, 41)
			pcm := mix(k.pcm, noise(t, rate, len(k.pcm), -60, 41))
			out, m := maskAll(t, rate, 1, pcm, 160)
			iv := k.tones[0]
			for f := iv.Start; f < iv.End; f++ {
				if out[f] != 0 {
					t.Fatalf("sample %d of the tone survived", f-iv.Start)
				}
			}
			if mk := m.Masked(); len(mk) != 1 || mk[0].End != int64(len(pcm)) {
				t.Errorf("masked %v, want one interval to the end (%d)", mk, len(pcm))
			}
		})
	}
}

func TestMaskerGuard(t *testing.T) {
	t.Parallel()
	const rate = 16000
	k := soxKeys(t, rate, sequence(allKeys(100*time.Millisecond, -10, 0, 0)[:3], 500*time.Millisecond), 51)
	pcm := mix(k.pcm, noise(t, rate, len(k.pcm), -60, 51))
	for _, tc := range []struct {
		guard    time.Duration
		pre, max time.Duration // the least guard before expected, and after
	}{
		{0, 0, 0},
		{10 * time.Millisecond, 12 * time.Millisecond, 12 * time.Millisecond}, // rounded up to 4 ms
		{40 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond},
		{100 * time.Millisecond, 44 * time.Millisecond, 100 * time.Millisecond}, // before: what the look-ahead holds
	} {
		t.Run(tc.guard.String(), func(t *testing.T) {
			_, m := maskAll(t, rate, 1, pcm, 640, WithGuard(tc.guard))
			mk := m.Masked()
			if len(mk) != 3 {
				t.Fatalf("masked %v, want 3 intervals", mk)
			}
			for i, iv := range k.tones {
				pre, post := Interval{mk[i].Start, iv.Start}.Duration(rate), Interval{iv.End, mk[i].End}.Duration(rate)
				if pre < tc.pre-2*time.Millisecond || post < tc.max-2*time.Millisecond || post > tc.max+2*time.Millisecond {
					t.Errorf("tone %d: guard %v before and %v after, want %v and %v (±2 ms)", i, pre, post, tc.pre, tc.max)
				}
			}
		})
	}
	for _, g := range []time.Duration{-time.Millisecond, MaxGuard + time.Millisecond} {
		if _, err := NewMasker(&bytes.Buffer{}, rate, 2, WithGuard(g)); !errors.Is(err, ErrGuard) {
			t.Errorf("guard %v: %v, want ErrGuard", g, err)
		}
	}
	if _, err := NewMasker(&bytes.Buffer{}, rate, 3); !errors.Is(err, ErrChannels) {
		t.Errorf("3 channels: %v, want ErrChannels", err)
	}
	if _, err := NewMasker(&bytes.Buffer{}, 44100, 2); !errors.Is(err, ErrSampleRate) {
		t.Errorf("44.1 kHz: %v, want ErrSampleRate", err)
	}
}

// failingWriter fails after n bytes, as a full disk does.
type failingWriter struct {
	n   int
	err error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestMaskerWriteErrors(t *testing.T) {
	t.Parallel()
	diskFull := errors.New("no space left on device")
	w := &failingWriter{n: 5000, err: diskFull}
	m, err := NewMasker(w, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; i < 20 && werr == nil; i++ {
		_, werr = m.Write(make([]byte, 1280))
	}
	if !errors.Is(werr, diskFull) {
		t.Fatalf("Write: %v, want the destination's error", werr)
	}
	if _, err := m.Write(make([]byte, 1280)); !errors.Is(err, diskFull) {
		t.Errorf("Write after a failure: %v, want the same error", err)
	}
	if err := m.Close(); !errors.Is(err, diskFull) {
		t.Errorf("Close after a failure: %v, want the same error", err)
	}
	m2, _ := NewMasker(&bytes.Buffer{}, 16000, 2)
	m2.Close()
	if _, err := m2.Write(make([]byte, 4)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
}

// TestMaskedAudioDoesNotDependOnWrites: how the audio is cut into writes
// changes nothing in what is written or reported.
func TestMaskedAudioDoesNotDependOnWrites(t *testing.T) {
	t.Parallel()
	const rate = 16000
	ps, _ := keypresses(rate, 61)
	k := soxKeys(t, rate, ps[:40], 61)
	in := interleave(speechStretch(t, rate, 3000*rate, len(k.pcm), -22), k.pcm)
	want, wm := maskAll(t, rate, 2, in, 1280)
	for _, chunk := range []int{7, 333, 1282, 100000} {
		got, gm := maskAll(t, rate, 2, in, chunk)
		if i := firstDiff(want, got); i >= 0 || !slices.Equal(wm.Masked(), gm.Masked()) {
			t.Errorf("writes of %d bytes: output differs at %d, masked %v, want %v", chunk, i, gm.Masked(), wm.Masked())
		}
	}
}

// TestMaskerUnderLouderSpeech measures what is silenced when speech on the
// same channel is louder than Q.24's receivers expect: 10 and 6 dB below
// the tones (40 ms tones, every key, level and twist).
func TestMaskerUnderLouderSpeech(t *testing.T) {
	t.Parallel()
	const rate = 16000
	var ts []tone
	for _, lv := range []float64{-25, -15, -6} {
		for _, tw := range []float64{8, 0, -4} {
			for _, dv := range []float64{-0.015, 0, 0.015} {
				ts = append(ts, allKeys(40*time.Millisecond, lv, tw, dv)...)
			}
		}
	}
	k := soxKeys(t, rate, sequence(ts, 60*time.Millisecond), 81)
	for _, tc := range []struct {
		snr  float64
		want float64 // the least share of tones silenced whole
	}{{10, 0.97}, {6, 0.80}} {
		pcm := underTones(t, rate, k, ts, "speech", tc.snr)
		out, _ := maskAll(t, rate, 1, pcm, 640)
		whole := 0
		for _, iv := range k.tones {
			if !slices.ContainsFunc(out[iv.Start:iv.End], func(s int16) bool { return s != 0 }) {
				whole++
			}
		}
		share := float64(whole) / float64(len(k.tones))
		t.Logf("speech %.0f dB below: %d of %d tones (%.1f %%) silenced whole", tc.snr, whole, len(k.tones), 100*share)
		if share < tc.want {
			t.Errorf("speech %.0f dB below: %.1f %% of tones silenced whole, want %.0f %% or more", tc.snr, 100*share, 100*tc.want)
		}
	}
}

// FuzzMasker feeds any bytes, cut into any writes: the Masker writes as many
// bytes as it took, changes nothing outside what it reports, and silences all
// of that.
func FuzzMasker(f *testing.F) {
	k := []int16{}
	for i := 0; i < 4000; i++ { // a 1 kHz-ish tone pair, then silence: seeds that reach the masks
		x := float64(i) / 16000
		k = append(k, int16(8000*(math.Sin(2*math.Pi*697*x)+math.Sin(2*math.Pi*1209*x))))
	}
	f.Add(pcmToBytes(k), uint16(1280), true)
	f.Add(pcmToBytes(k), uint16(3), false)
	f.Add([]byte{1, 2, 3}, uint16(1), true)
	f.Fuzz(func(t *testing.T, in []byte, chunk uint16, stereo bool) {
		rate, ch := 8000, 1
		if stereo {
			rate, ch = 16000, 2
		}
		step := int(chunk%5000) + 1
		var out bytes.Buffer
		m, err := NewMasker(&out, rate, ch)
		if err != nil {
			t.Fatal(err)
		}
		for p := 0; p < len(in); p += step {
			if n, err := m.Write(in[p:min(p+step, len(in))]); err != nil || n != min(step, len(in)-p) {
				t.Fatalf("Write: %d, %v", n, err)
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		got := out.Bytes()
		if len(got) != len(in) {
			t.Fatalf("wrote %d bytes of %d", len(got), len(in))
		}
		fb := 2 * ch
		masked := m.Masked()
		for i := range in {
			f := int64(i / fb)
			inside := slices.ContainsFunc(masked, func(iv Interval) bool { return f >= iv.Start && f < iv.End })
			if i >= len(in)/fb*fb {
				inside = len(masked) > 0 && masked[len(masked)-1].End == int64(len(in)/fb)
			}
			if inside && got[i] != 0 || !inside && got[i] != in[i] {
				t.Fatalf("byte %d (frame %d, inside a mask: %v): %d in, %d out", i, f, inside, in[i], got[i])
			}
		}
	})
}
