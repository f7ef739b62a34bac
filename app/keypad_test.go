package app

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/policy"
)

// The recorder's keypad reports as the core applies them: silenced tones
// are counted on the call and sent on as keypad.masked events (times only);
// a run asks the officer, with the payment hotkey, until she pauses or the
// tones stop for the run's window; the recording gets the policy's settings.
func TestKeypadRunAsksTheOfficer(t *testing.T) {
	r := newRig(t, defaultPolicy(t), false)
	up(r)
	r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
	rec := r.rec.live("07700900001")
	if k := rec.call.Keypad; k.Guard != 40*time.Millisecond || k.RunTones != 4 || k.RunWithin != 10*time.Second || rec.call.OnKeypad == nil {
		t.Fatalf("recording started with keypad %+v (callback set %v)", k, rec.call.OnKeypad != nil)
	}
	id := r.m.Snapshot(r.now).Call.ID
	for i := range 3 {
		r.m.Keypad(id, KeypadEvent{Kind: KeypadMasked, FromMS: int64(1000 + 200*i), ToMS: int64(1180 + 200*i)}, r.now)
	}
	s := r.m.Snapshot(r.now)
	if s.Call.KeypadMasked != 3 || s.Call.Keying {
		t.Fatalf("after 3 tones: masked %d, keying %v", s.Call.KeypadMasked, s.Call.Keying)
	}
	var masked []Event
	for _, e := range r.sink.events {
		if e.Type == EventKeypadMasked {
			masked = append(masked, e)
		}
	}
	if len(masked) != 3 || *masked[0].FromMS != 1000 || *masked[0].ToMS != 1180 || masked[0].CallID != id || masked[0].Reason != "" || masked[0].Note != "" {
		t.Fatalf("keypad.masked events %+v", masked)
	}

	r.m.Keypad(id, KeypadEvent{Kind: KeypadRun, AtMS: 1600}, r.now)
	s = r.m.Snapshot(r.now)
	if !s.Call.Keying || s.State != StateRecording {
		t.Fatalf("after a run: keying %v, state %s", s.Call.Keying, s.State)
	}
	if n := r.note.sent; len(n) != 1 || n[0].Kind != NotifyKeypad || !strings.Contains(n[0].Body, "Ctrl+1") {
		t.Fatalf("notifications %+v, want one keypad notice naming the payment hotkey", n)
	}
	// More tones keep the question up; 10 s without one takes it down.
	r.advance(9 * time.Second)
	r.m.Keypad(id, KeypadEvent{Kind: KeypadMasked, FromMS: 10000, ToMS: 10200}, r.now)
	r.advance(9 * time.Second)
	if !r.m.Snapshot(r.now).Call.Keying {
		t.Fatal("the question went while tones still came")
	}
	if next, ok := r.m.NextDeadline(); !ok || next.Sub(r.now) != time.Second {
		t.Fatalf("next deadline in %v, want 1s (the question's end)", next.Sub(r.now))
	}
	r.advance(time.Second)
	if r.m.Snapshot(r.now).Call.Keying {
		t.Fatal("the question stayed 10 s after the last tone")
	}
	// Asked again, the officer pauses: the question goes at once.
	r.m.Keypad(id, KeypadEvent{Kind: KeypadRun, AtMS: 30000}, r.now)
	if err := r.m.Pause("payment", r.now); err != nil {
		t.Fatal(err)
	}
	if s := r.m.Snapshot(r.now); s.Call.Keying || s.State != StatePaused {
		t.Fatalf("after pausing: keying %v, state %s", s.Call.Keying, s.State)
	}
	// While paused a run changes nothing.
	r.m.Keypad(id, KeypadEvent{Kind: KeypadRun, AtMS: 40000}, r.now)
	if r.m.Snapshot(r.now).Call.Keying {
		t.Fatal("asked to pause while paused")
	}
	r.wantState(StatePaused, "payment")
	checkInvariants(t, r)
}

// Where the policy says so, a run pauses the recording with reason
// payment-detected; the officer resumes it; its reminder follows the
// payment reason's remind_after and advances.
func TestKeypadRunPausesWhereThePolicySaysSo(t *testing.T) {
	pol := defaultPolicy(t)
	pol.Keypad.OnRun = policy.KeypadPause
	r := newRig(t, pol, false)
	up(r)
	r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
	id := r.m.Snapshot(r.now).Call.ID
	r.m.Keypad(id, KeypadEvent{Kind: KeypadRun, AtMS: 5000}, r.now)
	r.wantState(StatePaused, policy.PaymentDetectedReason)
	s := r.m.Snapshot(r.now)
	if s.ReasonLabel != policy.PaymentDetectedLabel || s.Call.Keying {
		t.Fatalf("label %q, keying %v", s.ReasonLabel, s.Call.Keying)
	}
	rec := r.rec.live("07700900001")
	if rec.open || !reflect.DeepEqual(rec.reasons, []string{policy.PaymentDetectedReason}) {
		t.Fatalf("recorder gate open=%v reasons %v", rec.open, rec.reasons)
	}
	if got := r.sink.types(); got[len(got)-1] != "recording.state:paused/payment-detected" {
		t.Fatalf("events %v", got)
	}
	r.advance(3 * time.Minute) // the payment reason's remind_after
	if k := r.note.kinds(); len(k) != 2 || k[1] != NotifyPauseLong {
		t.Fatalf("notifications %v, want the pause then a reminder", k)
	}
	if next, ok := r.m.NextDeadline(); !ok || !next.After(r.now) {
		t.Fatalf("next deadline %v not after now %v: the reminder does not advance", next, r.now)
	}
	if err := r.m.Resume(r.now); err != nil {
		t.Fatal(err)
	}
	r.wantState(StateRecording, "")
	if !r.rec.live("07700900001").open {
		t.Fatal("gate still closed after resume")
	}
	checkInvariants(t, r)
	// An officer cannot choose the core's reason.
	if err := r.m.Pause(policy.PaymentDetectedReason, r.now); err == nil {
		t.Fatal("an officer paused for payment-detected")
	}
}

