package oggopus_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
	"github.com/callguard/callguard/internal/testrig"
)

// silentBelow is the level a redacted interval must decode under: -60 dBFS.
var silentBelow = 32768 * math.Pow(10, -60.0/20)

// wantReplaced says which packets Redact must replace, by its rule: those
// that play during a cut or whose look-ahead (the pre-skip) reached into
// one, and the packet after each run of them.
func wantReplaced(ps []packet, preSkip int, cuts []oggopus.Interval) []bool {
	hit := make([]bool, len(ps))
	for i, p := range ps {
		for _, c := range cuts {
			if p.start < c.ToMS*48 && p.start+int64(p.samples)+int64(preSkip) > c.FromMS*48 {
				hit[i] = true
			}
		}
	}
	want := slices.Clone(hit)
	for i := 1; i < len(ps); i++ {
		if hit[i-1] && !hit[i] {
			want[i] = true
		}
	}
	return want
}

// checkRedacted checks a redaction of orig into red by cuts: the packets
// replaced are exactly those of the rule, every other packet is byte for
// byte the same, pages keep their granule positions, opusinfo finds no
// fault, and opusdec decodes every cut to silence below -60 dBFS (one frame
// allowed at each edge), the audio before the first replaced packet
// exactly as before, and the audio after each silenced stretch as before
// (envelope correlation at least 0.9) from 100 ms after it.
func checkRedacted(t *testing.T, orig, red []byte, cuts []oggopus.Interval, res oggopus.RedactResult, silence func(samples int) []byte) {
	t.Helper()
	head, before := mustReadAll(t, orig)
	_, after := mustReadAll(t, red)
	if len(after) != len(before) || res.Packets != len(before) {
		t.Fatalf("%d packets before, %d after, %d counted", len(before), len(after), res.Packets)
	}
	want := wantReplaced(before, head.PreSkip, cuts)
	replaced := 0
	for i := range before {
		if after[i].start != before[i].start || after[i].samples != before[i].samples {
			t.Fatalf("packet %d moved: %d+%d, was %d+%d", i, after[i].start, after[i].samples, before[i].start, before[i].samples)
		}
		switch {
		case want[i]:
			replaced++
			if s := silence(before[i].samples); !bytes.Equal(after[i].data, s) {
				t.Fatalf("packet %d (%d ms) should be silence %x, is %x", i, before[i].start/48, s, after[i].data)
			}
		case !bytes.Equal(after[i].data, before[i].data):
			t.Fatalf("packet %d (%d ms) is outside every cut but changed", i, before[i].start/48)
		}
	}
	if res.Replaced != replaced {
		t.Errorf("Replaced = %d, %d packets were", res.Replaced, replaced)
	}
	pb, pa := pagesOf(t, orig), pagesOf(t, red)
	if len(pa) == len(pb) {
		for i := range pb {
			if pa[i].granule != pb[i].granule || pa[i].seq != pb[i].seq || pa[i].eos != pb[i].eos {
				t.Fatalf("page %d: granule %d seq %d, was %d seq %d", i, pa[i].granule, pa[i].seq, pb[i].granule, pb[i].seq)
			}
		}
	}
	opustest.Info(t, red)

	const rate = 48000
	frame := rate / 50
	dec := opustest.Channel(opustest.DecodeBytes(t, red, rate), 0)
	orgDec := opustest.Channel(opustest.DecodeBytes(t, orig, rate), 0)
	decR := opustest.Channel(opustest.DecodeBytes(t, red, rate), 1)
	if len(dec) != len(orgDec) {
		t.Fatalf("decoded %d samples, the original %d", len(dec), len(orgDec))
	}
	for _, c := range cuts {
		from, to := int(c.FromMS)*rate/1000+frame, min(len(dec), int(c.ToMS)*rate/1000-frame)
		if from >= to {
			continue
		}
		for _, ch := range [][]int16{dec, decR} {
			if p := opustest.Peak(ch[from:to]); float64(p) >= silentBelow {
				t.Errorf("cut %d–%d ms: peak %d (%.1f dBFS) inside, want below -60 dBFS", c.FromMS, c.ToMS, p, opustest.DBFS(float64(p)))
			}
		}
	}
	for i, s := range res.Silenced {
		from, to := int(s.FromMS)*rate/1000+frame, min(len(dec), int(s.ToMS)*rate/1000-frame)
		if from < to {
			t.Logf("silenced %d–%d ms: peak %d from one frame in", s.FromMS, s.ToMS, opustest.Peak(dec[from:to]))
		}
		if i == 0 {
			// The decoder has seen the same packets up to here.
			if n := int(s.FromMS) * rate / 1000; !slices.Equal(dec[:n], orgDec[:n]) {
				t.Errorf("the audio before the first silenced stretch (%d ms) changed", s.FromMS)
			}
		}
		end := len(dec)
		if i+1 < len(res.Silenced) {
			end = int(res.Silenced[i+1].FromMS) * rate / 1000
		}
		// The packets after are the same bytes, but the decoder's
		// prediction starts again from silence: it takes a few frames to
		// settle, well within 100 ms (measured: correlation 0.77 over the
		// first 100 ms window, 1.000 from the next).
		start := int(s.ToMS)*rate/1000 + 5*frame
		if start >= end {
			continue
		}
		for _, w := range opustest.Envelopes(orgDec[start:end], dec[start:end], rate) {
			if w.Level > -40 && w.Corr < 0.9 {
				t.Errorf("after the stretch silenced at %d–%d ms, the window at %d ms correlates %.2f with the original",
					s.FromMS, s.ToMS, (start+w.Start)*1000/rate, w.Corr)
			}
		}
	}
}

