package oggopus_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/callguard/callguard/artefact/oggopus"
)

// speech is testdata/speech.opus: espeak-ng reading a sentence, 16 kHz
// stereo, encoded by opusenc (opus-tools 0.2, libopus 1.3.1) at 24 kbit/s
// in 20 ms frames, so it is framed by libogg, not by this package.
func speech(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/speech.opus")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// packet is a copy of a packet read, with its time.
type packet struct {
	data    []byte
	start   int64
	samples int
	trim    int
}

// readAll reads every packet of stream and returns them with the error
// that ended the reading (nil for a proper end).
func readAll(t testing.TB, stream []byte) (oggopus.Head, []packet, error) {
	t.Helper()
	r, err := oggopus.NewReader(bytes.NewReader(stream))
	if err != nil {
		return oggopus.Head{}, nil, err
	}
	var out []packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return r.Head(), out, nil
		}
		if err != nil {
			return r.Head(), out, err
		}
		out = append(out, packet{data: bytes.Clone(p.Data), start: p.Start, samples: p.Samples, trim: p.Trim})
	}
}

// mustReadAll is readAll for a stream that must be complete and valid.
func mustReadAll(t testing.TB, stream []byte) (oggopus.Head, []packet) {
	t.Helper()
	h, ps, err := readAll(t, stream)
	if err != nil {
		t.Fatalf("read stream: %v", err)
	}
	return h, ps
}

// pageInfo is where a page lies in a stream and what it holds.
type pageInfo struct {
	offset, size int
	seq          uint32
	granule      int64
	continued    bool
	eos          bool
	ended        int // packets that end on it
}

// pagesOf lists the pages of stream.
func pagesOf(t testing.TB, stream []byte) []pageInfo {
	t.Helper()
	pr := oggopus.NewPageReader(bytes.NewReader(stream))
	var out []pageInfo
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
		out = append(out, pageInfo{offset: off, size: int(pr.Offset()) - off, seq: p.Sequence,
			granule: p.Granule, continued: p.Continued, eos: p.EOS, ended: ended})
	}
}

// writeStream frames packets into a stream with the package's Writer.
func writeStream(t testing.TB, head oggopus.Head, packets [][]byte, trim int, opts ...oggopus.WriterOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := oggopus.NewWriter(&buf, head, oggopus.Tags{Vendor: "callguard test"}, append([]oggopus.WriterOption{oggopus.WithSerial(7)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packets {
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	w.TrimEnd(trim)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// datas returns the packets' bytes.
func datas(ps []packet) [][]byte {
	out := make([][]byte, len(ps))
	for i, p := range ps {
		out[i] = p.data
	}
	return out
}

// isStreamError reports whether err is one of the package's stream errors,
// the only ones a stream in memory may end with.
func isStreamError(err error) bool {
	return errors.Is(err, oggopus.ErrCorrupt) || errors.Is(err, oggopus.ErrTruncated) || errors.Is(err, oggopus.ErrUnsupported)
}
