package opustest

import (
	"bytes"
	"io"
	"math"
	"slices"
	"testing"

	"github.com/callguard/callguard/artefact/oggopus"
)

// Packet is a copy of a packet read from a stream, with its time.
type Packet struct {
	Data    []byte
	Start   int64 // 48 kHz samples after the pre-skip
	Samples int
	Trim    int
}

// ReadPackets reads every packet of stream and returns them with the error
// that ended the reading (nil for a proper end).
func ReadPackets(stream []byte) (oggopus.Head, []Packet, error) {
	r, err := oggopus.NewReader(bytes.NewReader(stream))
	if err != nil {
		return oggopus.Head{}, nil, err
	}
	var out []Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return r.Head(), out, nil
		}
		if err != nil {
			return r.Head(), out, err
		}
		out = append(out, Packet{Data: bytes.Clone(p.Data), Start: p.Start, Samples: p.Samples, Trim: p.Trim})
	}
}

// MustReadPackets is ReadPackets for a stream that must be complete and
// valid.
func MustReadPackets(t testing.TB, stream []byte) (oggopus.Head, []Packet) {
	t.Helper()
	h, ps, err := ReadPackets(stream)
	if err != nil {
		t.Fatalf("read stream: %v", err)
	}
	return h, ps
}

// PageInfo is where a page lies in a stream and what it holds.
type PageInfo struct {
	Offset, Size int
	Seq          uint32
	Granule      int64
	Continued    bool
	EOS          bool
	Ended        int // packets that end on it
}

// Pages lists the pages of stream.
func Pages(t testing.TB, stream []byte) []PageInfo {
	t.Helper()
	pr := oggopus.NewPageReader(bytes.NewReader(stream))
	var out []PageInfo
	for {
		off := int(pr.Offset())
		p, err := pr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("page at byte %d: %v", off, err)
		}
		ended := 0
		for _, v := range p.Lacing {
			if v < 255 {
				ended++
			}
		}
		out = append(out, PageInfo{Offset: off, Size: int(pr.Offset()) - off, Seq: p.Sequence,
			Granule: p.Granule, Continued: p.Continued, EOS: p.EOS, Ended: ended})
	}
}

// SilentBelow is the level a redacted interval must decode under: -60 dBFS.
var SilentBelow = 32768 * math.Pow(10, -60.0/20)

// WantReplaced says which packets oggopus.Redact must replace, by its rule:
// those that play during a cut or whose look-ahead (the pre-skip) reached
// into one, and the two packets after each run of them.
func WantReplaced(ps []Packet, preSkip int, cuts []oggopus.Interval) []bool {
	hit := make([]bool, len(ps))
	for i, p := range ps {
		for _, c := range cuts {
			to := min(c.ToMS, 1<<40) * 48 // no overflow for a cut to the end of time
			if p.Start < to && p.Start+int64(p.Samples)+int64(preSkip) > c.FromMS*48 {
				hit[i] = true
			}
		}
	}
	want := slices.Clone(hit)
	for i := range ps {
		if !hit[i] && (i >= 1 && hit[i-1] || i >= 2 && hit[i-2]) {
			want[i] = true
		}
	}
	return want
}

// CheckRedaction checks a redaction of orig into red by cuts: the packets
// replaced are exactly those of the rule, each by silence(its samples),
// every other packet is byte for byte the same, pages keep their granule
// positions, opusinfo finds no fault, and opusdec decodes every cut to
// silence below -60 dBFS (one frame allowed at each edge), the audio before
// the first replaced packet exactly as before, and the audio after each
// silenced stretch as before (envelope correlation at least 0.9, level
// within 3 dB) from 100 ms after it.
func CheckRedaction(t *testing.T, orig, red []byte, cuts []oggopus.Interval, res oggopus.RedactResult, silence func(samples int) []byte) {
	t.Helper()
	head, before := MustReadPackets(t, orig)
	_, after := MustReadPackets(t, red)
	if len(after) != len(before) || res.Packets != len(before) {
		t.Fatalf("%d packets before, %d after, %d counted", len(before), len(after), res.Packets)
	}
	want := WantReplaced(before, head.PreSkip, cuts)
	replaced := 0
	for i := range before {
		if after[i].Start != before[i].Start || after[i].Samples != before[i].Samples {
			t.Fatalf("packet %d moved: %d+%d, was %d+%d", i, after[i].Start, after[i].Samples, before[i].Start, before[i].Samples)
		}
		switch {
		case want[i]:
			replaced++
			if s := silence(before[i].Samples); !bytes.Equal(after[i].Data, s) {
				t.Fatalf("packet %d (%d ms) should be silence %x, is %x", i, before[i].Start/48, s, after[i].Data)
			}
		case !bytes.Equal(after[i].Data, before[i].Data):
			t.Fatalf("packet %d (%d ms) is outside every cut but changed", i, before[i].Start/48)
		}
	}
	if res.Replaced != replaced {
		t.Errorf("Replaced = %d, %d packets were", res.Replaced, replaced)
	}
	pb, pa := Pages(t, orig), Pages(t, red)
	if len(pa) == len(pb) {
		for i := range pb {
			if pa[i].Granule != pb[i].Granule || pa[i].Seq != pb[i].Seq || pa[i].EOS != pb[i].EOS {
				t.Fatalf("page %d: granule %d seq %d, was %d seq %d", i, pa[i].Granule, pa[i].Seq, pb[i].Granule, pb[i].Seq)
			}
		}
	}
	Info(t, red)

	const rate = 48000
	frame := rate / 50
	both := DecodeBytes(t, red, rate)
	dec, decR := Channel(both, 0), Channel(both, 1)
	orgDec := Channel(DecodeBytes(t, orig, rate), 0)
	if len(dec) != len(orgDec) {
		t.Fatalf("decoded %d samples, the original %d", len(dec), len(orgDec))
	}
	for _, c := range cuts {
		from, to := int(c.FromMS)*rate/1000+frame, min(len(dec), int(c.ToMS)*rate/1000-frame)
		if from >= to {
			continue
		}
		for _, ch := range [][]int16{dec, decR} {
			if p := Peak(ch[from:to]); float64(p) >= SilentBelow {
				t.Errorf("cut %d–%d ms: peak %d (%.1f dBFS) inside, want below -60 dBFS", c.FromMS, c.ToMS, p, DBFS(float64(p)))
			}
		}
	}
	for i, s := range res.Silenced {
		from, to := int(s.FromMS)*rate/1000+frame, min(len(dec), int(s.ToMS)*rate/1000-frame)
		if from < to {
			t.Logf("silenced %d–%d ms: peak %d from one frame in", s.FromMS, s.ToMS, max(Peak(dec[from:to]), Peak(decR[from:to])))
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
		// settle, well within 100 ms (measured on opusenc's speech:
		// correlation 0.77 over the first 100 ms window, 1.000 from the
		// next).
		start := int(s.ToMS)*rate/1000 + 5*frame
		if start >= end {
			continue
		}
		for _, w := range Envelopes(orgDec[start:end], dec[start:end], rate) {
			if w.Level > -40 && (w.Shaped && w.Corr < 0.9 || math.Abs(w.GotLevel-w.Level) > 3) {
				t.Errorf("after the stretch silenced at %d–%d ms, the window at %d ms correlates %.2f with the original, %.1f dB off",
					s.FromMS, s.ToMS, (start+w.Start)*1000/rate, w.Corr, w.GotLevel-w.Level)
			}
		}
	}
}
