package pbxrecorder_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/pbxrecorder"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/rtpengine/bencode"
)

// BenchmarkPauseConfirmed measures what an officer waits for: from the
// core's Pause (and Resume) to the state changed, which is when rtpengine
// confirmed "stop recording" ("start recording"), on loopback with a real
// rtpengine 10.5 in userspace. It reports p50 and p99 of each.
func BenchmarkPauseConfirmed(b *testing.B) {
	rtp := testrig.StartRTPEngine(b, testrig.RTPEngineOptions{})
	ng, err := rtpengine.Dial(rtp.NG())
	if err != nil {
		b.Fatal(err)
	}
	defer ng.Close()
	sdp := func(port int) string {
		return fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n", port, port)
	}
	ctx := context.Background()
	if _, err := ng.Do(ctx, "offer", bencode.Dict{"call-id": "bench@test", "from-tag": "caller", "sdp": sdp(40000)}); err != nil {
		b.Fatal(err)
	}
	if _, err := ng.Do(ctx, "answer", bencode.Dict{"call-id": "bench@test", "from-tag": "caller", "to-tag": "officer", "sdp": sdp(40002)}); err != nil {
		b.Fatal(err)
	}
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		b.Fatal(err)
	}
	pol.Record.Where = policy.RecordAtPhoneSystem
	core := app.NewCore(app.MachineConfig{
		Policy: pol, Agent: app.AgentView{ID: "1001"}, Language: "en-GB",
		Recorder: app.PhoneSystemRecorder(pbxrecorder.NewRTPEngine(ng), pol.Record.ConfirmWithinOrDefault()),
		Sink:     apptest.Discard{}, Logger: slog.New(slog.DiscardHandler),
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { core.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	core.HandleCall(app.CallEvent{Kind: app.LinkUp})
	core.HandleCall(app.CallEvent{Kind: app.CallAnswered, DialogID: "d1", CallID: "bench@test", Direction: app.DirectionInbound})
	testrig.Eventually(b, 5*time.Second, func() bool { return core.Snapshot().State == app.StateRecording }, "never recording")

	var pauses, resumes []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := core.Pause("payment"); err != nil {
			b.Fatal(err)
		}
		pauses = append(pauses, time.Since(start))
		if s := core.Snapshot().State; s != app.StatePaused {
			b.Fatalf("state %s after a pause", s)
		}
		start = time.Now()
		if err := core.Resume(); err != nil {
			b.Fatal(err)
		}
		resumes = append(resumes, time.Since(start))
		if s := core.Snapshot().State; s != app.StateRecording {
			b.Fatalf("state %s after a resume", s)
		}
	}
	report(b, "pause", pauses)
	report(b, "resume", resumes)
}

func report(b *testing.B, name string, d []time.Duration) {
	slices.Sort(d)
	at := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), name+"-p50-ms")
	b.ReportMetric(at(0.99), name+"-p99-ms")
}
