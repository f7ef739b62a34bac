package sip

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
)

// Fifty real calls in a row through Kamailio, with the default timings and
// the core behind the feed: one callguard call per SIP call (its own dialog
// id and Call-ID), ringing (unless Kamailio's NOTIFY of it was overtaken),
// answered, ended and nothing else, so no state goes back and nothing is
// held; each call's recording starts once, is
// never paused and is stopped.
func TestFiftyCallsInARow(t *testing.T) {
	t.Parallel()
	const calls = 50
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
	testrig.SIPpPhone(t, pbx, officer, testrig.PhoneOptions{RingFor: 100 * time.Millisecond})
	w := watch(t, cfgFor(pbx, "udp"))
	w.expect(t, 5*time.Second, "link-up")

	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	rec := &gateRecorder{}
	m := app.NewMachine(app.MachineConfig{Policy: pol, Recorder: rec, Sink: nopSink{}, Notifier: nopNotifier{}, Logger: discard}, time.Now())
	m.HandleCall(app.CallEvent{Kind: app.LinkUp}, time.Now())

	dialogs, callIDs := map[string]bool{}, map[string]bool{}
	began := time.Now()
	unseenRinging := 0
	for i := range calls {
		call := testrig.SIPpCall(t, pbx, "3000", officer, 100*time.Millisecond)
		var id string
		var kinds []string
		for len(kinds) == 0 || kinds[len(kinds)-1] != app.CallEnded.String() {
			if len(kinds) == 3 {
				t.Fatalf("call %d: %q and not ended (seen %q)", i, kinds, w.seen)
			}
			ev := w.next(t, 5*time.Second)
			if id == "" {
				id = ev.DialogID
				if dialogs[id] || callIDs[ev.CallID] || ev.CallID == "" {
					t.Fatalf("call %d: dialog %s / Call-ID %q seen before", i, id, ev.CallID)
				}
				dialogs[id], callIDs[ev.CallID] = true, true
			} else if ev.DialogID != id {
				t.Fatalf("call %d: %s for dialog %s, want %s", i, ev.Kind, ev.DialogID, id)
			}
			kinds = append(kinds, ev.Kind.String())
			m.HandleCall(ev, time.Now())
		}
		// A call that rings for only 100 ms can be answered before
		// Kamailio's NOTIFY of the ringing goes out: it is then first seen
		// answered, which is not a state going back.
		switch strings.Join(kinds, " ") {
		case "ringing answered ended":
		case "answered ended":
			unseenRinging++
		default:
			t.Fatalf("call %d: %q, want ringing, answered, ended", i, kinds)
		}
		call.Wait(t, 10*time.Second)
	}
	w.quiet(t, 300*time.Millisecond)
	t.Logf("%d calls in %v (%d first seen answered)", calls, time.Since(began).Round(time.Millisecond), unseenRinging)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.recs) != calls {
		t.Fatalf("%d recordings for %d calls", len(rec.recs), calls)
	}
	for i, r := range rec.recs {
		if r.pauses != 0 || !r.stopped || r.paused != "" {
			t.Errorf("recording %d (%s): %d pauses, started paused %q, stopped %v", i, r.call.Remote.Number, r.pauses, r.paused, r.stopped)
		}
	}
	if s := m.Snapshot(time.Now()); s.State != app.StateIdle || len(s.Calls) != 0 {
		t.Errorf("after the calls: %s with %d calls live", s.State, len(s.Calls))
	}
}

// gateRecorder notes what the core asks of each recording.
type gateRecorder struct {
	mu   sync.Mutex
	recs []*gateRecording
}

func (g *gateRecorder) Start(call app.RecordingCall, _ func(error)) (app.Recording, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := &gateRecording{g: g, call: call, paused: call.PausedReason}
	g.recs = append(g.recs, r)
	return r, nil
}

type gateRecording struct {
	g       *gateRecorder
	call    app.RecordingCall
	paused  string
	pauses  int
	stopped bool
}

func (r *gateRecording) Pause(reason string) error {
	r.g.mu.Lock()
	defer r.g.mu.Unlock()
	r.pauses++
	return nil
}

func (r *gateRecording) Resume() error { return nil }

func (r *gateRecording) Stop(app.RecordingEnd) error {
	r.g.mu.Lock()
	defer r.g.mu.Unlock()
	if r.stopped {
		return fmt.Errorf("recording %s stopped twice", r.call.ID)
	}
	r.stopped = true
	return nil
}

type nopSink struct{}

func (nopSink) Append(app.Event) error { return nil }

type nopNotifier struct{}

func (nopNotifier) Notify(app.Notification) {}
