package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/policy"
)

// fakePhone is a phone system's recorder: it logs each command it obeyed
// and can be told to refuse, or to never answer (as rtpengine when killed).
type fakePhone struct {
	mu      sync.Mutex
	cmds    []string
	refuse  error
	silent  bool // never answers: each command waits for its context
	waited  []time.Duration
	records map[string]bool // by SIP Call-ID: recording now
	tags    []string        // the officer's tag each command named
}

func (f *fakePhone) command(ctx context.Context, name string, c PhoneCall, on bool) error {
	f.mu.Lock()
	silent, refuse := f.silent, f.refuse
	f.mu.Unlock()
	if silent {
		start := time.Now()
		<-ctx.Done()
		f.mu.Lock()
		f.waited = append(f.waited, time.Since(start))
		f.mu.Unlock()
		return fmt.Errorf("fake phone: %s: %w", name, ctx.Err())
	}
	if refuse != nil {
		return refuse
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = append(f.cmds, name+" "+c.SIPCallID)
	f.tags = append(f.tags, c.OfficerTag)
	if f.records == nil {
		f.records = map[string]bool{}
	}
	f.records[c.SIPCallID] = on
	return nil
}

func (f *fakePhone) Record(ctx context.Context, c PhoneCall) error {
	return f.command(ctx, "record", c, true)
}

func (f *fakePhone) Stop(ctx context.Context, c PhoneCall) error {
	return f.command(ctx, "stop", c, false)
}

func (f *fakePhone) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.cmds)
}

const confirmWithin = 40 * time.Millisecond

// newPhoneRig is a machine whose calls are recorded at the phone system
// (where pbx), or at both (with the rig's fake desktop recorder too).
func newPhoneRig(t *testing.T, where string) (*rig, *fakePhone) {
	t.Helper()
	pol := defaultPolicy(t)
	pol.Record.Where = where
	if err := pol.Validate(); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, pol, false)
	phone := &fakePhone{}
	var rec Recorder = PhoneSystemRecorder(phone, confirmWithin)
	if where == policy.RecordAtBoth {
		rec = BothRecorders(r.rec, rec)
	}
	r.m = NewMachine(MachineConfig{
		Policy: pol, Agent: AgentView{ID: "1001"}, Language: "en-GB",
		Recorder: rec, Sink: r.sink, Notifier: r.note, Logger: slog.New(slog.DiscardHandler),
	}, r.now)
	r.m.onFail = func(id string, err error) { r.m.RecorderFailed(id, err, r.now) }
	up(r)
	return r, phone
}

func TestThePhoneSystemIsToldTheOfficersTag(t *testing.T) {
	// Kamailio sends the dialog's tags only while it is early: the tag of
	// the ringing event names the officer in every command after.
	r, phone := newPhoneRig(t, policy.RecordAtPhoneSystem)
	ev := CallEvent{Kind: CallRinging, DialogID: "d1", CallID: "sip-d1", LocalTag: "1001-tag",
		Direction: DirectionInbound, Remote: Party{Number: "07700900001"}, At: r.now}
	r.m.HandleCall(ev, r.now)
	ev.Kind, ev.LocalTag = CallAnswered, ""
	r.m.HandleCall(ev, r.now)
	if err := r.m.Pause("payment", r.now); err != nil {
		t.Fatal(err)
	}
	phone.mu.Lock()
	defer phone.mu.Unlock()
	if want := []string{"1001-tag", "1001-tag"}; !slices.Equal(phone.tags, want) {
		t.Fatalf("the commands named the officer's tag as %q, want %q", phone.tags, want)
	}
}

