package app

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/policy"
)

// up brings the phone-system link up, as the subscriber does on start.
func up(r *rig) { r.link(LinkUp, "") }

func TestMachineTransitions(t *testing.T) {
	errBoom := errors.New("device unplugged")
	tests := []struct {
		name       string
		policy     func(*policy.Policy)
		manual     bool
		run        func(r *rig) error // the last intent's error, if any
		wantErr    error
		wantState  RecordingState
		wantReason string
		wantOps    []string
		wantEvents []string
	}{
		{
			name:      "phone-system mode starts unknown until the phone system is heard",
			run:       func(r *rig) error { return nil },
			wantState: StateUnknown, wantReason: "connecting to the phone system",
		},
		{
			name:      "link up with no call is idle",
			run:       func(r *rig) error { up(r); return nil },
			wantState: StateIdle, wantEvents: []string{"link:up"},
		},
		{
			name: "inbound call rings without recording",
			run: func(r *rig) error {
				up(r)
				r.call(CallRinging, "d1", DirectionInbound, "07700900001")
				return nil
			},
			wantState:  StateRinging,
			wantEvents: []string{"link:up", "call.ringing"},
		},
		{
			name: "inbound call answered records at once",
			run: func(r *rig) error {
				up(r)
				r.call(CallRinging, "d1", DirectionInbound, "07700900001")
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				return nil
			},
			wantState:  StateRecording,
			wantOps:    []string{`start 07700900001 paused=""`},
			wantEvents: []string{"link:up", "call.ringing", "call.answered", "recording.state:recording"},
		},
		{
			name: "inbound call hung up while ringing is never recorded",
			run: func(r *rig) error {
				up(r)
				r.call(CallRinging, "d1", DirectionInbound, "07700900001")
				r.call(CallEnded, "d1", DirectionInbound, "07700900001")
				return nil
			},
			wantState:  StateIdle,
			wantEvents: []string{"link:up", "call.ringing", "call.ended"},
		},
		{
			name: "outbound call answered waits for the notice",
			run: func(r *rig) error {
				up(r)
				r.call(CallRinging, "d1", DirectionOutbound, "07700900002")
				r.call(CallAnswered, "d1", DirectionOutbound, "07700900002")
				return nil
			},
			wantState:  StateAwaitingNotice,
			wantEvents: []string{"link:up", "call.ringing", "call.answered", "recording.state:awaiting-notice"},
		},
		{
			name: "notice read starts the outbound recording",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionOutbound, "07700900002")
				return r.m.Notice(NoticeRead, r.now)
			},
			wantState: StateRecording,
			wantOps:   []string{`start 07700900002 paused=""`},
			wantEvents: []string{"link:up", "call.ringing", "call.answered", "recording.state:awaiting-notice",
				"notice:read", "recording.state:recording"},
		},
		{
			name: "caller objected to the notice: declined and nothing recorded",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionOutbound, "07700900002")
				return r.m.Notice(NoticeObjected, r.now)
			},
			wantState:  StateDeclined,
			wantReason: "the caller objected to recording",
			wantEvents: []string{"link:up", "call.ringing", "call.answered", "recording.state:awaiting-notice",
				"notice:objected", "recording.state:declined/the caller objected to recording"},
		},
		{
			name: "inbound caller asks not to be recorded mid-call: recording stops",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				return r.m.Notice(NoticeObjected, r.now)
			},
			wantState:  StateDeclined,
			wantReason: "the caller objected to recording",
			wantOps:    []string{`start 07700900001 paused=""`, "stop 07700900001 notice=objected"},
		},
		{
			name: "pause after the caller declined is refused",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.m.Notice(NoticeObjected, r.now)
				return r.m.Pause("payment", r.now)
			},
			wantErr:   ErrNotRecordable,
			wantState: StateDeclined, wantReason: "the caller objected to recording",
			wantOps: []string{`start 07700900001 paused=""`, "stop 07700900001 notice=objected"},
		},
		{
			name: "notice read on an inbound call is refused",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				return r.m.Notice(NoticeRead, r.now)
			},
			wantErr:   ErrNoNoticeWanted,
			wantState: StateRecording,
			wantOps:   []string{`start 07700900001 paused=""`},
		},
		{
			name: "notice read before the outbound call is answered is refused",
			run: func(r *rig) error {
				up(r)
				r.call(CallRinging, "d1", DirectionOutbound, "07700900002")
				return r.m.Notice(NoticeRead, r.now)
			},
			wantErr:   ErrNoNoticeWanted,
			wantState: StateRinging,
		},
		{
			name:   "outbound call records at once when the policy does not wait for the notice",
			policy: func(p *policy.Policy) { p.Record.OutboundWaitsForNotice = false },
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionOutbound, "07700900002")
				return nil
			},
			wantState: StateRecording,
			wantOps:   []string{`start 07700900002 paused=""`},
		},
		{
			name: "a call of unknown direction waits for the notice like an outbound one",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionUnknown, "07700900003")
				return nil
			},
			wantState: StateAwaitingNotice,
		},
		{
			name: "pause before answer keeps the call silent from its first sample",
			run: func(r *rig) error {
				up(r)
				r.call(CallRinging, "d1", DirectionInbound, "07700900001")
				if err := r.m.Pause("payment", r.now); err != nil {
					return err
				}
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				return nil
			},
			wantState: StatePaused, wantReason: "payment",
			wantOps: []string{`start 07700900001 paused="payment"`},
		},
		{
			name: "pause while awaiting the notice holds the recording closed after the notice",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionOutbound, "07700900002")
				r.m.Pause("health", r.now)
				return r.m.Notice(NoticeRead, r.now)
			},
			wantState: StatePaused, wantReason: "health",
			wantOps: []string{`start 07700900002 paused="health"`},
		},
		{
			name: "resume while still awaiting the notice goes back to awaiting it",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionOutbound, "07700900002")
				r.m.Pause("health", r.now)
				return r.m.Resume(r.now)
			},
			wantState: StateAwaitingNotice,
		},
		{
			name: "pause then resume",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.m.Pause("payment", r.now)
				return r.m.Resume(r.now)
			},
			wantState: StateRecording,
			wantOps:   []string{`start 07700900001 paused=""`, "pause 07700900001 payment", "resume 07700900001"},
			wantEvents: []string{"link:up", "call.ringing", "call.answered", "recording.state:recording",
				"recording.state:paused/payment", "recording.state:recording"},
		},
		{
			name: "pause reasons switched while paused never open the gate",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.m.Pause("payment", r.now)
				return r.m.Pause("health", r.now)
			},
			wantState: StatePaused, wantReason: "health",
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 payment", "pause 07700900001 health"},
		},
		{
			name: "the same pause twice is one pause",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.m.Pause("payment", r.now)
				return r.m.Pause("payment", r.now)
			},
			wantState: StatePaused, wantReason: "payment",
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 payment"},
		},
		{
			name: "call ends while paused: the pause ends with it",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.m.Pause("payment", r.now)
				r.call(CallEnded, "d1", DirectionInbound, "07700900001")
				r.call(CallAnswered, "d2", DirectionInbound, "07700900009")
				return nil
			},
			wantState: StateRecording,
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 payment",
				"stop 07700900001 notice=announced", `start 07700900009 paused=""`},
		},
		{
			name: "pause with no call is refused",
			run: func(r *rig) error {
				up(r)
				return r.m.Pause("payment", r.now)
			},
			wantErr:   ErrNoCall,
			wantState: StateIdle,
		},
		{
			name: "pause for a reason the policy does not know is refused",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				return r.m.Pause("lunch", r.now)
			},
			wantErr:   ErrUnknownReason,
			wantState: StateRecording,
			wantOps:   []string{`start 07700900001 paused=""`},
		},
		{
			name: "the hold reason is not an officer's pause reason",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				return r.m.Pause(policy.HoldReason, r.now)
			},
			wantErr:   ErrUnknownReason,
			wantState: StateRecording,
			wantOps:   []string{`start 07700900001 paused=""`},
		},
		{
			name: "resume when not paused is refused",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				return r.m.Resume(r.now)
			},
			wantErr:   ErrNotPaused,
			wantState: StateRecording,
			wantOps:   []string{`start 07700900001 paused=""`},
		},
		{
			name: "second call while the first is on hold",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.call(CallRinging, "d2", DirectionInbound, "07700900002")
				r.call(CallHeld, "d1", DirectionInbound, "07700900001")
				r.call(CallAnswered, "d2", DirectionInbound, "07700900002")
				return nil
			},
			wantState: StateRecording,
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 hold",
				`start 07700900002 paused=""`},
		},
		{
			name: "a second call connected without the phone system's hold waits and leaves the recording alone",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.call(CallRinging, "d2", DirectionInbound, "07700900002")
				r.call(CallAnswered, "d2", DirectionInbound, "07700900002")
				return nil
			},
			wantState: StateRecording,
			wantOps:   []string{`start 07700900001 paused=""`},
		},
		{
			name: "a waiting second call is recorded once the phone system holds the first",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.call(CallAnswered, "d2", DirectionInbound, "07700900002")
				r.call(CallHeld, "d1", DirectionInbound, "07700900001")
				return nil
			},
			wantState: StateRecording,
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 hold",
				`start 07700900002 paused=""`},
		},
		{
			name: "a waiting second call is recorded once the first ends",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.call(CallAnswered, "d2", DirectionInbound, "07700900002")
				r.call(CallEnded, "d1", DirectionInbound, "07700900001")
				return nil
			},
			wantState: StateRecording,
			wantOps: []string{`start 07700900001 paused=""`, "stop 07700900001 notice=announced",
				`start 07700900002 paused=""`},
		},
		{
			name: "the held call resumes when the phone system says so",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.call(CallHeld, "d1", DirectionInbound, "07700900001")
				r.call(CallAnswered, "d2", DirectionInbound, "07700900002")
				r.call(CallEnded, "d2", DirectionInbound, "07700900002")
				r.call(CallResumed, "d1", DirectionInbound, "07700900001")
				return nil
			},
			wantState: StateRecording,
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 hold",
				`start 07700900002 paused=""`, "stop 07700900002 notice=announced", "resume 07700900001"},
		},
		{
			name: "a call resumed while the second is on the line waits until that one is held",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.call(CallHeld, "d1", DirectionInbound, "07700900001")
				r.call(CallAnswered, "d2", DirectionInbound, "07700900002")
				r.call(CallResumed, "d1", DirectionInbound, "07700900001")
				r.call(CallHeld, "d2", DirectionInbound, "07700900002")
				return nil
			},
			wantState: StateRecording,
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 hold",
				`start 07700900002 paused=""`, "pause 07700900002 hold", "resume 07700900001"},
		},
		{
			name: "the held call stays held when the second call ends without a resume",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.call(CallHeld, "d1", DirectionInbound, "07700900001")
				r.call(CallAnswered, "d2", DirectionInbound, "07700900002")
				r.call(CallEnded, "d2", DirectionInbound, "07700900002")
				return nil
			},
			wantState: StatePaused, wantReason: "hold",
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 hold",
				`start 07700900002 paused=""`, "stop 07700900002 notice=announced"},
		},
		{
			name: "an officer's pause on the held call survives the hold",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.m.Pause("payment", r.now)
				r.call(CallHeld, "d1", DirectionInbound, "07700900001")
				r.call(CallAnswered, "d2", DirectionInbound, "07700900002")
				r.call(CallEnded, "d2", DirectionInbound, "07700900002")
				r.call(CallResumed, "d1", DirectionInbound, "07700900001")
				return nil
			},
			wantState: StatePaused, wantReason: "payment",
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 payment",
				`start 07700900002 paused=""`, "stop 07700900002 notice=announced"},
		},
		{
			name: "a call waiting that rings does not take the focus",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.call(CallRinging, "d2", DirectionInbound, "07700900002")
				return r.m.Pause("payment", r.now)
			},
			wantState: StatePaused, wantReason: "payment",
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 payment"},
		},
		{
			name: "phone-system link lost during a pause shows unknown and keeps the pause",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.m.Pause("payment", r.now)
				r.link(LinkLost, "subscription timed out")
				return nil
			},
			wantState: StateUnknown, wantReason: "subscription timed out",
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 payment"},
		},
		{
			name: "link back after a loss shows the real state again",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.m.Pause("payment", r.now)
				r.link(LinkLost, "transport error")
				r.link(LinkUp, "")
				return nil
			},
			wantState: StatePaused, wantReason: "payment",
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 payment"},
		},
		{
			name: "a pause asked for while the link is lost still closes the gate",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.link(LinkLost, "481")
				return r.m.Pause("payment", r.now)
			},
			wantState: StateUnknown, wantReason: "481",
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 payment"},
		},
		{
			name: "recorder failure while recording shows failed and notifies",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.rec.fail("07700900001", errBoom)
				return nil
			},
			wantState: StateFailed, wantReason: "device unplugged",
			wantOps: []string{`start 07700900001 paused=""`},
		},
		{
			name: "recorder that cannot start shows failed",
			run: func(r *rig) error {
				up(r)
				r.rec.failStart = errBoom
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				return nil
			},
			wantState: StateFailed, wantReason: "start recording: device unplugged",
			wantOps: []string{`start 07700900001 paused=""`},
		},
		{
			name: "a gate that cannot close stops the recording: failed, never recording",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				r.rec.failPause = errBoom
				return r.m.Pause("payment", r.now)
			},
			wantState: StateFailed, wantReason: "pause recording: device unplugged",
			wantOps: []string{`start 07700900001 paused=""`, "pause 07700900001 payment",
				"stop 07700900001 notice=announced"},
		},
		{
			name: "a never-record rule excludes the call",
			policy: func(p *policy.Policy) {
				p.NeverRecord = []policy.Rule{{Field: "remote", Pattern: "0800 123*", Reason: "therapist search line"}}
			},
			run: func(r *rig) error {
				up(r)
				r.call(CallRinging, "d1", DirectionInbound, "08001234567")
				r.call(CallAnswered, "d1", DirectionInbound, "08001234567")
				return nil
			},
			wantState: StateExcluded, wantReason: "therapist search line",
			wantEvents: []string{"link:up", "call.ringing", "recording.state:excluded/therapist search line", "call.answered"},
		},
		{
			name:   "an inbound-only policy excludes outbound calls",
			policy: func(p *policy.Policy) { p.Record.Outbound = false },
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionOutbound, "07700900002")
				return nil
			},
			wantState: StateExcluded, wantReason: "outbound calls are not recorded",
		},
		{
			name: "pausing an excluded call is refused",
			policy: func(p *policy.Policy) {
				p.NeverRecord = []policy.Rule{{Field: "local", Pattern: "1001", Reason: "not recorded"}}
			},
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				return r.m.Pause("payment", r.now)
			},
			wantErr:   ErrNotRecordable,
			wantState: StateExcluded, wantReason: "not recorded",
		},
		{
			name: "a call first heard as connected (callguard started mid-call) is recorded from then",
			run: func(r *rig) error {
				up(r)
				r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
				return nil
			},
			wantState:  StateRecording,
			wantOps:    []string{`start 07700900001 paused=""`},
			wantEvents: []string{"link:up", "call.ringing", "call.answered", "recording.state:recording"},
		},
		{
			name:   "manual mode: start and end a call by hand",
			manual: true,
			run: func(r *rig) error {
				if _, err := r.m.StartManual(DirectionInbound, Party{Number: "07700900005"}, r.now); err != nil {
					return err
				}
				return r.m.EndManual(r.now)
			},
			wantState: StateIdle,
			wantOps:   []string{`start 07700900005 paused=""`, "stop 07700900005 notice=announced"},
		},
		{
			name:   "manual mode: a second manual call while one is live is refused",
			manual: true,
			run: func(r *rig) error {
				r.m.StartManual(DirectionInbound, Party{Number: "07700900005"}, r.now)
				_, err := r.m.StartManual(DirectionInbound, Party{Number: "07700900006"}, r.now)
				return err
			},
			wantErr:   ErrCallInProgress,
			wantState: StateRecording,
			wantOps:   []string{`start 07700900005 paused=""`},
		},
		{
			name: "manual calls are refused when a phone system is configured",
			run: func(r *rig) error {
				up(r)
				_, err := r.m.StartManual(DirectionInbound, Party{Number: "07700900005"}, r.now)
				return err
			},
			wantErr:   ErrNotManual,
			wantState: StateIdle,
		},
		{
			name:   "manual mode never shows unknown",
			manual: true,
			run: func(r *rig) error {
				r.link(LinkLost, "should be ignored")
				return nil
			},
			wantState: StateIdle,
		},
		{
			name: "ending a call the core never heard of is ignored",
			run: func(r *rig) error {
				up(r)
				r.call(CallEnded, "nope", DirectionInbound, "07700900001")
				return nil
			},
			wantState: StateIdle, wantEvents: []string{"link:up"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := defaultPolicy(t)
			if tt.policy != nil {
				tt.policy(pol)
			}
			r := newRig(t, pol, tt.manual)
			err := tt.run(r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			r.wantState(tt.wantState, tt.wantReason)
			if !reflect.DeepEqual(r.rec.ops, tt.wantOps) {
				t.Errorf("recorder ops:\n got %q\nwant %q", r.rec.ops, tt.wantOps)
			}
			if tt.wantEvents != nil && !reflect.DeepEqual(r.sink.types(), tt.wantEvents) {
				t.Errorf("events:\n got %q\nwant %q", r.sink.types(), tt.wantEvents)
			}
			checkInvariants(t, r)
		})
	}
}

