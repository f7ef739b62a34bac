package recorder

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
	"github.com/callguard/callguard/internal/testrig"
)

// An Opus recording through the real parts (ALSA file PCM → PortAudio →
// gate → masker → libopus → age), decrypted and decoded by opusdec, follows
// the source, and the paused stretch is exact digital silence, one 20 ms
// frame allowed at each edge. At 32 kbit/s every 100 ms window of speech
// outside the pause correlates with the source's envelope by at least 0.9
// (0.85 in the quiet ends of words, 35 to 40 dB under full scale) on both
// channels. At the default 24 kbit/s one window of the caller's words ("the
// address is", at 10.3 s) correlates 0.837, the same as libopus gives for
// this audio without the recorder around it: the bound there is 0.8 and
// the worst window is logged.
func TestOpusRecordingMatchesItsSourceThroughTheRig(t *testing.T) {
	a := newAudioRig(t, true)
	r := a.recorder(t, "caller")
	for _, c := range []struct {
		bitrate int
		bound   float64
	}{{32000, 0.9}, {24000, 0.8}} {
		t.Run(fmt.Sprintf("%d bit/s", c.bitrate), func(t *testing.T) { recordThroughTheRig(t, a, r, c.bitrate, c.bound) })
	}
}

// recordThroughTheRig is TestOpusRecordingMatchesItsSourceThroughTheRig at
// one bitrate, with bound the least correlation of a loud window.
func recordThroughTheRig(t *testing.T, a *audioRig, r *Recorder, bitrate int, bound float64) {
	officerSays := opustest.Speech(t, "Thank you. Before we take the payment I will pause the recording, so nothing you say is kept.")
	callerSays := opustest.Speech(t, "That is fine. The card is in my name, and the address is twelve Station Road.")
	n := len(officerSays) + len(callerSays) + artefact.SampleRate
	officer, caller := make([]int16, n), make([]int16, n)
	copy(officer, officerSays)
	copy(caller[len(officerSays)+artefact.SampleRate/2:], callerSays)

	call := opusCall(fmt.Sprintf("call-opus-rig-%d", bitrate), "")
	call.Audio.Bitrate = bitrate
	rec, err := r.start(call, func(err error) { t.Errorf("onFail: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	start := a.fedFrames()
	done := a.feedPCM(officer, caller, 4*time.Millisecond)
	// Pause for a second and a half in the middle of the caller's words.
	pauseAt := start + int64(len(officerSays)+artefact.SampleRate)
	testrig.Eventually(t, 30*time.Second, func() bool { return r.captureFrames() >= pauseAt }, "capture did not reach the pause")
	if err := rec.Pause("payment"); err != nil {
		t.Fatal(err)
	}
	testrig.Eventually(t, 30*time.Second, func() bool { return r.captureFrames() >= pauseAt+artefact.SampleRate*3/2 }, "capture did not reach the resume")
	if err := rec.Resume(); err != nil {
		t.Fatal(err)
	}
	done()
	want := start + int64((n+BufferFrames-1)/BufferFrames*BufferFrames)
	testrig.Eventually(t, 20*time.Second, func() bool { return r.captureFrames() >= want }, "capture did not read the %d frames fed", want)
	testrig.Eventually(t, 20*time.Second, func() bool { return rec.written.Load() >= want-rec.startFrame }, "the writer did not take every buffer")
	if err := rec.Stop(app.RecordingEnd{Ended: time.Now(), Notice: app.NoticeAnnounced}); err != nil {
		t.Fatal(err)
	}
	if vr, err := artefact.Verify(rec.audioPath, rec.manifestPath, []age.Identity{a.keyID}); err != nil {
		t.Fatalf("verify: %v %v", err, vr.Problems)
	}
	m, err := artefact.ReadManifest(rec.manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pauses) != 1 || m.Pauses[0].EndMS == nil {
		t.Fatalf("pauses %s", pausesString(m))
	}
	var ogg bytes.Buffer
	if _, err := artefact.Decrypt(rec.audioPath, []age.Identity{a.keyID}, &ogg); err != nil {
		t.Fatal(err)
	}
	got := opustest.DecodeBytes(t, ogg.Bytes(), artefact.SampleRate)
	if int64(len(got)/2) != m.Frames {
		t.Fatalf("opusdec decodes %d frames, the manifest says %d", len(got)/2, m.Frames)
	}
	off := rec.startFrame - start // source frame of the recording's first
	frame := int64(artefact.SampleRate / 50)
	p0, p1 := artefact.MSToFrames(m.Pauses[0].StartMS), artefact.MSToFrames(*m.Pauses[0].EndMS)

	// The pause: exact zeros on both channels, less a frame at each edge.
	for k := p0 + frame; k < p1-frame; k++ {
		if got[2*k] != 0 || got[2*k+1] != 0 {
			t.Fatalf("frame %d (%d ms), inside the pause %s, decodes to (%d, %d)", k, artefact.FramesToMS(k), pausesString(m), got[2*k], got[2*k+1])
		}
	}
	// Outside it: the source's envelope, window by window.
	for ch, src := range [][]int16{officer, caller} {
		who := []string{"officer", "caller"}[ch]
		aligned := make([]int16, m.Frames)
		for k := range aligned {
			if s := int64(k) + off; s >= 0 && s < int64(len(src)) && (int64(k) < p0 || int64(k) >= p1) {
				aligned[k] = src[s]
			}
		}
		dec := opustest.Channel(got, ch)
		worst, windows := 1.0, 0
		for _, w := range opustest.Envelopes(aligned, dec, artefact.SampleRate) {
			from, to := int64(w.Start), int64(w.Start)+artefact.SampleRate/10
			if w.Level < -40 || !w.Shaped || (to > p0-frame && from < p1+frame) {
				continue // silence, a steady vowel, or beside the pause
			}
			windows++
			if w.Level >= -35 {
				worst = min(worst, w.Corr)
			}
			if w.Corr < min(0.85, bound) || w.Corr < bound && w.Level >= -35 {
				t.Errorf("%s: the window at %d ms correlates %.3f with the source (level %.1f dBFS)", who, artefact.FramesToMS(from), w.Corr, w.Level)
			}
		}
		if windows < 15 {
			t.Fatalf("%s: only %d windows of speech compared", who, windows)
		}
		t.Logf("%s: %d windows of speech, the worst correlates %.3f", who, windows, worst)
	}
	t.Logf("%v recorded, pause %s, %d bytes of Ogg Opus", time.Duration(m.DurationMS)*time.Millisecond, pausesString(m), ogg.Len())
}
