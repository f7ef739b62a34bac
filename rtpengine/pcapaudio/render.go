package pcapaudio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/callguard/callguard/rtpengine/g711"
)

// Upsampling from 8 to 16 kHz: every input sample is kept as an even
// output sample, and each odd one is interpolated by a half-band low-pass
// FIR (a Kaiser-windowed sinc, 2*halfTaps taps), which removes the image
// of the 0-4 kHz speech band that repeating or zero-stuffing would leave
// at 4-8 kHz. Samples where nothing was recorded count as 0, and output
// is written only where a packet was placed, so silence stays exactly 0.
const halfTaps = 8

// taps are the odd-phase coefficients in Q15: out = sum(taps[k] *
// (x[n-k] + x[n+1+k])) >> 15.
var taps = func() [halfTaps]int32 {
	const beta = 6.0
	var h [halfTaps]float64
	sum := 0.0
	for k := range halfTaps {
		x := float64(k) + 0.5
		sinc := math.Sin(math.Pi*x) / (math.Pi * x)
		r := x / (float64(halfTaps) + 0.5)
		h[k] = sinc * bessel0(beta*math.Sqrt(1-r*r)) / bessel0(beta)
		sum += 2 * h[k]
	}
	var q [halfTaps]int32
	for k := range h {
		q[k] = int32(math.Round(h[k] / sum * (1 << 15)))
	}
	return q
}()

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
	}
	return sum
}

// chunk is how many 8 kHz samples WriteTo renders at a time (1 s).
const chunk = codecRate

// WriteTo writes the assembly's audio to w: Frames frames of little-endian
// PCM16, officer left, caller right, 16 kHz. It implements io.WriterTo.
func (a *Assembly) WriteTo(w io.Writer) (int64, error) {
	var written int64
	total := a.Frames / 2 // in 8 kHz samples
	type cursor struct{ next int }
	var cur [Channels]cursor
	x := make([]int16, chunk+2*halfTaps)
	have := make([]bool, chunk+2*halfTaps)
	var out [Channels][]int16
	for ch := range out {
		out[ch] = make([]int16, 2*chunk)
	}
	buf := make([]byte, 2*chunk*BytesPerFrame)
	for c0 := int64(0); c0 < total; c0 += chunk {
		n := min(chunk, total-c0)
		lo, hi := c0-halfTaps, c0+n+halfTaps // the window with the filter's margin
		for ch := range Channels {
			clear(x)
			clear(have)
			pkts := a.channel[ch]
			// Skip packets that end before the window; packets are sorted by
			// start, so none before cur.next can reach it any more.
			for cur[ch].next < len(pkts) && pkts[cur[ch].next].at+a.maxPacketSamples <= lo {
				cur[ch].next++
			}
			for i := cur[ch].next; i < len(pkts) && pkts[i].at < hi; i++ {
				p := pkts[i]
				from, to := max(p.at, lo), min(p.at+int64(len(p.payload)), hi)
				for s := from; s < to; s++ {
					b := p.payload[s-p.at]
					if p.alaw {
						x[s-lo] = g711.DecodeALaw(b)
					} else {
						x[s-lo] = g711.DecodeULaw(b)
					}
					have[s-lo] = true
				}
			}
			o := out[ch][:2*n]
			for i := range int(n) {
				j := i + halfTaps
				if !have[j] {
					o[2*i], o[2*i+1] = 0, 0
					continue
				}
				o[2*i] = x[j]
				var acc int32
				for k := range halfTaps {
					acc += taps[k] * (int32(x[j-k]) + int32(x[j+1+k]))
				}
				o[2*i+1] = clamp16((acc + 1<<14) >> 15)
			}
		}
		b := buf[:2*n*BytesPerFrame]
		for i := range int(2 * n) {
			binary.LittleEndian.PutUint16(b[4*i:], uint16(out[0][i]))
			binary.LittleEndian.PutUint16(b[4*i+2:], uint16(out[1][i]))
		}
		m, err := w.Write(b)
		written += int64(m)
		if err != nil {
			return written, fmt.Errorf("pcapaudio: write: %w", err)
		}
	}
	return written, nil
}

func clamp16(v int32) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}
