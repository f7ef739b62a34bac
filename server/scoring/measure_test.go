package scoring_test

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/scoring"
)

// runs builds a channel of a timeline lasting totalMS from its voiced
// stretches (ms, multiples of 20), frame by frame as the recorder does.
func runs(totalMS int64, voiced ...artefact.Span) []int32 {
	var r artefact.VoiceRuns
	for at := int64(0); at < totalMS; at += artefact.VoiceFrameMS {
		on := false
		for _, s := range voiced {
			on = on || (at >= s.FromMS && at < s.ToMS)
		}
		r.Add(on)
	}
	return r.Runs()
}

func sp(from, to int64) artefact.Span { return artefact.Span{FromMS: from, ToMS: to} }

func ms(n int64) *int64 { return &n }

// A call with known truth. The phone rings at t0 and is answered 7 s
// later, when the recording starts (rec). In the recording (ms):
//
//	officer  voiced 1000–11000, 30000–40000
//	caller   voiced 10000–20000, 45000–50000
//	paused   20000–28000 (payment), 52000–54000 (hold)
//	the call ends at 55000.
//
// So: officer 20 s, caller 15 s, ratio 20/35; overtalk 10000–11000;
// silences 0–1000, 28000–30000, 40000–45000, 50000–52000, 54000–55000
// (the pauses are not silence); longest 40000–45000.
var (
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rec = t0.Add(7 * time.Second)
)

func at(msFromRec int64) time.Time { return rec.Add(time.Duration(msFromRec) * time.Millisecond) }

func knownCall(direction string) (*artefact.Manifest, server.Call, []server.Event) {
	const end = 55000
	m := &artefact.Manifest{
		CallID: "c1", Direction: direction, CallStarted: t0, Started: rec, CallerPresent: true,
		Pauses: []artefact.Pause{
			{StartMS: 20000, EndMS: ms(28000), Reason: "payment"},
			{StartMS: 52000, EndMS: ms(54000), Reason: policy.HoldReason},
		},
		Voice: &artefact.Voice{FrameMS: artefact.VoiceFrameMS,
			Officer: runs(end, sp(1000, 11000), sp(30000, 40000)),
			Caller:  runs(end, sp(10000, 20000), sp(45000, 50000)),
		},
		DurationMS: end,
	}
	answered, ended := rec, at(end)
	ec := &server.EventCall{Direction: direction, Started: t0, Remote: server.Party{Number: "+441632960001"}}
	seq := uint64(0)
	ev := func(typ server.EventType, tm time.Time, mod func(*server.Event)) server.Event {
		seq++
		e := server.Event{ID: "e" + string(rune('a'+seq)), Seq: seq, Time: tm, Type: typ, Agent: "sam", CallID: "c1"}
		if mod != nil {
			mod(&e)
		}
		return e
	}
	state := func(s, reason string) func(*server.Event) {
		return func(e *server.Event) { e.State, e.Reason = s, reason }
	}
	events := []server.Event{
		ev(server.EventCallRinging, t0, func(e *server.Event) { c := *ec; e.Call = &c }),
		ev(server.EventCallAnswered, answered, func(e *server.Event) { c := *ec; c.Answered = &answered; e.Call = &c }),
		ev(server.EventRecordingState, rec, state("recording", "")),
		ev(server.EventNotice, at(2000), func(e *server.Event) { e.Outcome = "read" }),
		ev(server.EventRecordingState, at(20000), state("paused", "payment")),
		ev(server.EventRecordingState, at(28000), state("recording", "")),
		ev(server.EventFlag, at(36000), func(e *server.Event) { e.Reason = "other"; e.FromMS, e.ToMS = ms(34000), ms(36000) }),
		ev(server.EventRecordingState, at(52000), state("paused", policy.HoldReason)),
		ev(server.EventRecordingState, at(54000), state("recording", "")),
		ev(server.EventCallEnded, ended, func(e *server.Event) { c := *ec; c.Answered, c.Ended = &answered, &ended; e.Call = &c }),
	}
	call := server.FoldCall("c1", events)
	return m, call, events
}

