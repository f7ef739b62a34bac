package vad

import (
	"encoding/binary"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/callguard/callguard/artefact"
)

// Stereo audio written in pieces of any size (odd ones, splitting a
// sample) gives each channel the runs its own detector gives the channel
// alone, with the frames a pause touches skipped; a pause that begins
// inside a frame skips that whole frame.
func TestTimelineSplitsChannelsAndSkipsPauses(t *testing.T) {
	n := ms(6000)
	left := synth{samples: n, noise: -60, level: -20, freq: 300, bursts: []burst{{ms(500), ms(2200)}, {ms(3000), ms(4000)}}}.pcm(1)
	right := synth{samples: n, noise: -55, level: -35, freq: 900, bursts: []burst{{ms(1000), ms(3500)}, {ms(4100), ms(5000)}}}.pcm(2)
	pause := burst{ms(1510), ms(2490)} // not on frame boundaries
	paused := func(from, to int64) bool { return from < pause.end && to > pause.start }

	stereo := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint16(stereo[4*i:], uint16(left[i]))
		binary.LittleEndian.PutUint16(stereo[4*i+2:], uint16(right[i]))
	}
	tl, err := NewTimeline(paused)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for p := stereo; len(p) > 0; {
		k := min(len(p), 1+rng.IntN(1500))
		if w, err := tl.Write(p[:k]); w != k || err != nil {
			t.Fatalf("wrote %d of %d: %v", w, k, err)
		}
		p = p[k:]
	}
	tl.Close()
	v := tl.Voice()

	for ch, pcm := range [][]int16{left, right} {
		var runs artefact.VoiceRuns
		d, _ := New(&runs)
		for f := int64(0); f*FrameSamples < n; f++ {
			from := f * FrameSamples
			if paused(from, from+FrameSamples) {
				d.Skip()
				continue
			}
			d.Frame(pcm[from : from+FrameSamples])
		}
		d.Flush()
		got := [][]int32{v.Officer, v.Caller}[ch]
		if !reflect.DeepEqual(got, runs.Runs()) {
			t.Errorf("channel %d: runs %v, alone %v", ch, got, runs.Runs())
		}
		if artefact.Frames(got) != n/FrameSamples {
			t.Errorf("channel %d covers %d frames of %d", ch, artefact.Frames(got), n/FrameSamples)
		}
		spans, _ := v.Spans(got)
		for _, s := range spans {
			if s.ToMS > 1500 && s.FromMS < 2500 {
				t.Errorf("channel %d voiced %v, in the pause's frames", ch, s)
			}
		}
		if len(spans) < 2 {
			t.Errorf("channel %d: %v, the tones not found", ch, spans)
		}
	}
	if e := (&Timeline{}); e.Voice().Officer == nil {
		t.Error("an empty timeline's runs are null in JSON")
	}
}

// Whatever bytes arrive, in whatever pieces, with whatever pauses, the
// timeline ends up covering every whole or part frame written, both
// channels alike, with valid runs and nothing voiced in a skipped frame.
func FuzzTimeline(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5}, uint16(7), uint16(100), uint16(3))
	loud := make([]byte, 4*FrameSamples*30)
	for i := range loud {
		loud[i] = byte(i * 7919 >> 3)
	}
	f.Add(loud, uint16(1000), uint16(5), uint16(9))
	f.Fuzz(func(t *testing.T, audio []byte, piece, pauseFrom, pauseFrames uint16) {
		from, to := int64(pauseFrom)*FrameSamples, int64(pauseFrom+pauseFrames)*FrameSamples
		tl, err := NewTimeline(func(a, b int64) bool { return a < to && b > from })
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, int(piece))
		for p := audio; len(p) > 0; {
			k := min(step, len(p))
			tl.Write(p[:k])
			p = p[k:]
		}
		tl.Close()
		v := tl.Voice()
		samples := int64(len(audio) / 4)
		frames := (samples + FrameSamples - 1) / FrameSamples
		for _, runs := range [][]int32{v.Officer, v.Caller} {
			if artefact.Frames(runs) != frames {
				t.Fatalf("%d frames decided of %d", artefact.Frames(runs), frames)
			}
			spans, err := v.Spans(runs)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range spans {
				if s.FromMS < to/16 && s.ToMS > from/16 && pauseFrames > 0 {
					t.Fatalf("voiced %v in the skipped frames %d-%d", s, pauseFrom, pauseFrom+pauseFrames)
				}
			}
		}
	})
}
