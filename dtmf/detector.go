package dtmf

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrSampleRate is returned for audio at a rate other than 8 or 16 kHz.
var ErrSampleRate = errors.New("dtmf: the sample rate must be 8000 or 16000 Hz")

// Timing of the analysis (see doc.go for why these figures).
const (
	// subMS is the hop: the window moves on in steps of 4 ms, and every
	// boundary the detector reports lies on this grid.
	subMS = 4
	// blockSubs sub-blocks make one analysis window of 16 ms: long enough to
	// tell the low-group frequencies apart (73 Hz between rows), short enough
	// for several windows to fit inside a 40 ms tone.
	blockSubs = 4
	// suspectBlocks: one window that hears a key (16 ms of it) is enough to
	// start silencing, so that the whole guard before the tone is still
	// held. Speech passes all the checks below so rarely (not one window in
	// the hours of test speech) that this costs no false masks.
	suspectBlocks = 1
	// confirmBlocks windows hearing the same key make a tone: 16 + 4×4 =
	// 32 ms of it or more, longer than speech holds this still. A window
	// that hears nothing may come between two that hear the key (a
	// measurement spoilt by speech under the tone); two in a row end the
	// run. A suspicion that is not confirmed is silenced all the same, but it
	// is not reported as a tone.
	confirmBlocks = 5
	// endMisses windows in a row without the tone end it (28 ms), so that a
	// break of up to 10 ms inside a tone (Q.24) does not split it in two,
	// while the 40 ms pause between two keypresses does.
	endMisses = 7
)

// Thresholds of the checks each window must pass (see doc.go). They were
// set on the test signals: every Q.24 tone heard with speech 15 dB below it,
// and not one window of the hour of speech passing them all.
var (
	// floorPower is the least power of each of the two frequencies: −42 dBFS,
	// 6 dB below the weaker frequency of the quietest tone tested (−25 dBFS
	// with 8 dB of twist).
	floorPower = amplitudePower(-42)
	// Q.24's twist: the low group up to 8 dB stronger than the high group
	// (normal twist), or the high group up to 4 dB stronger (reverse
	// twist). The limits leave 2 and 3 dB for what speech or noise under the
	// tone does to a 16 ms measurement.
	normalTwist  = dbPower(10)
	reverseTwist = dbPower(7)
	// relativePeak: each of the two frequencies is this much stronger than
	// every other frequency of its group.
	relativePeak = dbPower(8)
	// harmonicMax: the second harmonic of each frequency is this much weaker
	// than the frequency; voiced speech has strong harmonics, a keypad tone
	// has none.
	harmonicMax = dbPower(-10)
	// minFraction of the window's energy is in the two frequencies: "two
	// tones and only two", the check that rejects speech, noise and chords.
	minFraction = 0.88
)

func dbPower(db float64) float64 { return math.Pow(10, db/10) }

// amplitudePower is the power (as classify scales it) of a sine whose peak is
// dbfs relative to full scale.
func amplitudePower(dbfs float64) float64 {
	a := 32768 * math.Pow(10, dbfs/20)
	return a * a
}

// EventKind says what a detector event reports. The zero value means unknown.
type EventKind uint8

// The events of a tone: ToneBegan when the tone has lasted long enough to be
// sure of it (32 to 36 ms), ToneEnded when it is over.
const (
	EventUnknown EventKind = iota
	ToneBegan
	ToneEnded
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case ToneBegan:
		return "tone-began"
	case ToneEnded:
		return "tone-ended"
	default:
		return "unknown"
	}
}

// Interval is a stretch of samples [Start, End), counted from the first
// sample given to the Detector or the Masker. For a stereo Masker a sample is
// one frame (both channels).
type Interval struct {
	Start, End int64
}

// Duration is the interval's length at sampleRate.
func (iv Interval) Duration(sampleRate int) time.Duration {
	return time.Duration(iv.End-iv.Start) * time.Second / time.Duration(sampleRate)
}

// Event is a tone beginning or ending. For ToneBegan, Tone.End is not known
// yet and is 0. Events carry where a tone is, never which key it was.
type Event struct {
	Kind EventKind
	Tone Interval
}

