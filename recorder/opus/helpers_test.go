package opus_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
	"github.com/callguard/callguard/recorder/opus"
)

const rate = opus.SampleRate

// ms converts milliseconds to samples per channel at 16 kHz.
func ms(n int) int { return n * rate / 1000 }

// encode encodes interleaved stereo pcm with the Encoder, handed over in
// pieces of uneven size (odd bytes included), as capture buffers come.
func encode(t testing.TB, pcm []int16, opts ...opus.EncoderOption) ([]byte, *opus.Encoder) {
	t.Helper()
	var buf bytes.Buffer
	e, err := opus.NewEncoder(&buf, append([]opus.EncoderOption{opus.WithOggOptions(oggopus.WithSerial(1))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	b := opustest.Bytes(pcm)
	for i, step := 0, 0; i < len(b); step++ {
		n := min(len(b)-i, []int{1280, 3, 640, 1, 5000, 1279}[step%6])
		if _, err := e.Write(b[i : i+n]); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), e
}

// decodeOwn decodes stream with the package's Decoder and returns the
// interleaved stereo PCM and the error it ended with (nil at a proper end).
func decodeOwn(t testing.TB, stream []byte) ([]int16, error) {
	t.Helper()
	d, err := opus.NewDecoder(bytes.NewReader(stream))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	b, err := io.ReadAll(d)
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
	}
	return pcm, err
}

// mustDecodeOwn is decodeOwn for a complete stream.
func mustDecodeOwn(t testing.TB, stream []byte) []int16 {
	t.Helper()
	pcm, err := decodeOwn(t, stream)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return pcm
}

// script is what espeak-ng reads for the tests: an officer taking a card
// payment, and the caller.
const (
	officerSays = "Thank you. Could you read me the long number on the front of the card, please?"
	callerSays  = "Yes. It is four nine two nine, one two three four, five six seven eight, nine zero one two."
)

var (
	speechMu    sync.Mutex
	speechCache = map[string][]int16{}
)

// speech is espeak-ng reading text, 16 kHz mono, made once per test binary.
func speech(t testing.TB, text string) []int16 {
	t.Helper()
	speechMu.Lock()
	defer speechMu.Unlock()
	if s, ok := speechCache[text]; ok {
		return s
	}
	s := opustest.Speech(t, text)
	speechCache[text] = s
	return s
}

// isTruncated reports whether err says a stream was cut short.
func isTruncated(err error) bool { return errors.Is(err, oggopus.ErrTruncated) }

// readTestdata is oggopus's sample of opusenc's output.
func readTestdata(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../artefact/oggopus/testdata/speech.opus")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
