package scoring

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
)

// Measure is one measure of a call: its value in its unit, or why it was
// not measured, and the stretches of the recording it comes from.
//
// Evidence spans are in milliseconds from the recording's first frame (the
// manifest's started), the time base of the player, the pauses and the
// flags; a moment before the recording began (an outbound notice read
// while the recording waited) is negative. Without a manifest they count
// from the call's start.
type Measure struct {
	Name string `json:"name"`
	// Measured is false when the call does not tell (NotMeasured says
	// why, in words); Value is then 0 and means nothing.
	Measured    bool    `json:"measured"`
	Value       float64 `json:"value"`
	Unit        string  `json:"unit"`
	NotMeasured string  `json:"not_measured,omitempty"`
	// ByReason breaks a pause measure down by pause reason, a flag count
	// by flag reason.
	ByReason map[string]float64 `json:"by_reason,omitempty"`
	Evidence []artefact.Span    `json:"evidence,omitempty"`
}

// Yes reports whether a yes-no measure was measured as yes.
func (m Measure) Yes() bool { return m.Measured && m.Value == 1 }

// Measures are a call's measures by name (policy.MeasureNames): every
// name is present, measured or not.
type Measures map[string]Measure

// Get returns the measure of that name; an unknown name is not measured.
func (ms Measures) Get(name string) Measure {
	if m, ok := ms[name]; ok {
		return m
	}
	return Measure{Name: name, Unit: policy.MeasureUnit(name), NotMeasured: "callguard does not compute this measure"}
}

// ErrNoTimeline is why a timeline measure of a manifest without a voice
// timeline (from a desktop before it) is not measured.
var ErrNoTimeline = errors.New("the recording has no voice timeline (the desktop that made it is older than scoring)")

// Compute computes every measure of a call from its manifest (nil when
// there is none), the call as folded and its events (for the moments the
// call does not keep, such as when the notice was given), and the policy
// (silence threshold, categories' targets, payment categories). The
// measures' exact definitions are in docs/supervisors.md, Scorecards.
func Compute(m *artefact.Manifest, call server.Call, events []server.Event, p *policy.Policy) Measures {
	c := computer{m: m, call: call, events: events, p: p, out: make(Measures, len(policy.MeasureNames()))}
	c.origin = call.Started
	if m != nil && !m.Started.IsZero() {
		c.origin = m.Started
	}
	if p == nil {
		c.p = &policy.Policy{}
	}
	c.timeline()
	c.answer()
	c.pauses()
	c.notice()
	c.duration()
	c.flags()
	c.discipline()
	for _, n := range policy.MeasureNames() {
		if _, ok := c.out[n]; !ok {
			c.none(n, "callguard did not compute it")
		}
	}
	return c.out
}

type computer struct {
	m      *artefact.Manifest
	call   server.Call
	events []server.Event
	p      *policy.Policy
	origin time.Time
	out    Measures
}

func (c *computer) set(name string, v float64, evidence []artefact.Span) {
	c.out[name] = Measure{Name: name, Measured: true, Value: v, Unit: policy.MeasureUnit(name), Evidence: evidence}
}

func (c *computer) none(name, why string) {
	c.out[name] = Measure{Name: name, Unit: policy.MeasureUnit(name), NotMeasured: why}
}

