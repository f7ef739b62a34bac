package scoring_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server/scoring"
)

// Whatever a manifest says (runs of any length, pauses backwards, past the
// end, overlapping), every measure is a finite number or not measured,
// talk and silence never exceed the recording, and the score stays 0–100.
func FuzzCompute(f *testing.F) {
	f.Add([]byte{0, 50, 100, 3, 40}, []byte{10, 20, 0, 5}, int64(1000), int64(5000), int16(20))
	f.Add([]byte{}, []byte{1}, int64(-5), int64(-10), int16(0))
	f.Add([]byte{255, 255, 255}, []byte{7}, int64(0), int64(math.MaxInt32), int16(-20))
	p := examplePolicy(f, "bacp-membership")
	f.Fuzz(func(t *testing.T, officer, caller []byte, pauseFrom, pauseTo int64, frameMS int16) {
		toRuns := func(b []byte) []int32 {
			var r []int32
			for len(b) >= 2 {
				r = append(r, int32(binary.LittleEndian.Uint16(b)))
				b = b[2:]
			}
			return r
		}
		m, call, events := knownCall("inbound")
		m.Voice = &artefact.Voice{FrameMS: int(frameMS), Officer: toRuns(officer), Caller: toRuns(caller)}
		m.Pauses = append(m.Pauses, artefact.Pause{StartMS: pauseFrom, EndMS: &pauseTo, Reason: "payment"})
		ms := scoring.Compute(m, call, events, p)
		if _, err := json.Marshal(ms); err != nil {
			t.Fatalf("measures do not marshal: %v", err)
		}
		var length float64
		if frameMS > 0 {
			length = float64(max(artefact.Frames(m.Voice.Officer), artefact.Frames(m.Voice.Caller))*int64(frameMS)) / 1000
		}
		for _, n := range policy.MeasureNames() {
			g := ms.Get(n)
			if math.IsNaN(g.Value) || math.IsInf(g.Value, 0) || (!g.Measured && (g.Value != 0 || g.NotMeasured == "")) {
				t.Fatalf("%s: %+v", n, g)
			}
		}
		for _, n := range []string{policy.MeasureTalkOfficer, policy.MeasureTalkCaller, policy.MeasureOvertalk, policy.MeasureLongestSilence} {
			if g := ms.Get(n); g.Measured && (g.Value < 0 || g.Value > length+1e-9) {
				t.Fatalf("%s = %v s of a %v s recording", n, g.Value, length)
			}
		}
		for _, c := range p.Scorecards {
			if r := scoring.Score(c, 1, ms, nil); r.Total < 0 || r.Total > 100 || math.IsNaN(r.Total) {
				t.Fatalf("total %v", r.Total)
			}
		}
	})
}
