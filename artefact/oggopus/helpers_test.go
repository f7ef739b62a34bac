package oggopus_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
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

type packet = opustest.Packet

// readAll reads every packet of stream (opustest.ReadPackets).
func readAll(t testing.TB, stream []byte) (oggopus.Head, []packet, error) {
	t.Helper()
	return opustest.ReadPackets(stream)
}

// mustReadAll reads a stream that must be complete and valid.
func mustReadAll(t testing.TB, stream []byte) (oggopus.Head, []packet) {
	t.Helper()
	return opustest.MustReadPackets(t, stream)
}

type pageInfo = opustest.PageInfo

// pagesOf lists the pages of stream.
func pagesOf(t testing.TB, stream []byte) []pageInfo {
	t.Helper()
	return opustest.Pages(t, stream)
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
		out[i] = p.Data
	}
	return out
}

// isStreamError reports whether err is one of the package's stream errors,
// the only ones a stream in memory may end with.
func isStreamError(err error) bool {
	return errors.Is(err, oggopus.ErrCorrupt) || errors.Is(err, oggopus.ErrTruncated) || errors.Is(err, oggopus.ErrUnsupported)
}
