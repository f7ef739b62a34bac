package sip

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
)

var testTime = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// describeEvent is the watcher's description without dialog labels.
func describeEvent(ev app.CallEvent) string {
	switch ev.Kind {
	case app.LinkLost, app.LinkUp:
		return ev.Kind.String()
	}
	s := fmt.Sprintf("%s %s %s %s", ev.Kind, ev.DialogID, ev.Direction, ev.Remote.Number)
	if ev.Reason != "" {
		s += " " + ev.Reason
	}
	return s
}

func describeAll(evs []app.CallEvent) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, describeEvent(ev))
	}
	return out
}

// Replaying the NOTIFY bodies Kamailio sent during one subscription
// (captured in testdata/kamailio) gives exactly one event per transition.
func TestTrackerReplaysKamailioSession(t *testing.T) {
	files, _ := filepath.Glob("testdata/kamailio/*.xml")
	tr := newTracker(discard)
	var got []string
	// The officer's tags, the local-tags of Kamailio's early NOTIFYs: the
	// SIPp phone's own on inbound calls, the officer's From tag on outbound.
	officerTags := map[string]string{
		"padi-6b03860f-34a6-1": "13493phone1", "padi-6b03860f-34a6-3": "13493phone3",
		"padi-6b03860f-34a7-1": "13493phone4", "padi-6b03860f-34a6-4": "394b1744c2d794cb",
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		info, err := ParseDialogInfo(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		r := tr.apply(info, testTime)
		if r.stale || r.gap {
			t.Errorf("%s: stale %v gap %v", f, r.stale, r.gap)
		}
		for _, ev := range r.events {
			got = append(got, filepath.Base(f)[:2]+" "+describeEvent(ev))
			// The officer's tag, which tells its packets in the phone
			// system's recording: Kamailio sends the tags only while the
			// dialog is early, and the answer must keep them.
			if ev.Kind == app.CallAnswered && ev.LocalTag != officerTags[ev.DialogID] {
				t.Errorf("%s: answered with the officer's tag %q, want %q", f, ev.LocalTag, officerTags[ev.DialogID])
			}
		}
	}
	want := []string{
		"02 ringing padi-6b03860f-34a6-1 inbound 3000",
		"03 answered padi-6b03860f-34a6-1 inbound 3000",
		"04 ended padi-6b03860f-34a6-1 inbound 3000",
		"05 ringing padi-6b03860f-34a6-2 inbound 3000",
		"06 ended padi-6b03860f-34a6-2 inbound 3000 missed",
		"07 ringing padi-6b03860f-34a6-3 inbound 3000",
		"08 answered padi-6b03860f-34a6-3 inbound 3000",
		"09 ringing padi-6b03860f-34a7-1 inbound 3001",
		"10 answered padi-6b03860f-34a7-1 inbound 3001",
		"11 ended padi-6b03860f-34a7-1 inbound 3001",
		"12 ended padi-6b03860f-34a6-3 inbound 3000",
		"13 ringing padi-6b03860f-34a6-4 outbound 2000",
		"15 answered padi-6b03860f-34a6-4 outbound 2000",
		"16 ended padi-6b03860f-34a6-4 outbound 2000",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(tr.dialogs) != 0 {
		t.Errorf("%d dialogs still tracked after all ended", len(tr.dialogs))
	}
}

// doc builds a dialog-info document: "id:state[:direction[:event]]" per dialog.
func doc(version uint64, full bool, dialogs ...string) *DialogInfo {
	info := &DialogInfo{Version: version, Full: full}
	for _, d := range dialogs {
		f := strings.Split(d, ":")
		dlg := Dialog{ID: f[0], CallID: "call-" + f[0], State: f[1], Direction: "recipient",
			Remote: Participant{Identity: "sip:07700900" + f[0] + "@pbx"}, Local: Participant{Identity: "sip:1001@pbx"}}
		if len(f) > 2 {
			dlg.Direction = f[2]
		}
		if len(f) > 3 {
			dlg.Event = f[3]
		}
		info.Dialogs = append(info.Dialogs, dlg)
	}
	return info
}

func withCallID(info *DialogInfo, callID string) *DialogInfo {
	for i := range info.Dialogs {
		info.Dialogs[i].CallID = callID
	}
	return info
}

func TestTracker(t *testing.T) {
	type step struct {
		info *DialogInfo
		want []string
		gap  bool
	}
	newSub := step{} // marks a new subscription
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"early, confirmed, terminated: one event each", []step{
			{info: doc(1, true, "1:trying"), want: []string{"ringing 1 inbound 077009001"}},
			{info: doc(2, true, "1:early"), want: []string{}},
			{info: doc(3, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(4, true, "1:terminated::remote-bye"), want: []string{"ended 1 inbound 077009001 remote-bye"}},
		}},
		{"a stale version is ignored", []step{
			{info: doc(5, true, "1:early"), want: []string{"ringing 1 inbound 077009001"}},
			{info: doc(7, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(6, true, "1:early"), want: []string{}},
			{info: doc(7, true), want: []string{}},
		}},
		{"a dialog first seen terminated was never reported", []step{
			{info: doc(1, true, "1:terminated"), want: []string{}},
		}},
		{"first seen confirmed is answered only", []step{
			{info: doc(1, true, "1:confirmed:initiator"), want: []string{"answered 1 outbound 077009001"}},
		}},
		{"unanswered endings", []step{
			{info: doc(1, true, "1:early", "2:early:initiator", "3:early"), want: []string{
				"ringing 1 inbound 077009001", "ringing 2 outbound 077009002", "ringing 3 inbound 077009003"}},
			{info: doc(2, true, "1:terminated", "2:terminated:initiator", "3:terminated::cancelled"), want: []string{
				"ended 1 inbound 077009001 missed", "ended 2 outbound 077009002 unanswered", "ended 3 inbound 077009003 cancelled"}},
		}},
		{"confirmed back to early is not news", []step{
			{info: doc(1, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(2, true, "1:early"), want: []string{}},
		}},
		{"partial updates only the dialogs it carries", []step{
			{info: doc(1, true, "1:confirmed", "2:early"), want: []string{"answered 1 inbound 077009001", "ringing 2 inbound 077009002"}},
			{info: doc(2, false, "2:confirmed"), want: []string{"answered 2 inbound 077009002"}},
			{info: doc(3, false, "1:terminated"), want: []string{"ended 1 inbound 077009001"}},
		}},
		{"a partial after a gap is applied and asks for the full state", []step{
			{info: doc(1, true, "1:early"), want: []string{"ringing 1 inbound 077009001"}},
			{info: doc(3, false, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}, gap: true},
		}},
		{"an id reused for another call ends the old one", []step{
			{info: doc(1, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: withCallID(doc(2, true, "1:early"), "other"), want: []string{"ended 1 inbound 077009001 gone", "ringing 1 inbound 077009001"}},
		}},
		{"two full states without a reported dialog end it", []step{
			{info: doc(1, true, "1:confirmed", "2:early"), want: []string{"answered 1 inbound 077009001", "ringing 2 inbound 077009002"}},
			{info: doc(2, true, "2:early"), want: []string{}},
			{info: doc(3, true, "2:early"), want: []string{"ended 1 inbound 077009001 gone"}},
		}},
		{"after a new subscription the full state is reconciled", []step{
			{info: doc(8, true, "1:confirmed", "2:early", "3:early"), want: []string{
				"answered 1 inbound 077009001", "ringing 2 inbound 077009002", "ringing 3 inbound 077009003"}},
			newSub,
			{info: doc(1, true, "3:confirmed", "4:early"), want: []string{
				"ended 1 inbound 077009001 gone", "ended 2 inbound 077009002 gone",
				"answered 3 inbound 077009003", "ringing 4 inbound 077009004"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(discard)
			for i, st := range tc.steps {
				if st.info == nil {
					tr.newSubscription()
					continue
				}
				r := tr.apply(st.info, testTime)
				if got := describeAll(r.events); !reflect.DeepEqual(got, st.want) {
					t.Errorf("step %d: got %q, want %q", i, got, st.want)
				}
				if r.gap != st.gap {
					t.Errorf("step %d: gap %v, want %v", i, r.gap, st.gap)
				}
			}
		})
	}
}

// An answered event keeps what the ringing one knew when the phone system
// sends less (Kamailio drops the tags and may drop the call-id).
func TestTrackerKeepsFacts(t *testing.T) {
	tr := newTracker(discard)
	early := doc(1, true, "1:early")
	tr.apply(early, testTime)
	confirmed := doc(2, true, "1:confirmed")
	confirmed.Dialogs[0].CallID = ""
	confirmed.Dialogs[0].Direction = ""
	confirmed.Dialogs[0].Remote = Participant{}
	r := tr.apply(confirmed, testTime.Add(time.Second))
	if len(r.events) != 1 {
		t.Fatalf("events %v", describeAll(r.events))
	}
	ev := r.events[0]
	if ev.CallID != "call-1" || ev.Direction != app.DirectionInbound || ev.Remote.Number != "077009001" || !ev.At.Equal(testTime.Add(time.Second)) {
		t.Errorf("answered event lost facts: %+v", ev)
	}
	if ev.Local.Number != "1001" || ev.Remote.URI != "sip:077009001@pbx" {
		t.Errorf("parties: %+v %+v", ev.Local, ev.Remote)
	}
}

var discard = slog.New(slog.DiscardHandler)

// TestTrackerRules covers the rules for entries the tracker cannot trust.
func TestTrackerRules(t *testing.T) {
	type step struct {
		info    *DialogInfo
		want    []string
		refresh bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a dialog listed twice in one document counts its most advanced entry", []step{
			{info: doc(1, true, "1:trying", "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(2, true, "1:confirmed", "1:trying"), want: []string{}},
			{info: doc(3, true, "1:terminated", "1:confirmed"), want: []string{"ended 1 inbound 077009001"}},
		}},
		{"terminated, confirmed, terminated (57, 58, 59) is one call", []step{
			{info: doc(56, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(57, true, "1:terminated"), want: []string{"ended 1 inbound 077009001"}},
			{info: doc(58, true, "1:confirmed"), want: []string{}},
			{info: doc(59, true, "1:terminated"), want: []string{}},
			{info: doc(60, true, "1:early"), want: []string{}},
		}},
		{"a stale confirmed under a new call-id for an ended id is ignored", []step{
			{info: doc(1, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(2, true, "1:terminated"), want: []string{"ended 1 inbound 077009001"}},
			{info: withCallID(doc(3, true, "1:confirmed"), "other"), want: []string{}},
		}},
		{"a new call on an ended id rings first and is tracked", []step{
			{info: doc(1, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(2, true, "1:terminated"), want: []string{"ended 1 inbound 077009001"}},
			{info: withCallID(doc(3, true, "1:early"), "other"), want: []string{"ringing 1 inbound 077009001"}},
			{info: withCallID(doc(4, true, "1:confirmed"), "other"), want: []string{"answered 1 inbound 077009001"}},
		}},
		{"an ended call-id under another dialog id is ignored", []step{
			{info: doc(1, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(2, true, "1:terminated"), want: []string{"ended 1 inbound 077009001"}},
			{info: withCallID(doc(3, true, "2:early"), "call-1"), want: []string{}},
		}},
		{"a dialog first seen terminated cannot start later", []step{
			{info: doc(1, true, "1:terminated"), want: []string{}},
			{info: doc(2, true, "1:confirmed"), want: []string{}},
		}},
		{"a state never goes backwards", []step{
			{info: doc(1, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(2, true, "1:trying"), want: []string{}},
			{info: doc(3, true, "1:confirmed"), want: []string{}},
		}},
		{"a dialog missing once is ended when it is gone from the next full state", []step{
			{info: doc(1, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(2, true), want: []string{}, refresh: true},
			{info: doc(3, true), want: []string{"ended 1 inbound 077009001 gone"}},
			{info: doc(4, true, "1:confirmed"), want: []string{}},
		}},
		{"a dialog missing once and back is the same call", []step{
			{info: doc(1, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(2, true), want: []string{}, refresh: true},
			{info: doc(3, true, "1:confirmed"), want: []string{}},
			{info: doc(4, true), want: []string{}, refresh: true},
		}},
		{"an out-of-order version asks for the full state", []step{
			{info: doc(5, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: doc(4, true, "1:trying"), want: []string{}, refresh: true},
			{info: doc(6, true, "1:confirmed"), want: []string{}},
		}},
		{"the phone system's hold on the local target", []step{
			{info: doc(1, true, "1:confirmed"), want: []string{"answered 1 inbound 077009001"}},
			{info: held(doc(2, true, "1:confirmed")), want: []string{"held 1 inbound 077009001"}},
			{info: held(doc(3, true, "1:confirmed")), want: []string{}},
			{info: doc(4, true, "1:confirmed"), want: []string{"resumed 1 inbound 077009001"}},
			{info: held(doc(5, true, "1:early")), want: []string{}},
		}},
		{"a call first seen held is answered and held", []step{
			{info: held(doc(1, true, "1:confirmed")), want: []string{"answered 1 inbound 077009001", "held 1 inbound 077009001"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(discard)
			for i, st := range tc.steps {
				r := tr.apply(st.info, testTime)
				if got := describeAll(r.events); !reflect.DeepEqual(got, st.want) {
					t.Errorf("step %d: got %q, want %q", i, got, st.want)
				}
				if r.refresh() != st.refresh {
					t.Errorf("step %d: refresh %v, want %v", i, r.refresh(), st.refresh)
				}
			}
		})
	}
}

func held(info *DialogInfo) *DialogInfo {
	for i := range info.Dialogs {
		info.Dialogs[i].Local.Rendering = "no"
	}
	return info
}

// Each rule is logged once per ended call, however often the phone system
// repeats the entry.
func TestTrackerLogsEachRuleOnce(t *testing.T) {
	var logs strings.Builder
	tr := newTracker(slog.New(slog.NewTextHandler(&logs, nil)))
	tr.apply(doc(1, true, "1:confirmed"), testTime)
	tr.apply(doc(2, true, "1:terminated"), testTime)
	for v := uint64(3); v < 10; v++ {
		tr.apply(doc(v, true, "1:confirmed"), testTime)
		tr.apply(withCallID(doc(v+100, true, "1:confirmed"), "other"), testTime)
	}
	for _, rule := range []string{RuleEndedCall, RuleStaleConfirmed} {
		if n := strings.Count(logs.String(), "rule="+rule); n != 1 {
			t.Errorf("%s logged %d times, want once:\n%s", rule, n, logs.String())
		}
	}
}

// Ended calls are remembered up to MaxRemembered; the oldest go first.
func TestTrackerRemembersBounded(t *testing.T) {
	tr := newTracker(discard)
	v := uint64(0)
	for i := range MaxRemembered + 10 {
		id := fmt.Sprint(i)
		v++
		tr.apply(doc(v, false, id+":confirmed"), testTime)
		v++
		tr.apply(doc(v, false, id+":terminated"), testTime)
	}
	if len(tr.endedOrder) != MaxRemembered || len(tr.endedIDs) != MaxRemembered || len(tr.endedCallIDs) != MaxRemembered {
		t.Fatalf("remembered %d/%d/%d, want %d", len(tr.endedOrder), len(tr.endedIDs), len(tr.endedCallIDs), MaxRemembered)
	}
	v++
	if r := tr.apply(doc(v, false, fmt.Sprint(MaxRemembered+9)+":confirmed"), testTime); len(r.events) != 0 {
		t.Errorf("a remembered ended call came back: %q", describeAll(r.events))
	}
	v++
	if r := tr.apply(doc(v, false, "0:confirmed"), testTime); len(r.events) != 1 {
		t.Errorf("the oldest ended call is still remembered: %q", describeAll(r.events))
	}
}
