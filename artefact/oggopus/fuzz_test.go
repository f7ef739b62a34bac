package oggopus_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
)

// seeds adds the fuzz corpus: the opusenc sample whole, cut short, with a
// page missing, and a small stream of this package's Writer.
func seeds(f *testing.F) {
	stream := speech(f)
	f.Add(stream)
	f.Add(stream[:len(stream)/2])
	pages := pagesOf(f, stream)
	f.Add(append(bytes.Clone(stream[:pages[3].Offset]), stream[pages[4].Offset:]...))
	_, ps := mustReadAll(f, stream)
	f.Add(writeStream(f, oggopus.Head{Channels: 2, PreSkip: 312, InputRate: 16000}, datas(ps[:12]), 100,
		oggopus.WithPageDuration(60_000_000)))
}

// The reader never panics, never loops, ends only in io.EOF or one of its
// stream errors, and every packet it returns is sound: not empty, at most
// 120 ms, right after the one before.
func FuzzReader(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, stream []byte) {
		r, err := oggopus.NewReader(bytes.NewReader(stream))
		if err != nil {
			if !isStreamError(err) {
				t.Fatalf("NewReader: %v", err)
			}
			return
		}
		var next int64
		for i := 0; ; i++ {
			p, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !isStreamError(err) {
					t.Fatalf("Next: %v", err)
				}
				if _, again := r.Next(); !errors.Is(again, err) && again != err {
					t.Fatalf("Next after %v returned %v", err, again)
				}
				return
			}
			if len(p.Data) == 0 || p.Samples <= 0 || p.Samples > 5760 || p.Trim < 0 || p.Trim > p.Samples {
				t.Fatalf("packet %d: %d bytes, %d samples, trim %d", i, len(p.Data), p.Samples, p.Trim)
			}
			if i > 0 && p.Start != next {
				t.Fatalf("packet %d starts at %d, the one before ended at %d", i, p.Start, next)
			}
			next = p.Start + int64(p.Samples)
			if i > len(stream) {
				t.Fatal("more packets than bytes")
			}
		}
	})
}

// Redaction never panics and, when it succeeds, writes a stream that reads
// back with as many packets, each as long as before, and what is outside
// the silenced stretches unchanged.
func FuzzRedact(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, stream []byte) {
		cuts := []oggopus.Interval{{FromMS: 100, ToMS: 300}}
		var out bytes.Buffer
		res, err := oggopus.Redact(&out, bytes.NewReader(stream), cuts, nil)
		if err != nil {
			if !isStreamError(err) {
				t.Fatalf("Redact: %v", err)
			}
			return
		}
		head, before, berr := readAll(t, stream)
		_, after, aerr := readAll(t, out.Bytes())
		if (berr == nil) != (aerr == nil) || (berr == nil) != res.Complete {
			t.Fatalf("source ends in %v, the redacted stream in %v, Complete %v", berr, aerr, res.Complete)
		}
		if len(after) != len(before) || res.Packets != len(before) {
			t.Fatalf("%d packets before, %d after, %d counted", len(before), len(after), res.Packets)
		}
		want := opustest.WantReplaced(before, head.PreSkip, cuts)
		for i := range before {
			if after[i].Start != before[i].Start || after[i].Samples != before[i].Samples {
				t.Fatalf("packet %d moved", i)
			}
			if !want[i] && !bytes.Equal(after[i].Data, before[i].Data) {
				t.Fatalf("packet %d at %d ms changed, outside the cut", i, before[i].Start/48)
			}
			if want[i] {
				s, err := oggopus.CELTSilence(head.Channels, head.InputRate, before[i].Samples)
				if err != nil || !bytes.Equal(after[i].Data, s) {
					t.Fatalf("packet %d at %d ms is %x, not silence", i, before[i].Start/48, after[i].Data)
				}
			}
		}
	})
}