// checkInvariants asserts what must hold after any input: the banner never
// claims a state the recorder is not in, and at most one call is heard.
func checkInvariants(t testing.TB, r *rig) {
	t.Helper()
	s := r.m.Snapshot(r.now)
	if n := r.rec.openGates(); n > 1 {
		t.Fatalf("%d recordings have an open gate; at most one call is live", n)
	}
	for _, c := range s.Calls {
		live := r.rec.live(c.Remote.Number)
		open := live != nil && live.open
		if (c.State == StateRecording) != open {
			t.Fatalf("call %s shows %s but its gate open=%v (recording=%v)", c.Remote.Number, c.State, open, live != nil)
		}
		if c.State == StatePaused && live != nil && live.open {
			t.Fatalf("call %s shows paused but audio reaches disk", c.Remote.Number)
		}
	}
	for _, rec := range r.rec.recordings {
		ended := true
		for _, c := range s.Calls {
			if c.Remote.Number == rec.call.Remote.Number {
				ended = false
			}
		}
		if ended && !rec.stopped {
			t.Fatalf("recording of %s outlived its call", rec.call.Remote.Number)
		}
	}
	if s.State == StateRecording && (s.Call == nil || r.rec.live(s.Call.Remote.Number) == nil) {
		t.Fatal("banner says recording with no live recording")
	}
	for _, c := range s.Calls {
		if c.Keying && c.State != StateRecording {
			t.Fatalf("call %s asks to pause for card details while %s", c.Remote.Number, c.State)
		}
	}
	if s.State == StateUnknown && s.Link != LinkDown {
		t.Fatalf("unknown shown while the link is %s", s.Link)
	}
	for _, e := range r.sink.events {
		if e.ID == "" || e.Agent == "" || e.Time.IsZero() {
			t.Fatalf("event without id, agent or time: %+v", e)
		}
	}
}

