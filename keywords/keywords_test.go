package keywords

import (
	"os"
	"strings"
	"testing"

	"github.com/callguard/callguard/internal/testrig"
)

// speak is espeak-ng reading text, as 16 kHz mono PCM.
func speak(t testing.TB, voice string, speed int, text string) []int16 {
	return testrig.Speak(t, voice, speed, text)
}

func needModel(t testing.TB) {
	t.Helper()
	_, err := os.Stat(DefaultModel + "/cmudict-en-us.dict")
	testrig.Need(t, "the pocketsphinx-en-us model", err)
}

func silence(ms int) []int16 { return make([]int16, ms*SampleRate/1000) }

func spotter(t testing.TB, phrases ...Phrase) *Spotter {
	t.Helper()
	needModel(t)
	s, err := New("", phrases)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// A phrase said between two silences is found once, inside the stretch of
// audio that said it.
func TestSpotsAPhraseWhereItWasSaid(t *testing.T) {
	s := spotter(t, Phrase{Text: "Anything else", Threshold: 1e-60})
	said := speak(t, "en-gb", 160, "Is there anything else I can help you with today?")
	pcm := append(append(silence(1500), said...), silence(1500)...)
	hits, err := s.Spot(pcm)
	if err != nil {
		t.Fatal(err)
	}
	saidMS := int64(len(said)) * 1000 / SampleRate
	if len(hits) != 1 || hits[0].Phrase != "anything else" || hits[0].FromMS < 1500 || hits[0].ToMS > 1500+saidMS || hits[0].ToMS <= hits[0].FromMS {
		t.Fatalf("hits %+v, want one \"anything else\" inside [1500, %d) ms", hits, 1500+saidMS)
	}
	// The spotter is ready for the next recording.
	again, err := s.Spot(silence(2000))
	if err != nil || len(again) != 0 {
		t.Fatalf("silence gave %+v, %v", again, err)
	}
}

func TestAPhraseTheModelCannotSayIsNamed(t *testing.T) {
	needModel(t)
	for _, p := range []Phrase{{Text: "thank you for calling callguardia"}, {Text: "  "}} {
		if _, err := New("", []Phrase{p}); err == nil || (strings.TrimSpace(p.Text) != "" && !strings.Contains(err.Error(), `"callguardia"`)) {
			t.Errorf("%q: error %v, want the unknown word named", p.Text, err)
		}
	}
	if _, err := New("/nonexistent", []Phrase{{Text: "hello"}}); err == nil || !strings.Contains(err.Error(), "pocketsphinx-en-us") {
		t.Errorf("a missing model: %v, want the package to install named", err)
	}
}
