package oggopus_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
)

// opusenc's packets framed again by the Writer, on pages of another size,
// decode with opusdec to exactly the same audio, and opusinfo finds no
// fault in the stream.
func TestWriterFramesAsOpusToolsExpect(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	head, ps := mustReadAll(t, stream)
	for _, d := range []time.Duration{20 * time.Millisecond, 300 * time.Millisecond, oggopus.DefaultPageDuration, 10 * time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			again := writeStream(t, head, datas(ps), ps[len(ps)-1].Trim, oggopus.WithPageDuration(d))
			_, back := mustReadAll(t, again)
			if !slices.EqualFunc(back, ps, func(a, b packet) bool {
				return bytes.Equal(a.Data, b.Data) && a.Start == b.Start && a.Trim == b.Trim
			}) {
				t.Fatal("the packets read back differ from those written")
			}
			pages := pagesOf(t, again)
			perPage := max(1, min(255, int(d/(20*time.Millisecond))))
			if n := len(pages) - 2; n != (len(ps)+perPage-1)/perPage {
				t.Errorf("%d audio pages for %d packets of 20 ms on pages of %v", n, len(ps), d)
			}
			opustest.Info(t, again)
			if !slices.Equal(opustest.DecodeBytes(t, again, 48000), opustest.DecodeBytes(t, stream, 48000)) {
				t.Fatal("opusdec decodes the re-framed stream differently")
			}
		})
	}
}

// Flush hands every packet written so far to the destination: what has
// been written then reads back whole, as a stream cut short.
func TestFlushEndsThePage(t *testing.T) {
	t.Parallel()
	_, ps := mustReadAll(t, speech(t))
	var buf bytes.Buffer
	w, err := oggopus.NewWriter(&buf, oggopus.Head{Channels: 2, PreSkip: 312}, oggopus.Tags{Vendor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps[:30] {
		if err := w.WritePacket(p.Data); err != nil {
			t.Fatal(err)
		}
		if i == 6 || i == 7 || i == 20 {
			before := buf.Len()
			if err := w.Flush(); err != nil || buf.Len() == before {
				t.Fatalf("Flush after %d packets wrote nothing (%v)", i+1, err)
			}
			_, got, err := readAll(t, buf.Bytes())
			if !errors.Is(err, oggopus.ErrTruncated) || len(got) != i+1 {
				t.Fatalf("after %d packets and Flush, %d read back (%v)", i+1, len(got), err)
			}
			n := buf.Len()
			if err := w.Flush(); err != nil || buf.Len() != n {
				t.Fatalf("Flush with nothing waiting wrote %d bytes (%v)", buf.Len()-n, err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := readAll(t, buf.Bytes()); len(got) != 30 {
		t.Fatalf("after the last Flush %d packets read back, want 30", len(got))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, got := mustReadAll(t, buf.Bytes()) // the empty end page closes it properly
	if len(got) != 30 {
		t.Fatalf("%d packets after Close, want 30", len(got))
	}
	if err := w.WritePacket(ps[0].Data); !errors.Is(err, oggopus.ErrClosed) {
		t.Fatalf("a packet after Close: %v, want ErrClosed", err)
	}
}

// Packets and tags too large for one page go on across pages, and come
// back whole; opusdec plays such a stream.
func TestWriterSplitsWhatDoesNotFitAPage(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	head, ps := mustReadAll(t, stream)
	packets := datas(ps)
	// A code 3 packet may carry padding (RFC 6716 section 3.2.5): one frame
	// of ps[5] padded to 100 kB is valid and decodes as ps[5] does.
	big := padded(ps[5].Data, 100_000)
	packets[5] = big
	var buf bytes.Buffer
	tags := oggopus.Tags{Vendor: "test", Comments: []string{"BIG=" + string(bytes.Repeat([]byte("x"), 70_000))}}
	w, err := oggopus.NewWriter(&buf, head, tags)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packets {
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	w.TrimEnd(ps[len(ps)-1].Trim)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := oggopus.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Tags().Get("big"); len(v) != 70_000 {
		t.Fatalf("the 70 kB comment came back with %d bytes", len(v))
	}
	_, back := mustReadAll(t, buf.Bytes())
	if !slices.EqualFunc(back, ps, func(a, b packet) bool { return a.Start == b.Start }) || !bytes.Equal(back[5].Data, big) {
		t.Fatal("the packets read back differ")
	}
	continued := 0
	for _, p := range pagesOf(t, buf.Bytes()) {
		if p.Continued {
			continued++
		}
	}
	if continued < 2 {
		t.Fatalf("%d continued pages; the 70 kB tags and the 100 kB packet each need one", continued)
	}
	if !slices.Equal(opustest.DecodeBytes(t, buf.Bytes(), 48000), opustest.DecodeBytes(t, stream, 48000)) {
		t.Fatal("opusdec decodes the stream with the padded packet differently")
	}
}

// padded returns the single-frame packet p as a code 3 packet carrying
// padding, size bytes long. Its padding length takes one byte per 254
// bytes of padding, and one more (RFC 6716 section 3.2.5).
func padded(p []byte, size int) []byte {
	frame := p[1:]
	for lens := 1; ; lens++ {
		pad := size - 2 - lens - len(frame)
		if pad/254+1 != lens {
			continue
		}
		q := []byte{p[0] | 3, 0x40 | 1} // padding follows, one frame
		for range lens - 1 {
			q = append(q, 255)
		}
		q = append(q, byte(pad%254))
		q = append(q, frame...)
		return append(q, make([]byte, pad)...)
	}
}

func TestWriterRefuses(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if _, err := oggopus.NewWriter(&buf, oggopus.Head{Channels: 3}, oggopus.Tags{}); err == nil {
		t.Error("a writer for three channels in mapping family 0")
	}
	w, err := oggopus.NewWriter(&buf, oggopus.Head{Channels: 1}, oggopus.Tags{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(nil); !errors.Is(err, oggopus.ErrCorrupt) {
		t.Errorf("an empty packet: %v", err)
	}
	if err := w.WritePacket([]byte{9<<3 | 3, 7, 0}); !errors.Is(err, oggopus.ErrCorrupt) {
		t.Errorf("a packet of 140 ms: %v", err)
	}
	if err := w.WritePacket([]byte{9 << 3, 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.TrimEnd(100)
	if err := w.Close(); err == nil {
		t.Error("trimming samples of a page already written")
	}
}
