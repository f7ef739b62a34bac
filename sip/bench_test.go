package sip

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
)

// BenchmarkNotifyToEvent measures, in one process over loopback UDP, the
// time from a NOTIFY leaving the (fake) phone system to its event being
// taken from Events: SIP parsing, the transaction layer, the handler, the
// dialog-info parser, the tracker and the channel. Reported per event:
// wire-to-event (from sending) and handler-to-event (from the handler's
// receipt, the event's At), as mean and 99th percentile.
func BenchmarkNotifyToEvent(b *testing.B) {
	f := newFakePBX(b)
	sub, err := New(f.config(), append(fastOptions(), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))...)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sub.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f.waitSubscribe(b, 3*time.Second)
	f.notify(b, "active", dialogDoc(1, true))
	if ev := <-sub.Events(); ev.Kind != app.LinkUp {
		b.Fatalf("first event %v", ev.Kind)
	}
	// Each NOTIFY moves dialog 1 on: early, then terminated, then a new
	// dialog early, and so on: every one gives exactly one event.
	bodies := make([]string, b.N)
	for i := range bodies {
		id := strconv.Itoa(i/2 + 1)
		state := "early"
		if i%2 == 1 {
			state = "terminated"
		}
		bodies[i] = dialogDoc(i+2, true, id+":"+state)
	}
	wire := make([]time.Duration, 0, b.N)
	handler := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		req := f.notifyRequest("active", bodies[i], "")
		start := time.Now()
		tx, err := f.client.TransactionRequest(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		ev := <-sub.Events()
		got := time.Now()
		wire = append(wire, got.Sub(start))
		handler = append(handler, got.Sub(ev.At))
		<-tx.Responses()
		tx.Terminate()
	}
	b.StopTimer()
	b.ReportMetric(mean(wire), "wire-to-event-ns")
	b.ReportMetric(pct(wire, 0.99), "wire-to-event-p99-ns")
	b.ReportMetric(mean(handler), "handler-to-event-ns")
	b.ReportMetric(pct(handler, 0.99), "handler-to-event-p99-ns")
}

func mean(d []time.Duration) float64 {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return float64(sum) / float64(max(len(d), 1))
}

func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)])
}

func BenchmarkParseDialogInfo(b *testing.B) {
	body := readTestdata(b, "kamailio/10-waiting-both-confirmed.xml")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ParseDialogInfo(body); err != nil {
			b.Fatal(err)
		}
	}
}