func TestThePhoneSystemRecordsWhatThePolicySays(t *testing.T) {
	t.Run("inbound: recorded on answer, paused and resumed on the dialog's call-id", func(t *testing.T) {
		r, phone := newPhoneRig(t, policy.RecordAtPhoneSystem)
		r.call(CallRinging, "d1", DirectionInbound, "07700900001")
		if got := phone.log(); len(got) != 0 {
			t.Fatalf("commands while ringing: %v", got)
		}
		r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
		r.wantState(StateRecording, "")
		if err := r.m.Pause("payment", r.now); err != nil {
			t.Fatal(err)
		}
		r.wantState(StatePaused, "payment")
		if err := r.m.Pause("health", r.now); err != nil { // a new reason: no command
			t.Fatal(err)
		}
		if err := r.m.Resume(r.now); err != nil {
			t.Fatal(err)
		}
		r.wantState(StateRecording, "")
		r.call(CallEnded, "d1", DirectionInbound, "07700900001")
		// The call's end stops the phone system's recording by itself: no
		// command, so a phone system that is down never delays the end.
		want := []string{"record sip-d1", "stop sip-d1", "record sip-d1"}
		if got := phone.log(); !slices.Equal(got, want) {
			t.Fatalf("commands %v, want %v", got, want)
		}
		if len(r.rec.recordings) != 0 {
			t.Fatalf("the desktop captured %d recordings in pbx mode", len(r.rec.recordings))
		}
	})
	t.Run("outbound: nothing before the notice, nothing when the caller objected", func(t *testing.T) {
		r, phone := newPhoneRig(t, policy.RecordAtPhoneSystem)
		r.call(CallAnswered, "d1", DirectionOutbound, "07700900001")
		r.wantState(StateAwaitingNotice, "")
		if got := phone.log(); len(got) != 0 {
			t.Fatalf("commands before the notice: %v", got)
		}
		if err := r.m.Notice(NoticeRead, r.now); err != nil {
			t.Fatal(err)
		}
		r.wantState(StateRecording, "")
		if err := r.m.Notice(NoticeObjected, r.now); err != nil {
			t.Fatal(err)
		}
		r.wantState(StateDeclined, "the caller objected to recording")
		if got, want := phone.log(), []string{"record sip-d1", "stop sip-d1"}; !slices.Equal(got, want) {
			t.Fatalf("commands %v, want %v", got, want)
		}

		r.call(CallAnswered, "d2", DirectionOutbound, "07700900002")
		if err := r.m.Notice(NoticeObjected, r.now); err != nil {
			t.Fatal(err)
		}
		for _, c := range phone.log() {
			if strings.HasSuffix(c, "sip-d2") {
				t.Fatalf("an objected call was sent %q", c)
			}
		}
	})
	t.Run("both: a pause closes the desktop's gate and the phone system's recording", func(t *testing.T) {
		r, phone := newPhoneRig(t, policy.RecordAtBoth)
		r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
		if err := r.m.Pause("payment", r.now); err != nil {
			t.Fatal(err)
		}
		r.wantState(StatePaused, "payment")
		if d := r.rec.live("07700900001"); d == nil || d.open {
			t.Fatal("the desktop's gate is open during the pause")
		}
		if got := phone.log(); !slices.Equal(got, []string{"record sip-d1", "stop sip-d1"}) {
			t.Fatalf("commands %v", got)
		}
	})
	t.Run("a call without a call-id cannot be controlled: failed, never recording", func(t *testing.T) {
		r, phone := newPhoneRig(t, policy.RecordAtPhoneSystem)
		r.m.HandleCall(CallEvent{Kind: CallAnswered, DialogID: "d9", Direction: DirectionInbound, At: r.now}, r.now)
		if s, _ := r.state(); s != StateFailed {
			t.Fatalf("state %s, want failed", s)
		}
		if got := phone.log(); len(got) != 0 {
			t.Fatalf("commands %v", got)
		}
	})
}

// The fail-safe: a pause the phone system does not confirm is never shown
// as paused, the officer is told in words within the confirmation time,
// and the recording state says what callguard knows.
func TestAnUnconfirmedPauseIsAnAlarmNeverPaused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		where  string
		break_ func(*fakePhone)
	}{
		{"the phone system does not answer", policy.RecordAtPhoneSystem, func(f *fakePhone) { f.silent = true }},
		{"the phone system refuses", policy.RecordAtPhoneSystem, func(f *fakePhone) { f.refuse = errors.New("Unknown call-id") }},
		{"the phone system does not answer, the desktop records too", policy.RecordAtBoth, func(f *fakePhone) { f.silent = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, phone := newPhoneRig(t, tc.where)
			r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
			r.wantState(StateRecording, "")
			phone.mu.Lock()
			tc.break_(phone)
			phone.mu.Unlock()
			start := time.Now()
			if err := r.m.Pause("payment", r.now); !errors.Is(err, ErrUnconfirmed) {
				t.Fatalf("pause: %v, want ErrUnconfirmed", err)
			}
			took := time.Since(start)
			s := r.m.Snapshot(r.now)
			if s.State != StateUnconfirmed || !strings.Contains(s.Reason, "did not confirm the pause") {
				t.Fatalf("state %s/%q, want unconfirmed", s.State, s.Reason)
			}
			if took > confirmWithin+30*time.Millisecond {
				t.Fatalf("the alarm came after %v, more than the confirmation time %v", took, confirmWithin)
			}
			var told bool
			for _, n := range r.note.sent {
				told = told || strings.Contains(n.Body, UnconfirmedText)
			}
			if !told {
				t.Fatalf("the officer was not told %q: %+v", UnconfirmedText, r.note.sent)
			}
			if tc.where == policy.RecordAtBoth {
				if d := r.rec.recordings[0]; d.open && !d.stopped {
					t.Fatal("the desktop still records while the phone system is in doubt")
				}
			}
			// Resuming, pausing again or declining never makes it claim more.
			_ = r.m.Resume(r.now)
			_ = r.m.Pause("payment", r.now)
			_ = r.m.Notice(NoticeObjected, r.now)
			if s, _ := r.state(); s != StateUnconfirmed {
				t.Fatalf("after more intents the state is %s", s)
			}
			var states []string
			for _, e := range r.sink.events {
				if e.Type == EventRecordingState {
					states = append(states, e.State)
				}
			}
			if slices.Contains(states, StatePaused.String()) || states[len(states)-1] != StateUnconfirmed.String() {
				t.Fatalf("recording.state events %v", states)
			}
		})
	}
}