// Through the core: a recorder reporting from its own goroutine reaches
// the machine and the published snapshot.
func TestCoreTakesKeypadReportsFromTheRecorder(t *testing.T) {
	core, rec, _, _, _, _ := startCore(t, true)
	snaps, cancel := core.Subscribe()
	defer cancel()
	if _, err := core.StartManual(DirectionInbound, Party{Number: "07700900002"}); err != nil {
		t.Fatal(err)
	}
	live := rec.live("07700900002")
	go live.call.OnKeypad(KeypadEvent{Kind: KeypadMasked, FromMS: 100, ToMS: 300})
	go live.call.OnKeypad(KeypadEvent{Kind: KeypadRun, AtMS: 900})
	next(t, snaps, func(s Snapshot) bool { return s.Call != nil && s.Call.KeypadMasked == 1 && s.Call.Keying })
}

// Keypad reports in every order with holds, a second call, pauses and
// time passing, with the policy that pauses on a run: the invariants hold
// (never a pause that is not the recorder's, never the question on a call
// not being recorded).
func TestKeypadSequencesKeepTheInvariants(t *testing.T) {
	pol := defaultPolicy(t)
	pol.Keypad.OnRun = policy.KeypadPause
	report := func(number string, ev KeypadEvent) func(r *rig) {
		return func(r *rig) {
			if rec := r.rec.live(number); rec != nil {
				rec.call.OnKeypad(ev)
			}
		}
	}
	inputs := []input{
		{"answer d1 in", func(r *rig) { r.call(CallAnswered, "d1", DirectionInbound, "07700900001") }},
		{"end d1", func(r *rig) { r.call(CallEnded, "d1", DirectionInbound, "07700900001") }},
		{"answer d2 in", func(r *rig) { r.call(CallAnswered, "d2", DirectionInbound, "07700900002") }},
		{"phone system holds d1", func(r *rig) { r.call(CallHeld, "d1", DirectionInbound, "07700900001") }},
		{"phone system resumes d1", func(r *rig) { r.call(CallResumed, "d1", DirectionInbound, "07700900001") }},
		{"run on d1", report("07700900001", KeypadEvent{Kind: KeypadRun, AtMS: 1000})},
		{"masked on d1", report("07700900001", KeypadEvent{Kind: KeypadMasked, FromMS: 900, ToMS: 1100})},
		{"run on d2", report("07700900002", KeypadEvent{Kind: KeypadRun, AtMS: 1000})},
		{"pause payment", func(r *rig) { r.m.Pause("payment", r.now) }},
		{"resume", func(r *rig) { r.m.Resume(r.now) }},
		{"11 s pass", func(r *rig) { r.advance(11 * time.Second) }},
	}
	depth := 5
	if testing.Short() || raceEnabled {
		depth = 4
	}
	walkInputsWith(t, pol, inputs, depth)
	// And with the policy that asks.
	walkInputsWith(t, defaultPolicy(t), inputs, 4)
}

// The recorder reports the tones it silenced last while it stops (what the
// masker held back), when the core has already ended the call: they are
// still counted and sent, and a run then asks nothing.
func TestKeypadReportsAfterTheCallEnded(t *testing.T) {
	r := newRig(t, defaultPolicy(t), false)
	up(r)
	r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
	id := r.m.Snapshot(r.now).Call.ID
	r.call(CallEnded, "d1", DirectionInbound, "07700900001")
	r.m.Keypad(id, KeypadEvent{Kind: KeypadMasked, FromMS: 9000, ToMS: 9300}, r.now)
	r.m.Keypad(id, KeypadEvent{Kind: KeypadRun, AtMS: 9000}, r.now)
	s := r.m.Snapshot(r.now)
	if len(s.Recent) != 1 || s.Recent[0].KeypadMasked != 1 || s.Recent[0].Keying || len(r.note.sent) != 0 {
		t.Fatalf("recent %+v, notifications %v", s.Recent, r.note.sent)
	}
	if last := r.sink.events[len(r.sink.events)-1]; last.Type != EventKeypadMasked || last.CallID != id || *last.ToMS != 9300 {
		t.Fatalf("last event %+v", last)
	}
	checkInvariants(t, r)
}
