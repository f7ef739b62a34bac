package artefact

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestVoiceRunsRoundTrip(t *testing.T) {
	frames := []bool{true, true, false, false, false, true, false}
	var r VoiceRuns
	for _, f := range frames {
		r.Add(f)
	}
	v := &Voice{FrameMS: VoiceFrameMS, Officer: r.Runs()}
	if want := []int32{0, 2, 3, 1, 1}; !reflect.DeepEqual(v.Officer, want) {
		t.Fatalf("runs %v, want %v", v.Officer, want)
	}
	if n := Frames(v.Officer); n != int64(len(frames)) {
		t.Fatalf("covers %d frames, want %d", n, len(frames))
	}
	spans, err := v.Spans(v.Officer)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Span{{0, 40}, {100, 120}}; !reflect.DeepEqual(spans, want) {
		t.Fatalf("spans %v, want %v", spans, want)
	}
	if _, err := (&Voice{FrameMS: 20}).Spans([]int32{1, -1}); err == nil {
		t.Fatal("a negative run decoded")
	}
	if _, err := (&Voice{}).Spans([]int32{1}); err == nil {
		t.Fatal("a timeline without a frame size decoded")
	}
}

// A manifest from a recorder before the timeline (no "voice") parses, and
// says so with a nil Voice; one with it keeps its runs through JSON.
func TestManifestVoiceIsOptional(t *testing.T) {
	old := []byte(`{"version": 3, "recorder": "callguard-recorder/1", "call_id": "c-1",
		"sample_rate": 16000, "channels": 2, "channel_map": ["officer", "caller"],
		"codec": "opus", "bitrate": 24000, "frame_ms": 20,
		"pauses": [{"start_ms": 0, "end_ms": 220, "reason": "payment"}],
		"frames": 6398720, "duration_ms": 399920, "complete": true}`)
	m, err := ParseManifest(old)
	if err != nil {
		t.Fatal(err)
	}
	if m.Voice != nil || m.CallID != "c-1" || len(m.Pauses) != 1 {
		t.Fatalf("an older manifest read as %+v (voice %+v)", m, m.Voice)
	}
	m.Voice = &Voice{FrameMS: VoiceFrameMS, Officer: []int32{0, 3, 2}, Caller: []int32{5}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"voice":{"frame_ms":20,"officer":[0,3,2],"caller":[5]}`)) {
		t.Fatalf("the timeline is not in the manifest as the contract says: %s", b)
	}
	back, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Voice, m.Voice) {
		t.Fatalf("voice %+v after JSON, want %+v", back.Voice, m.Voice)
	}
}