func testPolicy() *policy.Policy {
	return &policy.Policy{Measures: policy.Measures{
		SilenceOver:       policy.Duration(4 * time.Second),
		Targets:           []policy.DurationTarget{{Category: "default", Target: policy.Duration(time.Minute)}},
		PaymentCategories: []string{"default"},
	}}
}

type want struct {
	value    float64
	evidence []artefact.Span
	byReason map[string]float64
}

func check(t *testing.T, got scoring.Measures, name string, w want) {
	t.Helper()
	m := got.Get(name)
	if !m.Measured {
		t.Errorf("%s: not measured (%s), want %v", name, m.NotMeasured, w.value)
		return
	}
	if math.Abs(m.Value-w.value) > 1e-9 {
		t.Errorf("%s = %v %s, want %v", name, m.Value, m.Unit, w.value)
	}
	if m.Unit != policy.MeasureUnit(name) || m.Unit == "" {
		t.Errorf("%s: unit %q", name, m.Unit)
	}
	if w.evidence != nil && !reflect.DeepEqual(m.Evidence, w.evidence) {
		t.Errorf("%s: evidence %v, want %v", name, m.Evidence, w.evidence)
	}
	if w.byReason != nil && !reflect.DeepEqual(m.ByReason, w.byReason) {
		t.Errorf("%s: by reason %v, want %v", name, m.ByReason, w.byReason)
	}
}

func TestEveryMeasureOfACallWithKnownTruth(t *testing.T) {
	m, call, events := knownCall("inbound")
	got := scoring.Compute(m, call, events, testPolicy())
	check(t, got, policy.MeasureTalkOfficer, want{20, []artefact.Span{sp(1000, 11000), sp(30000, 40000)}, nil})
	check(t, got, policy.MeasureTalkCaller, want{15, []artefact.Span{sp(10000, 20000), sp(45000, 50000)}, nil})
	check(t, got, policy.MeasureTalkRatio, want{100 * 20.0 / 35, nil, nil})
	check(t, got, policy.MeasureOvertalk, want{1, []artefact.Span{sp(10000, 11000)}, nil})
	check(t, got, policy.MeasureOvertalkCount, want{1, nil, nil})
	check(t, got, policy.MeasureLongestSilence, want{5, []artefact.Span{sp(40000, 45000)}, nil})
	// Over 4 s: only 40000–45000; the 8 s payment pause is not silence.
	check(t, got, policy.MeasureSilencesOver, want{1, []artefact.Span{sp(40000, 45000)}, nil})
	check(t, got, policy.MeasureTimeToAnswer, want{7, []artefact.Span{sp(-7000, 0)}, nil})
	check(t, got, policy.MeasureHold, want{2, []artefact.Span{sp(52000, 54000)}, nil})
	check(t, got, policy.MeasurePauses, want{1, []artefact.Span{sp(20000, 28000)}, map[string]float64{"payment": 1}})
	check(t, got, policy.MeasurePaused, want{8, []artefact.Span{sp(20000, 28000)}, map[string]float64{"payment": 8}})
	check(t, got, policy.MeasureNoticeGiven, want{1, []artefact.Span{sp(2000, 2000)}, nil})
	check(t, got, policy.MeasureNoticeTime, want{2, []artefact.Span{sp(0, 2000)}, nil})
	check(t, got, policy.MeasureDuration, want{55, []artefact.Span{sp(0, 55000)}, nil})
	check(t, got, policy.MeasureDurationVsTarget, want{100 * 55.0 / 60, nil, nil})
	check(t, got, policy.MeasureFlags, want{1, []artefact.Span{sp(34000, 36000)}, map[string]float64{"other": 1}})
	check(t, got, policy.MeasurePauseDiscipline, want{1, []artefact.Span{sp(20000, 28000)}, nil})
	if n := got.Get(policy.MeasureNoticeBeforeRecording); n.Measured || !strings.Contains(n.NotMeasured, "outbound") {
		t.Errorf("an inbound call's notice-before-recording: %+v", n)
	}
	for _, name := range policy.MeasureNames() {
		if _, ok := got[name]; !ok {
			t.Errorf("measure %s is missing", name)
		}
	}
}

