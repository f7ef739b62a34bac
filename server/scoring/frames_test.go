package scoring_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server/scoring"
)

// The timeline measures of random calls agree with a count made frame by
// frame, the plainest way to say what each measure is: a check of the
// span arithmetic against an independent one.
func TestTimelineMeasuresAgreeWithAFrameByFrameCount(t *testing.T) {
	_, call, events := knownCall("inbound")
	p := &policy.Policy{Measures: policy.Measures{SilenceOver: policy.Duration(3 * time.Second)}}
	threshold := int(p.Measures.SilenceThreshold().Milliseconds() / artefact.VoiceFrameMS)
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		frames := 100 + rng.IntN(6000)
		officer, caller, paused := make([]bool, frames), make([]bool, frames), make([]bool, frames)
		burst := func(ch []bool, chance, maxLen int) {
			for i := 0; i < frames; {
				if rng.IntN(chance) == 0 {
					n := 1 + rng.IntN(maxLen)
					for j := i; j < min(i+n, frames); j++ {
						ch[j] = true
					}
					i += n
				}
				i++
			}
		}
		burst(officer, 40, 300)
		burst(caller, 40, 300)
		m := &artefact.Manifest{Started: rec, CallerPresent: true}
		for i := 0; i < frames; {
			if rng.IntN(800) == 0 {
				n := 1 + rng.IntN(500)
				var end *int64
				if i+n < frames || rng.IntN(2) == 0 {
					end = ms(int64(min(i+n, frames) * artefact.VoiceFrameMS))
				} else {
					n = frames // open to the end
				}
				m.Pauses = append(m.Pauses, artefact.Pause{StartMS: int64(i * artefact.VoiceFrameMS), EndMS: end, Reason: "payment"})
				for j := i; j < min(i+n, frames); j++ {
					paused[j] = true
				}
				i += n
			}
			i++
		}
		// The recorder never voices a paused frame; half the calls break
		// that promise, and the measures must not see it.
		var o, c artefact.VoiceRuns
		broken := seed%2 == 1
		for i := range frames {
			o.Add(officer[i] && (broken || !paused[i]))
			c.Add(caller[i] && (broken || !paused[i]))
		}
		m.Voice = &artefact.Voice{FrameMS: artefact.VoiceFrameMS, Officer: o.Runs(), Caller: c.Runs()}

		var to, tc, both, overlaps, longest, over int
		run, inBoth := 0, false
		endSilence := func() {
			if run > longest {
				longest = run
			}
			if run > threshold {
				over++
			}
			run = 0
		}
		for i := range frames {
			ov, cv := officer[i] && !paused[i], caller[i] && !paused[i]
			if ov {
				to++
			}
			if cv {
				tc++
			}
			if ov && cv {
				both++
				if !inBoth {
					overlaps++
				}
			}
			inBoth = ov && cv
			if !ov && !cv && !paused[i] {
				run++
			} else {
				endSilence()
			}
		}
		endSilence()

		got := scoring.Compute(m, call, events, p)
		sec := func(n int) float64 { return float64(n*artefact.VoiceFrameMS) / 1000 }
		for name, want := range map[string]float64{
			policy.MeasureTalkOfficer: sec(to), policy.MeasureTalkCaller: sec(tc),
			policy.MeasureOvertalk: sec(both), policy.MeasureOvertalkCount: float64(overlaps),
			policy.MeasureLongestSilence: sec(longest), policy.MeasureSilencesOver: float64(over),
		} {
			g := got.Get(name)
			if name == policy.MeasureLongestSilence && longest == 0 {
				continue // every frame voiced or paused
			}
			if !g.Measured || math.Abs(g.Value-want) > 1e-9 {
				t.Fatalf("seed %d (%d frames, %d pauses): %s = %v (%s), frame by frame %v", seed, frames, len(m.Pauses), name, g.Value, g.NotMeasured, want)
			}
		}
		if to+tc > 0 {
			if g := got.Get(policy.MeasureTalkRatio); math.Abs(g.Value-100*float64(to)/float64(to+tc)) > 1e-9 {
				t.Fatalf("seed %d: talk ratio %v", seed, g.Value)
			}
		}
	}
}
