package apptest_test

import (
	"errors"
	"testing"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
)

func TestRecorderTracksTheGate(t *testing.T) {
	var rec apptest.Recorder
	r, err := rec.Start(app.RecordingCall{ID: "c1"}, nil)
	if err != nil || !rec.Open("c1") {
		t.Fatalf("start: open=%v err=%v", rec.Open("c1"), err)
	}
	r.Pause("payment")
	if rec.Open("c1") {
		t.Fatal("open after Pause")
	}
	r.Resume()
	if !rec.Open("c1") {
		t.Fatal("closed after Resume")
	}
	r.Stop(app.RecordingEnd{})
	if rec.Open("c1") {
		t.Fatal("open after Stop")
	}
	if _, err := rec.Start(app.RecordingCall{ID: "c2", PausedReason: "payment"}, nil); err != nil || rec.Open("c2") {
		t.Fatalf("a call started paused: open=%v err=%v", rec.Open("c2"), err)
	}
	failing := apptest.Recorder{FailStart: errors.New("no microphone")}
	if _, err := failing.Start(app.RecordingCall{ID: "c3"}, nil); err == nil {
		t.Fatal("FailStart ignored")
	}
}
