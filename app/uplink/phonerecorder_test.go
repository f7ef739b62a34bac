package uplink_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/rtpengine/bencode"
)

// TestCorePausesThePhoneSystemThroughTheServer: where the policy records at
// the phone system, the desktop's core starts and pauses rtpengine's
// recording through the central server, which holds the ng address. The
// banner says paused only after rtpengine confirmed, and with rtpengine
// gone a pause is the unconfirmed alarm within the policy's time.
func TestCorePausesThePhoneSystemThroughTheServer(t *testing.T) {
	rtp := testrig.StartRTPEngine(t, testrig.RTPEngineOptions{})
	ng, err := rtpengine.Dial(rtp.NG())
	if err != nil {
		t.Fatal(err)
	}
	defer ng.Close()
	sdp := func(port int) string {
		return fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n", port, port)
	}
	ctx := context.Background()
	if _, err := ng.Do(ctx, "offer", bencode.Dict{"call-id": "call-1@test", "from-tag": "caller", "sdp": sdp(40000)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ng.Do(ctx, "answer", bencode.Dict{"call-id": "call-1@test", "from-tag": "caller", "to-tag": "officer", "sdp": sdp(40002)}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	r := &rig{t: t, db: filepath.Join(dir, "cg.db"), data: filepath.Join(dir, "data"),
		addr: fmt.Sprintf("127.0.0.1:%d", testrig.FreePort(t, "tcp")), phone: ng}
	r.url = "http://" + r.addr
	r.start()
	t.Cleanup(r.stop)
	tok, _ := r.agent("olive")
	client := uplink.New(uplink.Options{BaseURL: r.url, Token: static(tok), Logger: quiet()})

	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	pol.Record.Where = policy.RecordAtPhoneSystem
	core := app.NewCore(app.MachineConfig{
		Policy: pol, Agent: app.AgentView{ID: "olive"}, Language: "en-GB",
		Recorder: app.PhoneSystemRecorder(client.PhoneRecorder(pol.Record.Location()), pol.Record.ConfirmWithinOrDefault()),
		Sink:     apptest.Discard{}, Notifier: noNotes{}, Logger: quiet(),
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { core.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	core.HandleCall(app.CallEvent{Kind: app.LinkUp})
	core.HandleCall(app.CallEvent{Kind: app.CallAnswered, DialogID: "d1", CallID: "call-1@test", Direction: app.DirectionInbound})
	testrig.Eventually(t, 5*time.Second, func() bool { return core.Snapshot().State == app.StateRecording }, "never recording")
	if n := len(rtp.OpenPCAPs()); n != 1 {
		t.Fatalf("rtpengine records %d stretches, want 1", n)
	}
	if err := core.Pause("payment"); err != nil {
		t.Fatal(err)
	}
	if s := core.Snapshot(); s.State != app.StatePaused {
		t.Fatalf("state %s/%q after the pause", s.State, s.Reason)
	}
	if n := len(rtp.OpenPCAPs()); n != 0 {
		t.Fatalf("paused, yet rtpengine records %d stretches", n)
	}
	if err := core.Resume(); err != nil {
		t.Fatal(err)
	}
	if n := len(rtp.OpenPCAPs()); n != 1 || core.Snapshot().State != app.StateRecording {
		t.Fatalf("resumed: %d stretches open, state %s", n, core.Snapshot().State)
	}

	rtp.Kill(t)
	start := time.Now()
	if err := core.Pause("payment"); !errors.Is(err, app.ErrUnconfirmed) {
		t.Fatalf("pause: %v, want app.ErrUnconfirmed", err)
	}
	took := time.Since(start)
	s := core.Snapshot()
	t.Logf("pause with rtpengine gone: %v, %s: %s", took, s.State, s.Reason)
	if s.State != app.StateUnconfirmed {
		t.Fatalf("state %s/%q, want unconfirmed", s.State, s.Reason)
	}
	if took > policy.DefaultConfirmWithin+150*time.Millisecond {
		t.Fatalf("the alarm came after %v", took)
	}
}