func TestPauseReminderRepeatsAndTellsTheOfficer(t *testing.T) {
	r := newRig(t, defaultPolicy(t), false)
	up(r)
	r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
	if err := r.m.Pause("payment", r.now); err != nil { // remind_after 3m
		t.Fatal(err)
	}
	next, ok := r.m.NextDeadline()
	if !ok || next.Sub(r.now) != 3*time.Minute {
		t.Fatalf("next deadline in %v (ok=%v), want 3m", next.Sub(r.now), ok)
	}
	r.advance(2*time.Minute + 59*time.Second)
	if len(r.note.sent) != 0 || r.m.Snapshot(r.now).PauseOverdue {
		t.Fatal("reminded before remind_after")
	}
	r.advance(time.Second)
	if got := r.note.kinds(); !reflect.DeepEqual(got, []NotificationKind{NotifyPauseLong}) {
		t.Fatalf("notifications = %v, want one pause reminder", got)
	}
	if !r.m.Snapshot(r.now).PauseOverdue {
		t.Fatal("snapshot does not say the pause is overdue")
	}
	r.advance(time.Second) // nothing new within the same period
	if len(r.note.sent) != 1 {
		t.Fatalf("%d notifications, want still 1", len(r.note.sent))
	}
	r.advance(3 * time.Minute)
	if len(r.note.sent) != 2 || r.note.sent[0].Key == r.note.sent[1].Key {
		t.Fatalf("second reminder missing or not distinct: %+v", r.note.sent)
	}
	r.wantState(StatePaused, "payment") // a reminder never resumes by itself
	r.m.Resume(r.now)
	if _, ok := r.m.NextDeadline(); ok {
		t.Fatal("a deadline is left after resume")
	}
}

