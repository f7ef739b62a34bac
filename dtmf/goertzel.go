package dtmf

import "math"

// toneHz are the eight DTMF frequencies of ITU-T Q.23: the low group (keypad
// rows) and then the high group (keypad columns).
var toneHz = [8]int64{697, 770, 852, 941, 1209, 1336, 1477, 1633}

// maxSubBlock is the longest sub-block: 4 ms at 16 kHz.
const maxSubBlock = 64

// probes are the filters per DTMF frequency: at the frequency and 1 % either
// side of it. Q.24 allows tones 1.5 % off; a 16 ms filter would lose up to
// 2.3 dB on such a tone (at 1633 Hz), which would upset the twist and the
// energy checks. The strongest of the three loses at most 0.3 dB.
const probes = 3

// probeHz are the frequencies of the filters: probes per DTMF frequency, in
// toneHz order, each rounded to a whole hertz (see phasor).
var probeHz = func() (hz [8 * probes]int64) {
	for k, f := range toneHz {
		d := (f + 50) / 100
		hz[probes*k], hz[probes*k+1], hz[probes*k+2] = f-d, f, f+d
	}
	return hz
}()

// goertzel is the bank of Goertzel filters at probeHz. run gives each filter's
// DFT coefficient over one sub-block with its phase referred to the stream's
// first sample, so that the coefficients of consecutive sub-blocks add up to
// the coefficient of the longer block they make: the detector slides a 16 ms
// window in 4 ms steps for the cost of one pass over each sample.
type goertzel struct {
	rate   int64
	coef   [8 * probes]float64 // 2 cos ω
	cw, sw [8 * probes]float64 // cos ω, sin ω
}

func newGoertzel(rate int) goertzel {
	g := goertzel{rate: int64(rate)}
	for k, hz := range probeHz {
		w := 2 * math.Pi * float64(hz) / float64(rate)
		g.coef[k], g.cw[k], g.sw[k] = 2*math.Cos(w), math.Cos(w), math.Sin(w)
	}
	return g
}

// run filters x, the samples from stream position n0 on, into sb's
// coefficients, sums sb's energy, and reports whether x is digital silence.
func (g *goertzel) run(x []int16, n0 int64, sb *subBlock) (zero bool) {
	last := n0 + int64(len(x)) - 1
	// The samples go into a local array, which the race detector does not
	// watch: that keeps the tests under -race fast.
	var buf [maxSubBlock]float64
	n := len(x)
	var sum, sq float64
	nonzero := 0
	for i, s := range x {
		v := float64(s)
		buf[i] = v
		sum += v
		sq += v * v
		nonzero |= int(s)
	}
	sb.sum, sb.sq = sum, sq
	// Four filters per pass: each recurrence depends on its previous sample,
	// so interleaving independent ones keeps the FPU busy.
	for k := 0; k < len(sb.c); k += 4 {
		c0, c1, c2, c3 := g.coef[k], g.coef[k+1], g.coef[k+2], g.coef[k+3]
		var a1, a2, b1, b2, e1, e2, f1, f2 float64
		for i := 0; i < n; i++ {
			v := buf[i]
			a1, a2 = v+c0*a1-a2, a1
			b1, b2 = v+c1*b1-b2, b1
			e1, e2 = v+c2*e1-e2, e1
			f1, f2 = v+c3*f1-f2, f1
		}
		s := [4][2]float64{{a1, a2}, {b1, b2}, {e1, e2}, {f1, f2}}
		for i, st := range s {
			j := k + i
			// s1 - e^{-iω} s2 is Σ x[n] e^{iω(last-n)}; turning it by
			// e^{-iω·last} refers its phase to sample 0 of the stream.
			y := complex(st[0]-g.cw[j]*st[1], g.sw[j]*st[1])
			sb.c[j] = y * g.phasor(probeHz[j], last)
		}
	}
	return nonzero == 0
}

// phasor is e^{-iωn} for the integer frequency hz, computed from n modulo the
// sample rate so that it is exact however long the stream runs.
func (g *goertzel) phasor(hz, n int64) complex128 {
	idx := hz * (n % g.rate) % g.rate
	s, c := math.Sincos(-2 * math.Pi * float64(idx) / float64(g.rate))
	return complex(c, s)
}

// power is the Goertzel power at frequency hz over x (one-shot, for the
// second-harmonic check), scaled like blockPower.
func power(x []float64, hz float64, rate int) float64 {
	w := 2 * math.Pi * hz / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+c*s1-s2, s1
	}
	n := float64(len(x))
	return (s1*s1 + s2*s2 - c*s1*s2) * 4 / (n * n)
}
