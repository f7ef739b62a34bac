package dtmf

// Internal kinds of detection, beside ToneBegan and ToneEnded, that only the
// Masker sees: a run of windows long enough to suspect a tone (silencing
// starts, so that the guard before the tone is still held), and a suspicion
// that came to nothing (silencing stops).
const (
	toneSuspected EventKind = 100 + iota
	toneDismissed
)

// detection is a tone as the package sees it inside: the windows that heard
// it, and the key. It never leaves the package; event turns it into what
// may.
type detection struct {
	kind        EventKind
	first, last int64 // the first sub-block of the first and the last window that heard the tone
	streamEnd   int64 // > 0: the tone ran to the end of the audio, at this sample
	sym         int8  // the key, for the package's own tests
}

// span is where the tone is: from the start of the first window that heard
// it to the end of the last. A window hears a tone only when the tone fills
// 88 % of it (the energy check), so the span matches the tone to within 2 ms
// when nothing else sounds (TestEveryKeyAtEveryDuration) and 8 ms at worst.
func (t detection) span(d *Detector) Interval {
	h := int64(d.h)
	iv := Interval{Start: t.first * h, End: (t.last + blockSubs) * h}
	if t.streamEnd > 0 {
		iv.End = t.streamEnd
	}
	return iv
}

// event is the detection as it may leave the package: where, never which.
func (t detection) event(d *Detector) Event {
	e := Event{Kind: t.kind, Tone: t.span(d)}
	if t.kind != ToneEnded {
		e.Tone.End = 0
	}
	return e
}

// tracker turns the verdicts of successive windows into tones.
type tracker struct {
	// A run of windows that heard the same key, not (yet) a tone.
	candSym             int8 // -1: none
	candFirst, candLast int64
	candHits            int
	suspected           bool // the run was reported as toneSuspected

	// The tone in progress.
	active      bool
	sym         int8
	first, last int64
	misses      int // windows since the last that heard it
}

func (t *tracker) reset() {
	*t = tracker{candSym: -1, sym: -1}
}

// window takes the verdict sym (-1: no tone) of the window starting at
// sub-block win.
func (t *tracker) window(d *Detector, win int64, sym int8) {
	if t.active && sym == t.sym {
		t.last, t.misses = win, 0
		t.candSym, t.candHits = -1, 0
		return
	}
	if t.active {
		t.misses++
	}
	t.candidate(d, win, sym)
	switch {
	case t.candSym >= 0 && t.candHits >= confirmBlocks:
		// A key heard long enough: a new tone, which ends the one before
		// if another key follows it without a pause.
		if t.active {
			t.end(d, 0)
		}
		t.begin(d)
	case t.active && t.misses >= endMisses:
		t.end(d, 0)
	case !t.active && t.candSym >= 0 && t.candHits >= suspectBlocks && !t.suspected:
		t.suspected = true
		d.report(detection{kind: toneSuspected, first: t.candFirst, last: t.candLast, sym: t.candSym})
	}
}

// candidate extends or restarts the run of windows hearing one key. A window
// that hears nothing may interrupt the run (speech, noise or another tone
// under the tone can spoil a measurement), but two in a row end it.
func (t *tracker) candidate(d *Detector, win int64, sym int8) {
	if t.candSym >= 0 && sym == t.candSym && win <= t.candLast+2 {
		t.candHits++
		t.candLast = win
		return
	}
	if t.candSym >= 0 && sym < 0 && win == t.candLast+1 {
		return
	}
	if t.candSym >= 0 {
		t.dropCandidate(d, false)
	}
	if sym < 0 {
		return
	}
	t.candSym, t.candFirst, t.candLast, t.candHits = sym, win, win, 1
}

// dropCandidate forgets a run too short to be a tone. If it touches digital
// silence, the pause gate (or the start or end of the audio) cut a tone
// short, and what is left of it is a tone all the same. A run that was
// suspected is dismissed, so that the Masker stops silencing.
func (t *tracker) dropCandidate(d *Detector, atEnd bool) {
	c := detection{first: t.candFirst, last: t.candLast, sym: t.candSym}
	if atEnd {
		c.streamEnd = d.Position()
	}
	switch {
	case t.active:
		// Another key heard during a tone: the tone's silence covers it.
	case atEnd || d.zeroNear(t.candFirst-1, t.candLast+blockSubs):
		c.kind = ToneBegan
		d.report(c)
		c.kind = ToneEnded
		d.report(c)
	case t.suspected:
		c.kind = toneDismissed
		d.report(c)
	}
	t.candSym, t.candHits, t.suspected = -1, 0, false
}

func (t *tracker) begin(d *Detector) {
	t.active, t.sym, t.first, t.last, t.misses = true, t.candSym, t.candFirst, t.candLast, 0
	t.candSym, t.candHits, t.suspected = -1, 0, false
	d.report(detection{kind: ToneBegan, first: t.first, last: t.last, sym: t.sym})
}

func (t *tracker) end(d *Detector, streamEnd int64) {
	d.report(detection{kind: ToneEnded, first: t.first, last: t.last, sym: t.sym, streamEnd: streamEnd})
	t.active, t.sym, t.misses = false, -1, 0
}

// finish ends the audio: a tone in progress ends at the last sample, and a
// run too short to confirm is reported since nothing can confirm it now.
func (t *tracker) finish(d *Detector) {
	if t.active {
		t.end(d, d.Position())
	}
	if t.candSym >= 0 {
		t.dropCandidate(d, true)
	}
}

func (d *Detector) report(t detection) {
	switch {
	case d.emit != nil:
		d.emit(t)
	case t.kind == ToneBegan || t.kind == ToneEnded:
		d.events = append(d.events, t.event(d))
	}
}
