package oggopus_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
	"github.com/callguard/callguard/internal/testrig"
)

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
		{"to the end of time", []oggopus.Interval{{FromMS: 4500, ToMS: math.MaxInt64}}},
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
			opustest.CheckRedaction(t, stream, out.Bytes(), tc.cuts, res, celt)
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
	cut := pages[4].Offset + 100 // inside page 4: pages 2 and 3 hold audio
	cuts := []oggopus.Interval{{FromMS: 500, ToMS: 1200}}
	var out bytes.Buffer
	res, err := oggopus.Redact(&out, bytes.NewReader(stream[:cut]), cuts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete {
		t.Error("a stream cut short redacted as Complete")
	}
	if !bytes.Equal(out.Bytes()[:pages[2].Offset], stream[:pages[2].Offset]) {
		t.Error("the headers changed")
	}
	_, ps, err := readAll(t, out.Bytes())
	if !errors.Is(err, oggopus.ErrTruncated) {
		t.Fatalf("the redacted stream reads to %v, want ErrTruncated like its source", err)
	}
	if want := pages[2].Ended + pages[3].Ended; len(ps) != want || res.Packets != want {
		t.Fatalf("%d packets (%d counted), want the %d of the two complete audio pages", len(ps), res.Packets, want)
	}
	_, all := mustReadAll(t, stream)
	want := opustest.WantReplaced(all[:len(ps)], 312, cuts)
	for i := range ps {
		if want[i] == bytes.Equal(ps[i].Data, all[i].Data) {
			t.Fatalf("packet %d: replaced %v, should be %v", i, !want[i], want[i])
		}
	}
	// Cut inside the headers there is nothing to redact.
	if _, err := oggopus.Redact(&out, bytes.NewReader(stream[:pages[1].Offset+5]), cuts, nil); !errors.Is(err, oggopus.ErrTruncated) {
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
	packets[60] = padded(ps[60].Data, 150_000) // 1.2 s in, on three pages
	big := writeStream(t, head, packets, ps[len(ps)-1].Trim)
	cuts := []oggopus.Interval{{FromMS: 1100, ToMS: 1300}}
	var out bytes.Buffer
	res, err := oggopus.Redact(&out, bytes.NewReader(big), cuts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := len(pagesOf(t, out.Bytes())), len(pagesOf(t, big)); a != b-1 {
		t.Fatalf("%d pages after, %d before: the page holding only the middle of the packet should go", a, b)
	}
	opustest.CheckRedaction(t, big, out.Bytes(), cuts, res, func(samples int) []byte {
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
	opustest.CheckRedaction(t, stream, out.Bytes(), cuts, res, func(samples int) []byte {
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