// Detector finds keypad tones in one channel of 16-bit PCM audio at 8 or
// 16 kHz. It is not safe for concurrent use.
//
// Which key a tone stands for is worked out only inside the Detector, for the
// tone in progress, and forgotten when the tone ends: no method, event or
// formatting of a Detector reveals it.
type Detector struct {
	rate int
	h, n int // samples per sub-block and per window
	g    goertzel

	// The sub-block being filled.
	buf  []int16   // a sub-block begun by the last Feed
	win  []float64 // scratch for one window's samples
	fill int
	sub  int64 // index of the sub-block being filled
	fed  int64 // samples fed

	// The last blockSubs sub-blocks, by index modulo blockSubs.
	hist [blockSubs]subBlock
	// zeros has bit i set when sub-block sub-1-i was digital silence (all
	// zero samples, as the recorder's pause gate writes them).
	zeros uint64

	track tracker
	// emit, when set (by a Masker, or a test), takes every detection;
	// otherwise the tones go to events, for Feed and End.
	emit   func(detection)
	events []Event
	// trace, when set (by tests), sees the measurements of every window.
	trace func(windowMetrics)
}

type subBlock struct {
	x       []int16 // the samples
	c       [8 * probes]complex128
	sum, sq float64
}

// NewDetector returns a detector for audio at sampleRate (8000 or 16000).
func NewDetector(sampleRate int) (*Detector, error) {
	if sampleRate != 8000 && sampleRate != 16000 {
		return nil, fmt.Errorf("%w (got %d)", ErrSampleRate, sampleRate)
	}
	h := sampleRate * subMS / 1000
	d := &Detector{rate: sampleRate, h: h, n: h * blockSubs, g: newGoertzel(sampleRate)}
	d.buf = make([]int16, h)
	d.win = make([]float64, 0, h*blockSubs)
	for i := range d.hist {
		d.hist[i].x = make([]int16, h)
	}
	d.track.reset()
	return d, nil
}

// Feed analyses samples, which follow those fed before, and appends to dst
// the events they complete. A tone is reported 32 to 36 ms after it began,
// its end 28 to 32 ms after it ended.
func (d *Detector) Feed(dst []Event, samples []int16) []Event {
	d.events = dst
	d.feed(samples)
	dst, d.events = d.events, nil
	return dst
}

// End marks the end of the audio and appends the events it completes: a tone
// still sounding ends at the last sample, and one cut too short to be sure of
// is reported all the same, since no more audio can confirm it.
func (d *Detector) End(dst []Event) []Event {
	d.events = dst
	d.end()
	dst, d.events = d.events, nil
	return dst
}

// Detect returns the tones in samples, a whole recording at sampleRate.
func Detect(samples []int16, sampleRate int) ([]Interval, error) {
	d, err := NewDetector(sampleRate)
	if err != nil {
		return nil, err
	}
	var tones []Interval
	d.emit = func(t detection) {
		if t.kind == ToneEnded {
			tones = append(tones, t.event(d).Tone)
		}
	}
	d.feed(samples)
	d.end()
	return tones, nil
}

// Position is the number of samples fed so far.
func (d *Detector) Position() int64 { return d.fed }

func (d *Detector) feed(samples []int16) {
	d.fed += int64(len(samples))
	for len(samples) > 0 {
		if d.fill == 0 && len(samples) >= d.h {
			// A whole sub-block: straight from the caller's samples.
			d.subBlock(samples[:d.h])
			samples = samples[d.h:]
			continue
		}
		k := copy(d.buf[d.fill:], samples)
		d.fill += k
		samples = samples[k:]
		if d.fill == d.h {
			d.fill = 0
			d.subBlock(d.buf)
		}
	}
}

func (d *Detector) end() {
	// The partial sub-block at the end is completed with silence: it adds
	// nothing to the filters but lets the last window be judged.
	if d.fill > 0 {
		clear(d.buf[d.fill:])
		d.fill = 0
		d.subBlock(d.buf)
	}
	d.track.finish(d)
}

// subBlock takes in the sub-block x and judges the window it completes.
func (d *Detector) subBlock(x []int16) {
	sb := &d.hist[d.sub%blockSubs]
	copy(sb.x, x)
	zero := d.g.run(x, d.sub*int64(d.h), sb)
	d.zeros <<= 1
	if zero {
		d.zeros |= 1
	}
	d.sub++
	if d.sub >= blockSubs {
		win := d.sub - blockSubs // the window's first sub-block
		d.track.window(d, win, d.classify(win))
	}
}