func yesNo(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func seconds(ms int64) float64 { return float64(ms) / 1000 }

// at is a moment as milliseconds from the origin.
func (c *computer) at(t time.Time) int64 { return t.Sub(c.origin).Milliseconds() }

func (c *computer) span(from, to time.Time) artefact.Span {
	return artefact.Span{FromMS: c.at(from), ToMS: c.at(to)}
}

var timelineMeasures = []string{
	policy.MeasureTalkOfficer, policy.MeasureTalkCaller, policy.MeasureTalkRatio,
	policy.MeasureOvertalk, policy.MeasureOvertalkCount,
	policy.MeasureLongestSilence, policy.MeasureSilencesOver,
}

// timeline computes the measures of the voice-activity timeline.
func (c *computer) timeline() {
	fail := func(why string, names ...string) {
		for _, n := range names {
			c.none(n, why)
		}
	}
	if c.m == nil {
		fail("the call has no recording to measure", timelineMeasures...)
		return
	}
	v := c.m.Voice
	if v == nil {
		fail(ErrNoTimeline.Error(), timelineMeasures...)
		return
	}
	if max(artefact.Frames(v.Officer), artefact.Frames(v.Caller)) == 0 {
		fail("the recording's voice timeline is empty", timelineMeasures...)
		return
	}
	officer, err := v.Spans(v.Officer)
	if err == nil {
		var caller []artefact.Span
		if caller, err = v.Spans(v.Caller); err == nil {
			c.voiced(v, officer, caller)
			return
		}
	}
	fail(fmt.Sprintf("the recording's voice timeline cannot be read (%v)", err), timelineMeasures...)
}

func (c *computer) voiced(v *artefact.Voice, officer, caller []artefact.Span) {
	end := max(artefact.Frames(v.Officer), artefact.Frames(v.Caller)) * int64(v.FrameMS)
	paused := c.recordedPauses(end)
	// A paused frame is never voiced; taking the pauses out again keeps
	// a recorder that did not hold to it from counting what it must not.
	officer, caller = subtract(officer, paused), subtract(caller, paused)
	c.set(policy.MeasureTalkOfficer, seconds(total(officer)), officer)
	callerHeard := c.m.CallerPresent
	if callerHeard {
		c.set(policy.MeasureTalkCaller, seconds(total(caller)), caller)
		both := intersect(officer, caller)
		c.set(policy.MeasureOvertalk, seconds(total(both)), both)
		c.set(policy.MeasureOvertalkCount, float64(len(both)), both)
		if talk := total(officer) + total(caller); talk > 0 {
			c.set(policy.MeasureTalkRatio, 100*float64(total(officer))/float64(talk), nil)
		} else {
			c.none(policy.MeasureTalkRatio, "no one spoke in the recording")
		}
	} else {
		why := "the caller's side was not recorded (no caller channel)"
		for _, n := range []string{policy.MeasureTalkCaller, policy.MeasureOvertalk, policy.MeasureOvertalkCount, policy.MeasureTalkRatio} {
			c.none(n, why)
		}
	}
	// Silence: neither voiced, outside the pauses. Without the caller's
	// channel the caller may have been speaking: not measured.
	if !callerHeard {
		c.none(policy.MeasureLongestSilence, "the caller's side was not recorded (no caller channel)")
		c.none(policy.MeasureSilencesOver, "the caller's side was not recorded (no caller channel)")
		return
	}
	silences := subtract([]artefact.Span{{FromMS: 0, ToMS: end}}, union(union(officer, caller), paused))
	if end <= total(paused) {
		c.none(policy.MeasureLongestSilence, "the whole recording was paused")
		c.none(policy.MeasureSilencesOver, "the whole recording was paused")
		return
	}
	var longest []artefact.Span
	var over []artefact.Span
	limit := c.p.Measures.SilenceThreshold().Milliseconds()
	for _, s := range silences {
		d := s.ToMS - s.FromMS
		if len(longest) == 0 || d > longest[0].ToMS-longest[0].FromMS {
			longest = []artefact.Span{s}
		}
		if d > limit {
			over = append(over, s)
		}
	}
	c.set(policy.MeasureLongestSilence, seconds(total(longest)), longest)
	c.set(policy.MeasureSilencesOver, float64(len(over)), over)
}

// recordedPauses are the manifest's pauses, in order and joined, a pause
// still open ending at end.
func (c *computer) recordedPauses(end int64) []artefact.Span {
	ps := make([]artefact.Span, 0, len(c.m.Pauses))
	for _, p := range c.m.Pauses {
		to := end
		if p.EndMS != nil {
			to = *p.EndMS
		}
		ps = append(ps, artefact.Span{FromMS: p.StartMS, ToMS: to})
	}
	slices.SortFunc(ps, func(a, b artefact.Span) int { return int(a.FromMS - b.FromMS) })
	return normalise(ps)
}

func (c *computer) answer() {
	if c.call.Answered == nil {
		c.none(policy.MeasureTimeToAnswer, "the call was not answered")
		return
	}
	c.set(policy.MeasureTimeToAnswer, seconds(c.call.Answered.Sub(c.call.Started).Milliseconds()),
		[]artefact.Span{c.span(c.call.Started, *c.call.Answered)})
}

// pauses computes hold and pauses from the call's pauses (its recording
// state events); a pause still open ends with the call.
func (c *computer) pauses() {
	if c.call.Events == 0 {
		for _, n := range []string{policy.MeasureHold, policy.MeasurePauses, policy.MeasurePaused} {
			c.none(n, "the server has no events of the call")
		}
		return
	}
	var hold, paused int64
	var holdEv, pausedEv []artefact.Span
	count := 0
	byCount, byTime := map[string]float64{}, map[string]float64{}
	for _, p := range c.call.Pauses {
		end := p.End
		if end == nil {
			end = c.call.Ended
		}
		var d int64
		var ev artefact.Span
		if end != nil && end.After(p.Start) {
			d, ev = end.Sub(p.Start).Milliseconds(), c.span(p.Start, *end)
		} else {
			ev = c.span(p.Start, p.Start)
		}
		if p.Reason == policy.HoldReason {
			hold += d
			holdEv = append(holdEv, ev)
			continue
		}
		count++
		paused += d
		pausedEv = append(pausedEv, ev)
		byCount[p.Reason]++
		byTime[p.Reason] += seconds(d)
	}
	c.set(policy.MeasureHold, seconds(hold), holdEv)
	pm := Measure{Name: policy.MeasurePauses, Measured: true, Value: float64(count), Unit: policy.UnitCount, Evidence: pausedEv, ByReason: byCount}
	c.out[pm.Name] = pm
	pm = Measure{Name: policy.MeasurePaused, Measured: true, Value: seconds(paused), Unit: policy.UnitSeconds, Evidence: pausedEv, ByReason: byTime}
	c.out[pm.Name] = pm
}

// notice computes notice-given, notice-time and notice-before-recording.
func (c *computer) notice() {
	var given *time.Time
	var recording *time.Time
	for _, e := range server.SortBySeq(c.events) {
		if e.CallID != "" && e.CallID != c.call.ID && e.CallID != c.call.DesktopID {
			continue
		}
		switch {
		case e.Type == server.EventNotice && given == nil && noticeGiven(e.Outcome):
			t := e.Time
			given = &t
		case e.Type == server.EventRecordingState && e.State == "recording" && recording == nil:
			t := e.Time
			recording = &t
		}
	}
	switch {
	case c.call.Notice == "not-needed":
		for _, n := range []string{policy.MeasureNoticeGiven, policy.MeasureNoticeTime, policy.MeasureNoticeBeforeRecording} {
			c.none(n, "the call needed no notice (it was not recorded)")
		}
		return
	case given == nil && noticeGiven(c.call.Notice):
		// The outcome is known but its event is not among those given.
		c.set(policy.MeasureNoticeGiven, 1, nil)
		c.none(policy.MeasureNoticeTime, "the notice's event is missing, so its time is not known")
		c.none(policy.MeasureNoticeBeforeRecording, "the notice's event is missing, so its time is not known")
		return
	case given == nil:
		c.set(policy.MeasureNoticeGiven, 0, nil)
		c.none(policy.MeasureNoticeTime, "no notice was given")
	default:
		c.set(policy.MeasureNoticeGiven, 1, []artefact.Span{c.span(*given, *given)})
		from := c.call.Started
		if c.call.Answered != nil {
			from = *c.call.Answered
		}
		c.set(policy.MeasureNoticeTime, seconds(given.Sub(from).Milliseconds()), []artefact.Span{c.span(from, *given)})
	}
	if c.call.Direction != "outbound" {
		c.none(policy.MeasureNoticeBeforeRecording, "only outbound calls read the notice before recording")
		return
	}
	if recording == nil && c.m != nil && !c.m.Started.IsZero() {
		recording = &c.m.Started
	}
	switch {
	case recording == nil:
		c.none(policy.MeasureNoticeBeforeRecording, "the call was never recorded")
	case given == nil:
		c.set(policy.MeasureNoticeBeforeRecording, 0, []artefact.Span{c.span(*recording, *recording)})
	default:
		c.set(policy.MeasureNoticeBeforeRecording, yesNo(!given.After(*recording)), []artefact.Span{c.span(*given, *recording)})
	}
}

// noticeGiven reports whether a notice outcome means the caller heard the
// notice: read or announced, or objected to after hearing it.
func noticeGiven(outcome string) bool {
	return outcome == "read" || outcome == "announced" || outcome == "objected"
}

func (c *computer) category() string {
	if c.call.RetentionRule == "" {
		return "default"
	}
	return c.call.RetentionRule
}

func (c *computer) duration() {
	switch {
	case c.call.Answered == nil:
		c.none(policy.MeasureDuration, "the call was not answered")
		c.none(policy.MeasureDurationVsTarget, "the call was not answered")
		return
	case c.call.Ended == nil:
		c.none(policy.MeasureDuration, "the call has not ended")
		c.none(policy.MeasureDurationVsTarget, "the call has not ended")
		return
	}
	d := max(c.call.Ended.Sub(*c.call.Answered), 0)
	ev := []artefact.Span{c.span(*c.call.Answered, *c.call.Ended)}
	c.set(policy.MeasureDuration, seconds(d.Milliseconds()), ev)
	cat := c.category()
	target := c.p.Measures.Target(cat)
	if target <= 0 {
		c.none(policy.MeasureDurationVsTarget, fmt.Sprintf("calls of the category %q have no target duration in the policy", cat))
		return
	}
	c.set(policy.MeasureDurationVsTarget, 100*float64(d.Milliseconds())/float64(target.Milliseconds()), ev)
}

func (c *computer) flags() {
	if c.call.Events == 0 {
		c.none(policy.MeasureFlags, "the server has no events of the call")
		return
	}
	by := map[string]float64{}
	var ev []artefact.Span
	for _, f := range c.call.Flags {
		by[f.Reason]++
		if f.FromMS != nil && f.ToMS != nil {
			ev = append(ev, artefact.Span{FromMS: *f.FromMS, ToMS: *f.ToMS})
		} else {
			ev = append(ev, c.span(f.At, f.At))
		}
	}
	c.out[policy.MeasureFlags] = Measure{Name: policy.MeasureFlags, Measured: true, Value: float64(len(c.call.Flags)),
		Unit: policy.UnitCount, ByReason: by, Evidence: ev}
}

// discipline: a call of a payment category passes when it had a payment
// pause (the officer's, or the one a run of keypad tones made).
func (c *computer) discipline() {
	cat := c.category()
	if !c.p.Measures.PaymentCategory(cat) {
		c.none(policy.MeasurePauseDiscipline, fmt.Sprintf("calls of the category %q take no payments", cat))
		return
	}
	if c.call.Events == 0 {
		c.none(policy.MeasurePauseDiscipline, "the server has no events of the call")
		return
	}
	var ev []artefact.Span
	for _, p := range c.call.Pauses {
		if p.Reason == "payment" || p.Reason == policy.PaymentDetectedReason {
			end := p.Start
			if p.End != nil {
				end = *p.End
			}
			ev = append(ev, c.span(p.Start, end))
		}
	}
	if len(ev) > 0 {
		c.set(policy.MeasurePauseDiscipline, 1, ev)
		return
	}
	// No payment pause: where keypad tones were silenced is where card
	// details may have been given.
	for _, k := range c.call.KeypadMasks {
		ev = append(ev, artefact.Span{FromMS: k.FromMS, ToMS: k.ToMS})
	}
	c.set(policy.MeasurePauseDiscipline, 0, ev)
}