func TestAutoResumeOnlyWhenThePolicySaysSo(t *testing.T) {
	pol := defaultPolicy(t)
	pol.PauseReason("payment").AutoResumeAfter = policy.Duration(90 * time.Second)
	r := newRig(t, pol, false)
	up(r)
	r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
	r.m.Pause("payment", r.now)
	r.advance(89 * time.Second)
	r.wantState(StatePaused, "payment")
	r.advance(time.Second)
	r.wantState(StateRecording, "")
	checkInvariants(t, r)

	r.m.Pause("health", r.now) // no auto_resume_after
	r.advance(time.Hour)
	r.wantState(StatePaused, "health")
}

func TestFlagForDeletion(t *testing.T) {
	ms := func(v int64) *int64 { return &v }
	t.Run("card details flag marks the time since the last resume", func(t *testing.T) {
		r := newRig(t, defaultPolicy(t), false)
		up(r)
		r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
		r.now = r.now.Add(10 * time.Second)
		r.m.Pause("payment", r.now)
		r.now = r.now.Add(20 * time.Second)
		r.m.Resume(r.now)
		r.now = r.now.Add(15 * time.Second)
		if err := r.m.Flag(FlagRequest{Reason: "card", Note: "read the card number before I paused"}, r.now); err != nil {
			t.Fatal(err)
		}
		e := r.sink.events[len(r.sink.events)-1]
		if e.Type != EventFlag || e.Reason != "card" || e.FromMS == nil || *e.FromMS != 30000 || *e.ToMS != 45000 {
			t.Fatalf("flag event = %+v (from %v to %v), want card 30000–45000 ms", e, deref(e.FromMS), deref(e.ToMS))
		}
	})
	t.Run("health flag covers the whole recording unless told", func(t *testing.T) {
		r := newRig(t, defaultPolicy(t), false)
		up(r)
		r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
		r.now = r.now.Add(time.Minute)
		r.m.Flag(FlagRequest{Reason: "health"}, r.now)
		if e := r.sink.events[len(r.sink.events)-1]; e.FromMS != nil || e.ToMS != nil {
			t.Fatalf("interval set on a whole-call flag: %v–%v", deref(e.FromMS), deref(e.ToMS))
		}
	})
	t.Run("a call can be flagged after it ended, by id", func(t *testing.T) {
		r := newRig(t, defaultPolicy(t), false)
		up(r)
		r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
		r.now = r.now.Add(time.Minute)
		r.call(CallEnded, "d1", DirectionInbound, "07700900001")
		id := r.m.Snapshot(r.now).Recent[0].ID
		r.now = r.now.Add(time.Hour)
		if err := r.m.Flag(FlagRequest{CallID: id, Reason: "card"}, r.now); err != nil {
			t.Fatal(err)
		}
		e := r.sink.events[len(r.sink.events)-1]
		if e.CallID != id || *e.FromMS != 0 || *e.ToMS != 60000 {
			t.Fatalf("flag after end = call %s %v–%v, want %s 0–60000", e.CallID, deref(e.FromMS), deref(e.ToMS), id)
		}
		if got := r.m.Snapshot(r.now).Recent[0].Flags; len(got) != 1 || got[0].Reason != "card" {
			t.Fatalf("recent call flags = %+v", got)
		}
	})
	t.Run("only the last ten calls can be flagged", func(t *testing.T) {
		r := newRig(t, defaultPolicy(t), false)
		up(r)
		var first string
		for i := range RecentCalls + 1 {
			d := "d" + string(rune('a'+i))
			r.call(CallAnswered, d, DirectionInbound, "0770090000"+string(rune('0'+i%10)))
			r.call(CallEnded, d, DirectionInbound, "")
			if i == 0 {
				first = r.m.Snapshot(r.now).Recent[0].ID
			}
		}
		if n := len(r.m.Snapshot(r.now).Recent); n != RecentCalls {
			t.Fatalf("%d recent calls listed, want %d", n, RecentCalls)
		}
		if err := r.m.Flag(FlagRequest{CallID: first, Reason: "health"}, r.now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("flag of the 11th call back = %v, want ErrNotFound", err)
		}
	})
	bad := []struct {
		name string
		req  FlagRequest
		want error
	}{
		{"unknown reason", FlagRequest{Reason: "gossip"}, ErrUnknownReason},
		{"half an interval", FlagRequest{Reason: "health", FromMS: ms(5)}, ErrBadRequest},
		{"interval backwards", FlagRequest{Reason: "health", FromMS: ms(5000), ToMS: ms(10)}, ErrBadRequest},
		{"interval past the end", FlagRequest{Reason: "health", FromMS: ms(99_000), ToMS: ms(100_000)}, ErrBadRequest},
		{"note too long", FlagRequest{Reason: "health", Note: strings.Repeat("x", MaxNoteLength+1)}, ErrBadRequest},
	}
	for _, tt := range bad {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			r := newRig(t, defaultPolicy(t), false)
			up(r)
			r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
			r.now = r.now.Add(10 * time.Second)
			if err := r.m.Flag(tt.req, r.now); !errors.Is(err, tt.want) {
				t.Fatalf("Flag = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("no call at all", func(t *testing.T) {
		r := newRig(t, defaultPolicy(t), false)
		up(r)
		if err := r.m.Flag(FlagRequest{Reason: "health"}, r.now); !errors.Is(err, ErrNoCall) {
			t.Fatalf("Flag = %v, want ErrNoCall", err)
		}
	})
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestNotificationsForUnknownAndFailed(t *testing.T) {
	r := newRig(t, defaultPolicy(t), false)
	up(r)
	r.call(CallAnswered, "d1", DirectionOutbound, "07700900002")
	r.m.Notice(NoticeRead, r.now)
	r.link(LinkLost, "timeout")
	r.link(LinkLost, "timeout") // still lost: same situation
	r.link(LinkUp, "")
	r.rec.fail("07700900002", errors.New("disk full"))
	want := []NotificationKind{NotifyRecordingStarted, NotifyStateUnknown, NotifyStateUnknown, NotifyRecordingFailed}
	if got := r.note.kinds(); !reflect.DeepEqual(got, want) {
		t.Fatalf("notifications = %v, want %v", got, want)
	}
	if r.note.sent[1].Key != r.note.sent[2].Key {
		t.Fatal("the same loss of link must carry the same key so it is shown once")
	}
}

func TestEventsHaveUniqueIDsInOrder(t *testing.T) {
	r := newRig(t, defaultPolicy(t), false)
	up(r)
	for i := range 20 {
		d := string(rune('a' + i))
		r.call(CallAnswered, d, DirectionInbound, "07700900001")
		r.m.Pause("payment", r.now)
		r.now = r.now.Add(time.Second)
		r.m.Resume(r.now)
		r.call(CallEnded, d, DirectionInbound, "07700900001")
	}
	seen := map[string]bool{}
	var last time.Time
	for _, e := range r.sink.events {
		if seen[e.ID] {
			t.Fatalf("event id %s used twice", e.ID)
		}
		seen[e.ID] = true
		if e.Time.Before(last) {
			t.Fatal("events out of time order")
		}
		last = e.Time
	}
}

func TestOutboxFailureDoesNotChangeTheOfficersState(t *testing.T) {
	r := newRig(t, defaultPolicy(t), false)
	r.sink.fail = errors.New("disk full")
	up(r)
	r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
	if err := r.m.Pause("payment", r.now); err != nil {
		t.Fatal(err)
	}
	r.wantState(StatePaused, "payment")
}

// TestEveryInputSequenceKeepsTheInvariants drives the machine through every
// sequence of inputs up to a depth, checking after each step that the state
// shown matches the recorder and no recording outlives its call.
func TestEveryInputSequenceKeepsTheInvariants(t *testing.T) {
	inputs := []input{
		{"ring d1 in", func(r *rig) { r.call(CallRinging, "d1", DirectionInbound, "07700900001") }},
		{"answer d1 in", func(r *rig) { r.call(CallAnswered, "d1", DirectionInbound, "07700900001") }},
		{"end d1", func(r *rig) { r.call(CallEnded, "d1", DirectionInbound, "07700900001") }},
		{"answer d2 out", func(r *rig) { r.call(CallAnswered, "d2", DirectionOutbound, "07700900002") }},
		{"end d2", func(r *rig) { r.call(CallEnded, "d2", DirectionOutbound, "07700900002") }},
		{"pause payment", func(r *rig) { r.m.Pause("payment", r.now) }},
		{"pause health", func(r *rig) { r.m.Pause("health", r.now) }},
		{"resume", func(r *rig) { r.m.Resume(r.now) }},
		{"notice read", func(r *rig) { r.m.Notice(NoticeRead, r.now) }},
		{"objected", func(r *rig) { r.m.Notice(NoticeObjected, r.now) }},
		{"link lost", func(r *rig) { r.link(LinkLost, "x") }},
		{"link up", func(r *rig) { r.link(LinkUp, "") }},
		{"recorder fails", func(r *rig) {
			for _, rec := range r.rec.recordings {
				if !rec.stopped {
					rec.stopped = true
					rec.onFail(errors.New("lost"))
					return
				}
			}
		}},
		{"4 minutes pass", func(r *rig) { r.advance(4 * time.Minute) }},
	}
	depth := 5
	if testing.Short() || raceEnabled {
		depth = 4
	}
	walkInputs(t, inputs, depth)
}

// The same invariants with the phone system's hold and a second call in
// every order: never two calls on the line, never a hold it did not report.
func TestHoldSequencesKeepTheInvariants(t *testing.T) {
	inputs := []input{
		{"ring d1 in", func(r *rig) { r.call(CallRinging, "d1", DirectionInbound, "07700900001") }},
		{"answer d1 in", func(r *rig) { r.call(CallAnswered, "d1", DirectionInbound, "07700900001") }},
		{"end d1", func(r *rig) { r.call(CallEnded, "d1", DirectionInbound, "07700900001") }},
		{"answer d2 out", func(r *rig) { r.call(CallAnswered, "d2", DirectionOutbound, "07700900002") }},
		{"end d2", func(r *rig) { r.call(CallEnded, "d2", DirectionOutbound, "07700900002") }},
		{"phone system holds d1", func(r *rig) { r.call(CallHeld, "d1", DirectionInbound, "07700900001") }},
		{"phone system resumes d1", func(r *rig) { r.call(CallResumed, "d1", DirectionInbound, "07700900001") }},
		{"phone system holds d2", func(r *rig) { r.call(CallHeld, "d2", DirectionOutbound, "07700900002") }},
		{"phone system resumes d2", func(r *rig) { r.call(CallResumed, "d2", DirectionOutbound, "07700900002") }},
		{"notice read", func(r *rig) { r.m.Notice(NoticeRead, r.now) }},
		{"pause payment", func(r *rig) { r.m.Pause("payment", r.now) }},
		{"resume", func(r *rig) { r.m.Resume(r.now) }},
	}
	depth := 5
	if testing.Short() || raceEnabled {
		depth = 4
	}
	walkInputs(t, inputs, depth)
}

// walkInputs applies every sequence of inputs up to depth to a fresh
// machine and checks the invariants after each step.
func walkInputs(t *testing.T, inputs []input, depth int) {
	walkInputsWith(t, defaultPolicy(t), inputs, depth)
}

func walkInputsWith(t *testing.T, pol *policy.Policy, inputs []input, depth int) {
	var seqs int
	var walk func(prefix []int)
	walk = func(prefix []int) {
		if len(prefix) == depth {
			return
		}
		for i := range inputs {
			seq := append(append([]int(nil), prefix...), i)
			r := newRig(t, pol, false)
			up(r)
			for step, j := range seq {
				inputs[j].do(r)
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("panic after %v: %v", names(inputs, seq[:step+1]), p)
						}
					}()
					checkInvariantsOrReport(t, r, func() string { return names(inputs, seq[:step+1]) })
				}()
			}
			seqs++
			walk(seq)
		}
	}
	walk(nil)
	t.Logf("checked %d input sequences up to depth %d", seqs, depth)
}