// zeroNear reports whether any sub-block in [from, to] was digital silence,
// counting those before the stream's start as silence.
func (d *Detector) zeroNear(from, to int64) bool {
	if from < 0 {
		return true
	}
	for m := from; m <= to && m < d.sub; m++ {
		age := d.sub - 1 - m
		if age >= 64 {
			continue
		}
		if d.zeros&(1<<age) != 0 {
			return true
		}
	}
	return false
}

// windowMetrics are the measurements of one window, for tests that tune and
// check the thresholds.
type windowMetrics struct {
	win              int64 // first sub-block
	row, col         int   // the strongest frequency of each group
	rowDB, colDB     float64
	twistDB          float64 // row minus column
	rowPeak, colPeak float64 // dB above the group's next strongest
	fraction         float64
	rowHarm, colHarm float64 // dB of the second harmonic below the fundamental
	sym              int8
}

// classify returns the key (0-15: row*4+column) whose tone fills the window
// starting at sub-block win, or -1.
func (d *Detector) classify(win int64) int8 {
	var c [8 * probes]complex128
	var sum, sq float64
	for m := win; m < win+blockSubs; m++ {
		sb := &d.hist[m%blockSubs]
		for k := range c {
			c[k] += sb.c[k]
		}
		sum += sb.sum
		sq += sb.sq
	}
	n := float64(d.n)
	scale := 4 / (n * n)
	// Each frequency's power is that of the strongest of its probes.
	var p [8]float64
	for k, v := range c {
		p[k/probes] = max(p[k/probes], (real(v)*real(v)+imag(v)*imag(v))*scale)
	}
	row, col := argmax4(p[0:4]), 4+argmax4(p[4:8])
	pr, pc := p[row], p[col]
	// The energy of the window without its mean: a DC offset is not tone.
	energy := (sq - sum*sum/n) / n
	frac := (pr + pc) / 2 / math.Max(energy, 1e-9)
	ok := pr >= floorPower && pc >= floorPower &&
		pr <= pc*normalTwist && pc <= pr*reverseTwist &&
		pr >= second4(p[0:4], row)*relativePeak && pc >= second4(p[4:8], col-4)*relativePeak &&
		frac >= minFraction
	// The second harmonics cost a pass over the window: only for windows
	// that passed everything else (or when a test traces the measurements).
	var hr, hc float64
	if ok || d.trace != nil {
		x := d.window(win)
		hc = power(x, 2*float64(toneHz[col]), d.rate)
		ok = ok && hc <= pc*harmonicMax
		// The second harmonic of a low-group frequency can lie within a
		// filter's width of the high-group frequency of the same key (697 Hz
		// doubled is 58 Hz from 1336 Hz): there the check would only measure
		// the tone's own high frequency, so it is made only where the two
		// are 150 Hz apart or more.
		if abs(2*toneHz[row]-toneHz[col]) >= 150 {
			hr = power(x, 2*float64(toneHz[row]), d.rate)
			ok = ok && hr <= pr*harmonicMax
		}
	}
	sym := int8(-1)
	if ok {
		sym = int8(row*4 + col - 4)
	}
	if d.trace != nil {
		d.trace(windowMetrics{
			win: win, row: row, col: col - 4, sym: sym,
			rowDB: powerDB(pr), colDB: powerDB(pc), twistDB: ratioDB(pr, pc),
			rowPeak: ratioDB(pr, second4(p[0:4], row)), colPeak: ratioDB(pc, second4(p[4:8], col-4)),
			fraction: frac, rowHarm: ratioDB(pr, hr), colHarm: ratioDB(pc, hc),
		})
	}
	return sym
}

func ratioDB(a, b float64) float64 { return 10 * math.Log10(math.Max(a, 1e-9)/math.Max(b, 1e-9)) }

// window returns the samples of the window starting at sub-block win, in a
// buffer reused by the next call.
func (d *Detector) window(win int64) []float64 {
	x := d.win[:0]
	for m := win; m < win+blockSubs; m++ {
		for _, s := range d.hist[m%blockSubs].x {
			x = append(x, float64(s))
		}
	}
	d.win = x
	return x
}

func argmax4(p []float64) int {
	best := 0
	for i := 1; i < len(p); i++ {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

// second4 is the largest of p other than p[skip] (never zero, so that ratios
// stay finite).
func second4(p []float64, skip int) float64 {
	s := 1e-9
	for i, v := range p {
		if i != skip && v > s {
			s = v
		}
	}
	return s
}

// powerDB is the level in dBFS (peak of the sine) of a filter power.
func powerDB(p float64) float64 { return 10 * math.Log10(p/amplitudePower(0)) }
