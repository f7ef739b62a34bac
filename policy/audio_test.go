package policy_test

import (
	"strings"
	"testing"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

// Recordings are Opus at 24 kbit/s unless the policy says otherwise; a
// policy may choose another bitrate in range, or WAV, and nothing else.
func TestAudioSettings(t *testing.T) {
	p, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if f, b := p.Audio.FormatOrDefault(), p.Audio.BitrateOrDefault(); f != policy.AudioOpus || b != 24000 {
		t.Errorf("default policy: %s at %d bit/s, want opus at 24000", f, b)
	}
	for _, tc := range []struct {
		name, overlay, err string
		format             string
		bitrate            int
	}{
		{"a higher bitrate for cleaner double talk", `{"audio": {"bitrate": 32000}}`, "", "opus", 32000},
		{"wav kept for tools that read nothing else", `{"audio": {"format": "wav"}}`, "", "wav", 24000},
		{"a bitrate that merges the voices is refused", `{"audio": {"bitrate": 16000}}`, "audio.bitrate: 16000 bit/s must be between 24000 and 128000", "", 0},
		{"too high", `{"audio": {"bitrate": 256000}}`, "audio.bitrate: 256000", "", 0},
		{"an unknown format", `{"audio": {"format": "mp3"}}`, `audio.format: "mp3"`, "", 0},
		{"a bitrate for wav", `{"audio": {"format": "wav", "bitrate": 32000}}`, "a bitrate is for Opus", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := p.Overlay([]byte(tc.overlay))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f, b := q.Audio.FormatOrDefault(), q.Audio.BitrateOrDefault(); f != tc.format || b != tc.bitrate {
				t.Fatalf("%s at %d, want %s at %d", f, b, tc.format, tc.bitrate)
			}
		})
	}
}