type input struct {
	name string
	do   func(r *rig)
}

func names(inputs []input, seq []int) string {
	var s []string
	for _, i := range seq {
		s = append(s, inputs[i].name)
	}
	return strings.Join(s, " → ")
}

func checkInvariantsOrReport(t *testing.T, r *rig, seq func() string) {
	t.Helper()
	rt := &reportingT{T: t}
	checkInvariants(rt, r)
	if rt.failed != "" {
		t.Fatalf("after %s: %s", seq(), rt.failed)
	}
}

// reportingT captures a failure message instead of stopping the test, so the
// sequence that caused it can be named.
type reportingT struct {
	*testing.T
	failed string
}

func (r *reportingT) Fatalf(format string, args ...any) {
	if r.failed == "" {
		r.failed = fmt.Sprintf(format, args...)
	}
}

func (r *reportingT) Fatal(args ...any) {
	if r.failed == "" {
		r.failed = fmt.Sprint(args...)
	}
}

// A second call connected while the first is recording shows as waiting;
// the banner stays on the first call, and no recording changes.
func TestSecondCallShowsWaiting(t *testing.T) {
	r := newRig(t, defaultPolicy(t), false)
	up(r)
	r.call(CallAnswered, "d1", DirectionInbound, "07700900001")
	r.call(CallAnswered, "d2", DirectionInbound, "07700900002")
	s := r.m.Snapshot(r.now)
	if s.State != StateRecording || s.Call == nil || s.Call.Remote.Number != "07700900001" {
		t.Fatalf("banner: %s on %+v, want recording on the first call", s.State, s.Call)
	}
	if len(s.Calls) != 2 || s.Calls[0].Waiting || !s.Calls[1].Waiting || s.Calls[1].Recorded {
		t.Fatalf("calls: %+v", s.Calls)
	}
	r.call(CallHeld, "d1", DirectionInbound, "07700900001")
	s = r.m.Snapshot(r.now)
	if s.Call == nil || s.Call.Remote.Number != "07700900002" || s.Calls[1].Waiting || !s.Calls[0].OnHold {
		t.Fatalf("after the hold: %+v", s)
	}
	if got := strings.Join(r.rec.ops, ","); got != `start 07700900001 paused="",pause 07700900001 hold,start 07700900002 paused=""` {
		t.Errorf("recorder ops %s", got)
	}
}