func TestAPausedStretchContributesNothing(t *testing.T) {
	m, call, events := knownCall("inbound")
	base := scoring.Compute(m, call, events, testPolicy())
	// A recorder that broke its promise: both channels voiced all through
	// the payment pause. Nothing of it may count.
	const end = 55000
	m.Voice.Officer = runs(end, sp(1000, 11000), sp(20000, 28000), sp(30000, 40000))
	m.Voice.Caller = runs(end, sp(10000, 28000), sp(45000, 50000))
	got := scoring.Compute(m, call, events, testPolicy())
	for _, name := range []string{policy.MeasureTalkOfficer, policy.MeasureTalkCaller, policy.MeasureTalkRatio,
		policy.MeasureOvertalk, policy.MeasureOvertalkCount, policy.MeasureLongestSilence, policy.MeasureSilencesOver} {
		if !reflect.DeepEqual(got[name], base[name]) {
			t.Errorf("%s: %+v with voice in the pause, %+v without", name, got[name], base[name])
		}
	}
}

func TestSilenceIsEverythingNeitherVoicedOutsideThePauses(t *testing.T) {
	m, call, events := knownCall("inbound")
	p := testPolicy()
	p.Measures.SilenceOver = policy.Duration(1500 * time.Millisecond)
	got := scoring.Compute(m, call, events, p)
	// Over 1.5 s: 28000–30000, 40000–45000, 50000–52000 (0–1000 and
	// 54000–55000 are 1 s, and a silence of exactly the threshold is not over).
	check(t, got, policy.MeasureSilencesOver, want{3, []artefact.Span{sp(28000, 30000), sp(40000, 45000), sp(50000, 52000)}, nil})
	p.Measures.SilenceOver = policy.Duration(2 * time.Second)
	check(t, scoring.Compute(m, call, events, p), policy.MeasureSilencesOver, want{1, []artefact.Span{sp(40000, 45000)}, nil})
	// The default threshold is 10 s: none.
	check(t, scoring.Compute(m, call, events, &policy.Policy{}), policy.MeasureSilencesOver, want{0, nil, nil})
}

func TestAManifestWithoutATimelineMeasuresTheEventsOnly(t *testing.T) {
	m, call, events := knownCall("inbound")
	m.Voice = nil
	got := scoring.Compute(m, call, events, testPolicy())
	for _, name := range []string{policy.MeasureTalkOfficer, policy.MeasureTalkCaller, policy.MeasureTalkRatio,
		policy.MeasureOvertalk, policy.MeasureOvertalkCount, policy.MeasureLongestSilence, policy.MeasureSilencesOver} {
		g := got.Get(name)
		if g.Measured || g.Value != 0 || g.NotMeasured != scoring.ErrNoTimeline.Error() {
			t.Errorf("%s without a timeline: %+v, want not measured", name, g)
		}
	}
	check(t, got, policy.MeasureTimeToAnswer, want{7, nil, nil})
	check(t, got, policy.MeasurePaused, want{8, nil, nil})
	check(t, got, policy.MeasureNoticeGiven, want{1, nil, nil})
	check(t, got, policy.MeasureDuration, want{55, nil, nil})
}

func TestUnreadableOrOneSidedTimelinesAreNotMeasured(t *testing.T) {
	m, call, events := knownCall("inbound")
	m.Voice.Caller = []int32{10, -3}
	got := scoring.Compute(m, call, events, testPolicy())
	if g := got.Get(policy.MeasureTalkOfficer); g.Measured || !strings.Contains(g.NotMeasured, "cannot be read") {
		t.Errorf("a negative run: %+v", g)
	}
	m.Voice.Officer, m.Voice.Caller = nil, nil
	if g := scoring.Compute(m, call, events, testPolicy()).Get(policy.MeasureLongestSilence); g.Measured || !strings.Contains(g.NotMeasured, "empty") {
		t.Errorf("an empty timeline: %+v", g)
	}
	m, call, events = knownCall("inbound")
	m.CallerPresent = false
	got = scoring.Compute(m, call, events, testPolicy())
	check(t, got, policy.MeasureTalkOfficer, want{20, nil, nil})
	for _, name := range []string{policy.MeasureTalkCaller, policy.MeasureTalkRatio, policy.MeasureOvertalk, policy.MeasureLongestSilence, policy.MeasureSilencesOver} {
		if g := got.Get(name); g.Measured || !strings.Contains(g.NotMeasured, "caller's side was not recorded") {
			t.Errorf("%s without the caller's channel: %+v", name, g)
		}
	}
	// No one spoke: no ratio, all silence.
	m, call, events = knownCall("inbound")
	m.Voice.Officer, m.Voice.Caller = runs(55000), runs(55000)
	got = scoring.Compute(m, call, events, testPolicy())
	if g := got.Get(policy.MeasureTalkRatio); g.Measured {
		t.Errorf("a ratio of no talk: %+v", g)
	}
	// Silences 0–20000 and 28000–52000 around the payment pause.
	check(t, got, policy.MeasureLongestSilence, want{24, []artefact.Span{sp(28000, 52000)}, nil})
	if g := scoring.Compute(nil, call, events, testPolicy()).Get(policy.MeasureTalkOfficer); g.Measured {
		t.Errorf("no manifest: %+v", g)
	}
}

