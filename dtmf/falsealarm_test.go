package dtmf

import (
	"io"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
)

// TestSpeechAndMusicAreNotMasked: an hour of espeak-ng reading (sixteen
// voices and accents, 120 to 260 words a minute) and a quarter of an hour of
// chords from sox, on the desktop's 16 kHz and through the phone system's
// G.711 at 8 kHz. The issue allows at most one false mask an hour.
func TestSpeechAndMusicAreNotMasked(t *testing.T) {
	testrig.NotShort(t, "an hour of speech and a quarter of an hour of music")
	t.Parallel()
	for _, p := range []struct {
		name string
		rate int
		law  string
	}{{"16 kHz", 16000, ""}, {"8 kHz A-law", 8000, "a-law"}} {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			var masks, tones int
			var total time.Duration
			for _, src := range []struct {
				name string
				raw  []byte
			}{
				{"speech", speechHour(t, p.rate)},
				{"music", musicMinutes(t, p.rate, musicLength)},
			} {
				raw := src.raw
				if p.law != "" {
					raw = g711Raw(t, raw, p.law)
				}
				found := 0
				m, err := NewMasker(io.Discard, p.rate, 1, WithToneStarts(func(int, int64) { found++ }))
				if err != nil {
					t.Fatal(err)
				}
				// In the recorder's 20 ms writes.
				step := 2 * p.rate / 50
				for off := 0; off < len(raw); off += step {
					if _, err := m.Write(raw[off:min(off+step, len(raw))]); err != nil {
						t.Fatal(err)
					}
				}
				if err := m.Close(); err != nil {
					t.Fatal(err)
				}
				n := len(m.Masked())
				d := time.Duration(len(raw)/2) * time.Second / time.Duration(p.rate)
				t.Logf("%s (%v): %d stretches masked, %d tones reported", src.name, d, n, found)
				for _, iv := range m.Masked() {
					t.Logf("  masked %.3f s to %.3f s", ms(iv.Start, p.rate)/1000, ms(iv.End, p.rate)/1000)
				}
				masks += n
				tones += found
				total += d
			}
			perHour := float64(masks) / total.Hours()
			t.Logf("false masks: %d in %v, %.2f an hour (tones reported: %d)", masks, total, perHour, tones)
			if perHour > 1 {
				t.Errorf("%.2f false masks an hour, want at most 1", perHour)
			}
		})
	}
}

// musicLength is how much music the false-alarm test plays.
const musicLength = 15 * time.Minute
