package app

import (
	"context"
	"log/slog"
	"testing"
)

// BenchmarkPauseResume measures an officer's pause and resume through the
// core's goroutine: the intent is queued, the machine commands the recorder
// (a fake here; recorder.BenchmarkPause measures the real gate), emits the
// metadata events and publishes a snapshot to a subscriber.
func BenchmarkPauseResume(b *testing.B) {
	core := NewCore(MachineConfig{
		Policy:   defaultPolicy(b),
		Agent:    AgentView{ID: "1001"},
		Manual:   true,
		Recorder: &fakeRecorder{},
		Sink:     &fakeSink{},
		Notifier: &fakeNotifier{},
		Logger:   slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { core.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	snaps, unsubscribe := core.Subscribe()
	defer unsubscribe()
	go func() {
		for range snaps { // a window that keeps up
		}
	}()
	if _, err := core.StartManual(DirectionInbound, Party{Number: "07700900001"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := core.Pause("payment"); err != nil {
			b.Fatal(err)
		}
		if err := core.Resume(); err != nil {
			b.Fatal(err)
		}
	}
}
