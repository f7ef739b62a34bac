package recorder

import (
	"slices"
	"testing"

	"github.com/callguard/callguard/artefact"
)

// Through the fake device (loud noise on both channels): a pause still
// open at Stop, and a call paused from its start, leave nothing voiced
// from where the pause began, and the timeline covers the recording.
func TestVoiceTimelineEndsAtAnOpenPause(t *testing.T) {
	for _, c := range []struct{ name, pausedFrom string }{{"paused at the middle", ""}, {"paused from the start", "payment"}} {
		t.Run(c.name, func(t *testing.T) {
			_, manifest, _ := recordFakeCall(t, 100, testCall("call-fake-voice", c.pausedFrom))
			m, err := artefact.ReadManifest(manifest)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Pauses) != 1 || m.Voice == nil || m.Voice.FrameMS != artefact.VoiceFrameMS {
				t.Fatalf("pauses %s, voice %+v", pausesString(m), m.Voice)
			}
			p := m.Pauses[0]
			for name, runs := range map[string][]int32{"officer": m.Voice.Officer, "caller": m.Voice.Caller} {
				if got := artefact.Frames(runs) * BufferFrames; got != m.Frames {
					t.Errorf("%s covers %d frames of %d", name, got, m.Frames)
				}
				spans, err := m.Voice.Spans(runs)
				if err != nil {
					t.Fatal(err)
				}
				var want []artefact.Span
				if p.StartMS > 0 {
					want = []artefact.Span{{FromMS: 0, ToMS: p.StartMS}}
				}
				if !slices.Equal(spans, want) {
					t.Errorf("%s: voiced %v, want %v (pause %s)", name, spans, want, pausesString(m))
				}
			}
		})
	}
}