func TestTheNoticeOnAnOutboundCall(t *testing.T) {
	// Before recording: the notice at -1000 ms, recording from 0.
	m, call, events := knownCall("outbound")
	for i := range events {
		if events[i].Type == server.EventNotice {
			events[i].Time = at(-1000)
		}
	}
	got := scoring.Compute(m, call, events, testPolicy())
	check(t, got, policy.MeasureNoticeBeforeRecording, want{1, []artefact.Span{sp(-1000, 0)}, nil})
	// After: the notice at 2000 ms (knownCall's).
	m, call, events = knownCall("outbound")
	check(t, scoring.Compute(m, call, events, testPolicy()), policy.MeasureNoticeBeforeRecording, want{0, nil, nil})
	// Never given.
	var without []server.Event
	for _, e := range events {
		if e.Type != server.EventNotice {
			without = append(without, e)
		}
	}
	call = server.FoldCall("c1", without)
	got = scoring.Compute(m, call, without, testPolicy())
	check(t, got, policy.MeasureNoticeGiven, want{0, nil, nil})
	check(t, got, policy.MeasureNoticeBeforeRecording, want{0, nil, nil})
	if g := got.Get(policy.MeasureNoticeTime); g.Measured {
		t.Errorf("time to a notice never given: %+v", g)
	}
}

func TestPauseDiscipline(t *testing.T) {
	// A payment call without a payment pause fails, pointing at its keypad tones.
	m, call, events := knownCall("inbound")
	for i := range call.Pauses {
		call.Pauses[i].Reason = "health"
	}
	call.KeypadMasks = []server.KeypadMask{{At: at(30000), FromMS: 29000, ToMS: 33000}}
	got := scoring.Compute(m, call, events, testPolicy())
	check(t, got, policy.MeasurePauseDiscipline, want{0, []artefact.Span{sp(29000, 33000)}, nil})
	// The pause a run of keypad tones made counts as a payment pause.
	call.Pauses[0].Reason = policy.PaymentDetectedReason
	check(t, scoring.Compute(m, call, events, testPolicy()), policy.MeasurePauseDiscipline, want{1, nil, nil})
	// A call of another category is not a payment call.
	call.RetentionRule = "health-flagged"
	if g := scoring.Compute(m, call, events, testPolicy()).Get(policy.MeasurePauseDiscipline); g.Measured {
		t.Errorf("pause discipline of a call that takes no payments: %+v", g)
	}
	if g := scoring.Compute(m, call, events, testPolicy()).Get(policy.MeasureDurationVsTarget); g.Measured {
		t.Errorf("a target for a category that has none: %+v", g)
	}
}

func TestAnUnansweredCall(t *testing.T) {
	m, call, events := knownCall("inbound")
	call.Answered, call.Ended = nil, nil
	got := scoring.Compute(m, call, events, testPolicy())
	for _, name := range []string{policy.MeasureTimeToAnswer, policy.MeasureDuration, policy.MeasureDurationVsTarget} {
		if g := got.Get(name); g.Measured {
			t.Errorf("%s of an unanswered call: %+v", name, g)
		}
	}
}