func TestRedactSilencesCutsAndKeepsEveryOtherPacket(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	celt := func(samples int) []byte {
		p, err := oggopus.CELTSilence(2, 16000, samples)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		cuts []oggopus.Interval
	}{
		{"one second", []oggopus.Interval{{FromMS: 1000, ToMS: 2000}}},
		// Packets play [20k-6.5, 20k+13.5) ms and heard 6.5 ms beyond.
		{"a cut the packet before heard through its look-ahead", []oggopus.Interval{{FromMS: 1019, ToMS: 1500}}},
		{"a cut the packet before did not hear", []oggopus.Interval{{FromMS: 1020, ToMS: 1500}}},
		{"several cuts, overlapping and unsorted", []oggopus.Interval{{FromMS: 3000, ToMS: 3300}, {FromMS: 400, ToMS: 700}, {FromMS: 600, ToMS: 900}, {FromMS: 2500, ToMS: 2510}}},
		{"from the start, over the pre-skip", []oggopus.Interval{{FromMS: 0, ToMS: 300}}},
		{"to past the end", []oggopus.Interval{{FromMS: 4000, ToMS: 60_000}}},
		{"past the end only", []oggopus.Interval{{FromMS: 60_000, ToMS: 70_000}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			res, err := oggopus.Redact(&out, bytes.NewReader(stream), tc.cuts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete || res.DurationMS != 4952 {
				t.Errorf("Complete %v, DurationMS %d; want true, 4952", res.Complete, res.DurationMS)
			}
			checkRedacted(t, stream, out.Bytes(), tc.cuts, res, celt)
			t.Logf("%d of %d packets replaced; silenced %v", res.Replaced, res.Packets, res.Silenced)
		})
	}
}

// Without cuts the output is the input, byte for byte.
func TestRedactWithoutCutsCopiesTheStream(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	var out bytes.Buffer
	res, err := oggopus.Redact(&out, bytes.NewReader(stream), nil, nil)
	if err != nil || res.Replaced != 0 || !bytes.Equal(out.Bytes(), stream) {
		t.Fatalf("%v, %d replaced, same bytes %v", err, res.Replaced, bytes.Equal(out.Bytes(), stream))
	}
}

// A recording cut short by a crash is redacted up to its last complete
// page, and the result says so.
func TestRedactACrashedRecording(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	pages := pagesOf(t, stream)
	cut := pages[4].offset + 100 // inside page 4: pages 2 and 3 hold audio
	cuts := []oggopus.Interval{{FromMS: 500, ToMS: 1200}}
	var out bytes.Buffer
	res, err := oggopus.Redact(&out, bytes.NewReader(stream[:cut]), cuts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete {
		t.Error("a stream cut short redacted as Complete")
	}
	if !bytes.Equal(out.Bytes()[:pages[2].offset], stream[:pages[2].offset]) {
		t.Error("the headers changed")
	}
	_, ps, err := readAll(t, out.Bytes())
	if !errors.Is(err, oggopus.ErrTruncated) {
		t.Fatalf("the redacted stream reads to %v, want ErrTruncated like its source", err)
	}
	if want := pages[2].ended + pages[3].ended; len(ps) != want || res.Packets != want {
		t.Fatalf("%d packets (%d counted), want the %d of the two complete audio pages", len(ps), res.Packets, want)
	}
	_, all := mustReadAll(t, stream)
	want := wantReplaced(all[:len(ps)], 312, cuts)
	for i := range ps {
		if want[i] == bytes.Equal(ps[i].data, all[i].data) {
			t.Fatalf("packet %d: replaced %v, should be %v", i, !want[i], want[i])
		}
	}
	// Cut inside the headers there is nothing to redact.
	if _, err := oggopus.Redact(&out, bytes.NewReader(stream[:pages[1].offset+5]), cuts, nil); !errors.Is(err, oggopus.ErrTruncated) {
		t.Fatalf("a stream cut in its headers: %v, want ErrTruncated", err)
	}
}

// A packet that spans pages and lies in a cut leaves pages that held only
// its middle empty; they go, and the pages after are renumbered.
func TestRedactDropsPagesThatHeldOnlyAReplacedPacket(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	head, ps := mustReadAll(t, stream)
	packets := datas(ps)
	packets[60] = padded(ps[60].data, 150_000) // 1.2 s in, on three pages
	big := writeStream(t, head, packets, ps[len(ps)-1].trim)
	cuts := []oggopus.Interval{{FromMS: 1100, ToMS: 1300}}
	var out bytes.Buffer
	res, err := oggopus.Redact(&out, bytes.NewReader(big), cuts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := len(pagesOf(t, out.Bytes())), len(pagesOf(t, big)); a != b-1 {
		t.Fatalf("%d pages after, %d before: the page holding only the middle of the packet should go", a, b)
	}
	checkRedacted(t, big, out.Bytes(), cuts, res, func(samples int) []byte {
		p, _ := oggopus.CELTSilence(2, 16000, samples)
		return p
	})
}

// The recorder's silence packet stands in for the packets of a cut,
// repeated for longer ones; CELT silence covers what it cannot.
func TestRedactWithAGivenSilencePacket(t *testing.T) {
	t.Parallel()
	// opusenc with 60 ms frames: each packet is three frames' time.
	testrig.NeedCommand(t, "opusenc")
	dir := t.TempDir()
	wav := filepath.Join(dir, "speech.wav")
	if err := os.WriteFile(wav, wavFile(opustest.Stereo(opustest.Speech(t, "Four four one two, three three nine nine."), nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "speech.opus")
	opustest.Run(t, "opusenc", "--quiet", "--bitrate", "24", "--framesize", "60", wav, path)
	stream, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	given := []byte{23<<3 | 4, 0xff, 0xfe} // CELT WB 20 ms stereo, silent: as the recorder gives it
	cuts := []oggopus.Interval{{FromMS: 700, ToMS: 1400}}
	var out bytes.Buffer
	res, err := oggopus.Redact(&out, bytes.NewReader(stream), cuts, given)
	if err != nil {
		t.Fatal(err)
	}
	checkRedacted(t, stream, out.Bytes(), cuts, res, func(samples int) []byte {
		if samples != 2880 {
			t.Fatalf("a packet of %d samples in a stream of 60 ms frames", samples)
		}
		return []byte{23<<3 | 4 | 3, 3, 0xff, 0xfe, 0xff, 0xfe, 0xff, 0xfe}
	})

	for _, bad := range [][]byte{{}, {0xbc}, {0xbc | 3, 1, 0xff, 0xfe}, bytes.Repeat([]byte{0xbc}, 300)} {
		if _, err := oggopus.Redact(&out, bytes.NewReader(stream), cuts, bad); !errors.Is(err, oggopus.ErrBadSilence) {
			t.Errorf("silence %x: %v, want ErrBadSilence", bad, err)
		}
	}
}

func TestRedactRefusesBadIntervals(t *testing.T) {
	t.Parallel()
	for _, c := range []oggopus.Interval{{FromMS: -1, ToMS: 5}, {FromMS: 5, ToMS: 5}, {FromMS: 10, ToMS: 3}} {
		var out bytes.Buffer
		_, err := oggopus.Redact(&out, bytes.NewReader(speech(t)), []oggopus.Interval{c}, nil)
		if !errors.Is(err, oggopus.ErrBadInterval) || out.Len() != 0 {
			t.Errorf("%+v: %v, %d bytes written; want ErrBadInterval and nothing", c, err, out.Len())
		}
	}
}

// CELT silence of every duration Opus allows decodes to exact zeros.
func TestCELTSilenceDecodesToZeros(t *testing.T) {
	t.Parallel()
	var packets [][]byte
	total := 0
	for _, ms := range []float64{2.5, 5, 10, 20, 40, 60, 80, 100, 120} {
		samples := int(ms * 48)
		for _, rate := range []int{8000, 16000, 24000, 48000} {
			p, err := oggopus.CELTSilence(2, rate, samples)
			if err != nil {
				t.Fatalf("%v ms: %v", ms, err)
			}
			if got, _ := oggopus.PacketSamples(p); got != samples {
				t.Fatalf("%v ms at %d Hz: the packet lasts %d samples", ms, rate, got)
			}
			packets = append(packets, p)
			total += samples
		}
	}
	for _, bad := range []int{0, 100, 6000} {
		if _, err := oggopus.CELTSilence(2, 16000, bad); err == nil {
			t.Errorf("CELT silence of %d samples", bad)
		}
	}
	stream := writeStream(t, oggopus.Head{Channels: 2, PreSkip: 312, InputRate: 16000}, packets, 0)
	opustest.Info(t, stream)
	pcm := opustest.DecodeBytes(t, stream, 48000)
	if len(pcm)/2 != total-312 {
		t.Fatalf("decoded %d samples, want %d", len(pcm)/2, total-312)
	}
	if p := opustest.Peak(pcm); p != 0 {
		t.Fatalf("CELT silence decodes to a peak of %d", p)
	}
}

// wavFile wraps 16 kHz stereo PCM16 in a WAV header, for opusenc.
func wavFile(pcm []int16) []byte {
	data := opustest.Bytes(pcm)
	h := fmt.Appendf(nil, "RIFF%sWAVEfmt %s%s%s%s%s%s%sdata%s",
		le32(36+len(data)), le32(16), le16(1), le16(2), le32(16000), le32(64000), le16(4), le16(16), le32(len(data)))
	return append(h, data...)
}

func le32(v int) string { return string([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
func le16(v int) string { return string([]byte{byte(v), byte(v >> 8)}) }
