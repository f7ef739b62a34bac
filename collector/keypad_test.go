package collector_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/collector"
	"github.com/callguard/callguard/dtmf"
	"github.com/callguard/callguard/rtpengine/pcapaudio"
)

// The caller keys 1, 2, 3, 4 in band (tones in the G.711 itself, as old
// lines and some gateways send them) while the officer's voice goes on: in
// the collected recording not one sample of a tone survives, each is a
// redaction of kind dtmf in the manifest, the detector finds no tone in
// what was stored, and the officer's channel is untouched outside the
// masked stretches.
func TestCollectedRecordingHasNoKeypadTones(t *testing.T) {
	dir := t.TempDir()
	keys := [][2]float64{{697, 1209}, {697, 1336}, {697, 1477}, {770, 1209}} // 1 2 3 4
	const rate = 8000
	toneAt := func(i int) (from, to int) { return rate + i*rate/5, rate + i*rate/5 + rate*8/100 } // 80 ms tones, 200 ms apart
	src := filepath.Join(dir, "a.pcap")
	writeAudio(t, src, 0, 150, func(side, n int) float64 {
		if side == 1 { // the officer: a steady 300 Hz voice-like tone, never a key
			return 2000 * math.Sin(2*math.Pi*300*float64(n)/rate)
		}
		for i, k := range keys {
			if from, to := toneAt(i); n >= from && n < to {
				return 4000 * (math.Sin(2*math.Pi*k[0]*float64(n)/rate) + math.Sin(2*math.Pi*k[1]*float64(n)/rate))
			}
		}
		return 0
	})
	identity, recipient, err := artefact.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	m, err := collector.Convert(collector.Call{ID: "c0ffee05", Sides: pcapaudio.Sides{callerPort: pcapaudio.SideCaller, officerPort: pcapaudio.SideOfficer}},
		[]string{src}, []string{recipient}, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Redactions) != len(keys) {
		t.Fatalf("redactions %+v, want one for each of the %d tones", m.Redactions, len(keys))
	}
	for _, r := range m.Redactions {
		if r.Kind != artefact.RedactionKindDTMF || r.By != "collector" {
			t.Errorf("redaction %+v, want kind dtmf by the collector", r)
		}
	}
	ids, err := age.ParseIdentities(bytes.NewReader([]byte(identity)))
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if _, err := artefact.Decrypt(filepath.Join(out, m.AudioFile), ids, &plain); err != nil {
		t.Fatal(err)
	}
	pcm := plain.Bytes()[artefact.WAVHeaderSize:]
	frames := len(pcm) / artefact.BytesPerFrame
	officer, caller := make([]int16, frames), make([]int16, frames)
	for i := range frames {
		officer[i] = int16(binary.LittleEndian.Uint16(pcm[4*i:]))
		caller[i] = int16(binary.LittleEndian.Uint16(pcm[4*i+2:]))
	}
	// Every sample of every tone (16 kHz here) is silence.
	for i := range keys {
		from, to := toneAt(i)
		for n := 2 * from; n < 2*to; n++ {
			if caller[n] != 0 {
				t.Fatalf("tone %d: sample %d is %d, not silence", i+1, n, caller[n])
			}
		}
	}
	if got, err := dtmf.Detect(caller, artefact.SampleRate); err != nil || len(got) != 0 {
		t.Fatalf("the detector finds tones %v (%v) in the stored caller channel", got, err)
	}
	// The officer's channel keeps its sound outside the masked stretches.
	inMask := func(n int) bool {
		for _, r := range m.Redactions {
			if ms := int64(n) * 1000 / artefact.SampleRate; ms >= r.FromMS && ms < r.ToMS {
				return true
			}
		}
		return false
	}
	var loud int
	for n := range frames {
		if !inMask(n) && officer[n] != 0 {
			loud++
		}
	}
	if loud < frames/2 {
		t.Fatalf("the officer's channel is silent in %d of %d frames outside the masks", frames-loud, frames)
	}
}
