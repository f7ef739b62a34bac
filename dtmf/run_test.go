package dtmf

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	const rate = 8000
	s := func(d time.Duration) int64 { return int64(d) * rate / int64(time.Second) }
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		count  int
		within time.Duration
		starts []time.Duration
		fires  []int // indexes of the starts that complete a run
	}{
		{"four tones in four seconds fire on the fourth", 4, 10 * time.Second,
			[]time.Duration{0, 1000 * ms, 2000 * ms, 3000 * ms}, []int{3}},
		{"three tones do not", 4, 10 * time.Second,
			[]time.Duration{0, 300 * ms, 600 * ms}, nil},
		{"a run fires once, however long it goes on", 4, 10 * time.Second,
			[]time.Duration{0, 200 * ms, 400 * ms, 600 * ms, 800 * ms, 1000 * ms, 1200 * ms, 9000 * ms, 15000 * ms}, []int{3}},
		{"four tones over more than ten seconds do not", 4, 10 * time.Second,
			[]time.Duration{0, 4000 * ms, 8000 * ms, 12000 * ms}, nil},
		{"exactly ten seconds apart is within", 4, 10 * time.Second,
			[]time.Duration{0, 4000 * ms, 8000 * ms, 10000 * ms}, []int{3}},
		{"after a gap a new run fires again", 4, 10 * time.Second,
			[]time.Duration{0, 100 * ms, 200 * ms, 300 * ms, 20000 * ms, 20100 * ms, 20200 * ms, 20300 * ms}, []int{3, 7}},
		{"a keypress heard on both channels counts once", 4, 10 * time.Second,
			[]time.Duration{0, 4 * ms, 500 * ms, 504 * ms, 1000 * ms, 996 * ms, 1500 * ms}, []int{6}},
		{"starts a little out of order still count", 3, 2 * time.Second,
			[]time.Duration{500 * ms, 0, 1000 * ms}, []int{2}},
		{"a policy of six within five seconds", 6, 5 * time.Second,
			[]time.Duration{0, 500 * ms, 1000 * ms, 1500 * ms, 2000 * ms, 2500 * ms}, []int{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRun(rate, tc.count, tc.within)
			if err != nil {
				t.Fatal(err)
			}
			var fired []int
			for i, st := range tc.starts {
				if r.Tone(s(st)) {
					fired = append(fired, i)
				}
			}
			if len(fired) != len(tc.fires) || len(fired) > 0 && fired[0] != tc.fires[0] || len(fired) > 1 && fired[1] != tc.fires[1] {
				t.Errorf("fired on %v, want %v", fired, tc.fires)
			}
		})
	}
	for _, bad := range []struct {
		rate, count int
		within      time.Duration
		err         error
	}{{8000, 1, time.Second, ErrRun}, {8000, 4, 0, ErrRun}, {22050, 4, time.Second, ErrSampleRate}} {
		if _, err := NewRun(bad.rate, bad.count, bad.within); !errors.Is(err, bad.err) {
			t.Errorf("NewRun(%d, %d, %v): %v, want %v", bad.rate, bad.count, bad.within, err, bad.err)
		}
	}
}

// TestCardNumberStartsARun: a caller keys a 16-digit card number as a person
// does (tones of 60 to 180 ms, pauses of 80 to 400 ms) while the officer
// talks; the Masker's tone starts, fed to a Run, fire before the 5th tone
// begins (with the policy's count of 6, before the 7th), and every tone is
// silenced.
func TestCardNumberStartsARun(t *testing.T) {
	t.Parallel()
	const rate = 16000
	const card = "4539148803436467" // a test number that passes the Luhn check
	for _, count := range []int{DefaultRunTones, 6} {
		rng := rand.New(rand.NewPCG(uint64(count), 16))
		ps := []piece{{gap: 500 * time.Millisecond}}
		for i := range card {
			ps = append(ps, piece{tone: tone{key: card[i], dur: time.Duration(60+rng.IntN(121)) * time.Millisecond, level: -8, twist: 2}},
				piece{gap: time.Duration(80+rng.IntN(321)) * time.Millisecond})
		}
		k := soxKeys(t, rate, ps, uint64(count))
		officer := speechStretch(t, rate, 2400*rate, len(k.pcm), -20)
		run, err := NewRun(rate, count, DefaultRunWithin)
		if err != nil {
			t.Fatal(err)
		}
		// In the recorder the Masker gets 20 ms at a time, once the capture
		// has it; the run fires while that write is taken in, so at the end
		// of it at the latest.
		var outBuf bytes.Buffer
		end := int64(0) // the frame at the end of the write being taken in
		firedAt := int64(-1)
		var starts []int64
		m, err := NewMasker(&outBuf, rate, 2, WithToneStarts(func(ch int, start int64) {
			starts = append(starts, start)
			if run.Tone(start) && firedAt < 0 {
				firedAt = end
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		in := pcmToBytes(interleave(officer, k.pcm))
		for p := 0; p < len(in); p += 1280 {
			end = int64(min(p+1280, len(in)) / 4)
			if _, err := m.Write(in[p:min(p+1280, len(in))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		out := bytesToPCM(outBuf.Bytes())
		if len(starts) != len(card) {
			t.Errorf("count %d: %d tone starts reported, want %d", count, len(starts), len(card))
		}
		switch {
		case firedAt < 0:
			t.Errorf("count %d: the run never fired", count)
		case firedAt < k.tones[count-1].Start || firedAt >= k.tones[count].Start:
			t.Errorf("count %d: the run fired at %.0f ms, want between the start of tone %d (%.0f ms) and of tone %d (%.0f ms)",
				count, ms(firedAt, rate), count, ms(k.tones[count-1].Start, rate), count+1, ms(k.tones[count].Start, rate))
		default:
			t.Logf("count %d: fired %.0f ms after tone %d began, %.0f ms before tone %d", count,
				ms(firedAt-k.tones[count-1].Start, rate), count, ms(k.tones[count].Start-firedAt, rate), count+1)
		}
		for i, iv := range k.tones {
			if z := nonZero(out, iv.Start, iv.End); z >= 0 {
				t.Errorf("count %d: tone %d survived at frame %d", count, i, z)
			}
		}
	}
}
