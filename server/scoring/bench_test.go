package scoring_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/scoring"
)

// realisticCall is a 5-minute inbound call: turns of 1–8 s that now and
// then start before the other party stops (overtalk), gaps of up to 3 s,
// a silence of up to 40 s while the officer looks something up, and a
// 60 s payment pause in the middle; about 20 turns per party.
func realisticCall(seed uint64) (*artefact.Manifest, server.Call, []server.Event) {
	const frames = 5 * 60 * 1000 / artefact.VoiceFrameMS
	rng := rand.New(rand.NewPCG(seed, 17))
	officer, caller := make([]bool, frames), make([]bool, frames)
	pauseFrom, pauseTo := 120_000/artefact.VoiceFrameMS, 180_000/artefact.VoiceFrameMS
	lookupFrom := 220_000 / artefact.VoiceFrameMS
	at, speaker := 25, 0
	for at < frames {
		if at >= pauseFrom && at < pauseTo {
			at = pauseTo
			continue
		}
		if at >= lookupFrom && at < lookupFrom+2000 {
			at = lookupFrom + 2000
			continue
		}
		n := 50 + rng.IntN(350)
		ch := officer
		if speaker == 1 {
			ch = caller
		}
		for i := at; i < min(at+n, frames); i++ {
			if i < pauseFrom || i >= pauseTo {
				ch[i] = true
			}
		}
		at += n
		if rng.IntN(5) == 0 {
			at -= 10 + rng.IntN(40) // the other starts before this one stops
		} else {
			at += rng.IntN(150)
		}
		speaker = 1 - speaker
	}
	var o, c artefact.VoiceRuns
	for i := range frames {
		o.Add(officer[i])
		c.Add(caller[i])
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	answered, ended := start.Add(12*time.Second), start.Add(12*time.Second+5*time.Minute)
	recAt := func(ms int) time.Time { return answered.Add(time.Duration(ms) * time.Millisecond) }
	m := &artefact.Manifest{CallID: "c1", Direction: "inbound", CallStarted: start, Started: answered, CallerPresent: true,
		Pauses:     []artefact.Pause{{StartMS: 120_000, EndMS: ms(180_000), Reason: "payment"}},
		Voice:      &artefact.Voice{FrameMS: artefact.VoiceFrameMS, Officer: o.Runs(), Caller: c.Runs()},
		DurationMS: 300_000}
	ec := server.EventCall{Direction: "inbound", Started: start, Remote: server.Party{Number: "+441632960001"}}
	ea, ee := ec, ec
	ea.Answered = &answered
	ee.Answered, ee.Ended = &answered, &ended
	events := []server.Event{
		{ID: "e1", Seq: 1, Time: start, Type: server.EventCallRinging, CallID: "c1", Call: &ec},
		{ID: "e2", Seq: 2, Time: answered, Type: server.EventCallAnswered, CallID: "c1", Call: &ea},
		{ID: "e3", Seq: 3, Time: answered, Type: server.EventRecordingState, CallID: "c1", State: "recording"},
		{ID: "e4", Seq: 4, Time: recAt(3000), Type: server.EventNotice, CallID: "c1", Outcome: "announced"},
		{ID: "e5", Seq: 5, Time: recAt(120_000), Type: server.EventRecordingState, CallID: "c1", State: "paused", Reason: "payment"},
		{ID: "e6", Seq: 6, Time: recAt(180_000), Type: server.EventRecordingState, CallID: "c1", State: "recording"},
		{ID: "e7", Seq: 7, Time: ended, Type: server.EventCallEnded, CallID: "c1", Call: &ee},
	}
	return m, server.FoldCall("c1", events), events
}

func TestTheRealisticCallIsRealistic(t *testing.T) {
	m, call, events := realisticCall(1)
	ms := scoring.Compute(m, call, events, examplePolicy(t, "bacp-membership"))
	talk := ms.Get(policy.MeasureTalkOfficer).Value + ms.Get(policy.MeasureTalkCaller).Value
	if talk < 150 || talk > 240 || ms.Get(policy.MeasureOvertalkCount).Value < 5 || ms.Get(policy.MeasureLongestSilence).Value < 30 {
		t.Errorf("talk %v s, overtalk %v times, longest silence %v s, runs %d+%d", talk, ms.Get(policy.MeasureOvertalkCount).Value,
			ms.Get(policy.MeasureLongestSilence).Value, len(m.Voice.Officer), len(m.Voice.Caller))
	}
}

// BenchmarkScoreCall measures the server's cost of scoring one 5-minute
// call: every measure, then the BACP example's scorecard.
func BenchmarkScoreCall(b *testing.B) {
	m, call, events := realisticCall(1)
	p := examplePolicy(b, "bacp-membership")
	card := p.Scorecards[0]
	b.ReportAllocs()
	for b.Loop() {
		scoring.Score(card, 1, scoring.Compute(m, call, events, p), nil)
	}
}

// BenchmarkBackfill100k scores 100,000 calls (100 different timelines,
// each manifest decoded from its JSON as the store holds it) by the
// council example's cards: one op is the whole backfill.
func BenchmarkBackfill100k(b *testing.B) {
	p := examplePolicy(b, "council-contact-centre")
	type stored struct {
		manifest []byte
		call     server.Call
		events   []server.Event
	}
	calls := make([]stored, 100)
	for i := range calls {
		m, call, events := realisticCall(uint64(i))
		j, err := json.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		calls[i] = stored{j, call, events}
	}
	const n = 100_000
	b.ReportAllocs()
	for b.Loop() {
		for i := range n {
			c := &calls[i%len(calls)]
			var m artefact.Manifest
			if err := json.Unmarshal(c.manifest, &m); err != nil {
				b.Fatal(err)
			}
			card := p.ScorecardFor(c.call.RetentionRule)
			scoring.Score(*card, 1, scoring.Compute(&m, c.call, c.events, p), nil)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/call")
}
