package recorder

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/internal/testrig"
)

// stereo is n frames of a known signal on both channels, little-endian.
func stereo(n int) []byte {
	b := make([]byte, 0, n*4)
	o, c := signal(1, 0, n), signal(2, 0, n)
	for i := range n {
		b = binary.LittleEndian.AppendUint16(b, uint16(o[i]))
		b = binary.LittleEndian.AppendUint16(b, uint16(c[i]))
	}
	return b
}

// TestPlayPutsEverySampleOnTheOutput: what Play is given reaches the
// default output device (ALSA's file PCM) sample for sample, in order, the
// last buffer's tail padded with silence and nothing else added.
func TestPlayPutsEverySampleOnTheOutput(t *testing.T) {
	a := testrig.NewALSA(t, "officer")
	frames := artefact.SampleRate + 123 // one second and part of a buffer
	audio := stereo(frames)
	if err := Play(context.Background(), bytes.NewReader(audio)); err != nil {
		t.Fatal(err)
	}
	played, err := a.Played()
	if err != nil {
		t.Fatal(err)
	}
	if len(played) < len(audio) || !bytes.Equal(played[:len(audio)], audio) {
		t.Fatalf("played %d bytes, not the %d given", len(played), len(audio))
	}
	if pad := played[len(audio):]; len(pad) >= BufferFrames*4 || bytes.Count(pad, []byte{0}) != len(pad) {
		t.Fatalf("after the audio: %d bytes, not silence padding a buffer", len(pad))
	}
}

// endless is audio that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }

// TestPlayStopsWhenAsked: a stop (ctx) ends the playing at once.
func TestPlayStopsWhenAsked(t *testing.T) {
	testrig.NewALSA(t, "officer")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Play(ctx, io.LimitReader(endless{}, 1<<40)) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Play returned %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Play went on after the stop")
	}
}
