package oggopus

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Interval is a stretch of the decoded audio in milliseconds from its
// first sample: [FromMS, ToMS).
type Interval struct {
	FromMS int64 `json:"from_ms"`
	ToMS   int64 `json:"to_ms"`
}

// ErrBadInterval: an interval to redact is empty, negative or reversed.
var ErrBadInterval = errors.New("interval to redact is not valid")

// afterCut is how many packets after a cut Redact replaces too. The packet
// right after a cut is coded as the difference from a prediction out of
// the audio before it: played after silence, it sounds the cut's last
// pitch periods back, loud. The next one still owes the cut several dB
// more than in the original. Measured on speech through libopus
// (recorder/opus TestRedactionLeavesNothingOfTheCutBesideIt): the audio
// after the silence depends on what was said in the cut 16 to 38 dB more
// than the original recording's does with no packet after it replaced
// (a burst at -2 dBFS), 12 to 14 dB more with one, at most 3 dB with two.
const afterCut = 2

// RedactResult describes a redacted stream.
type RedactResult struct {
	// Packets is how many audio packets the stream holds.
	Packets int
	// Replaced is how many of them are now silence packets.
	Replaced int
	// Silenced lists the stretches that are now silence, in whole packets
	// (rounded outwards to the millisecond), merged and in order. Each
	// covers a cut given, the packet before it when that one heard it
	// through the encoder's look-ahead, and the two packets after it (see
	// Redact).
	Silenced []Interval
	// DurationMS is how long the stream plays.
	DurationMS int64
	// Complete is false when the source was cut short (a crashed
	// recording): the output then holds every complete page of it and, like
	// it, no end-of-stream page.
	Complete bool
}

// Redact copies the Ogg Opus stream from src to dst with every interval in
// cuts silenced, without decoding: each packet whose audio overlaps a cut
// is replaced by a packet of the same duration that decodes to digital
// silence. Packets beside each cut go too, because the codec ties them to
// it: the one before, when the encoder's look-ahead (the stream's pre-skip)
// reached into the cut, and the two after, which are coded as predictions
// from the audio before them (afterCut). Every other packet, the headers
// included, is copied byte for byte, on the same pages with the same
// granule positions; the pages get new checksums, and a page that held
// only part of a replaced packet is left out (the pages after are
// renumbered).
//
// silence is the replacement: one Opus frame that decodes to silence at the
// stream's configuration, as the recorder's encoder made it (its manifest
// carries it), repeated for longer packets. With nil, or for a packet it
// cannot fill, Redact uses CELT silence frames, which every decoder renders
// as zeros (CELTSilence).
//
// It streams page by page in constant memory. A source cut short is
// redacted up to its last complete page (RedactResult.Complete is false).
// Cuts past the end silence nothing.
func Redact(dst io.Writer, src io.Reader, cuts []Interval, silence []byte) (RedactResult, error) {
	res := RedactResult{Complete: true}
	spans, err := sampleSpans(cuts)
	if err != nil {
		return res, err
	}
	d := newDemux(src)
	var out []byte
	var seq uint32
	write := func(p *Page) error {
		p.Sequence = seq
		out = p.AppendTo(out[:0])
		if _, err := dst.Write(out); err != nil {
			return fmt.Errorf("redact: write page %d: %w", seq, err)
		}
		seq++
		return nil
	}
	if err := d.readHeaders(write); err != nil {
		return res, fmt.Errorf("redact: %w", err)
	}
	sil, err := newSilencer(silence, d.head)
	if err != nil {
		return res, fmt.Errorf("redact: %w", err)
	}
	r := &redaction{spans: spans, lookahead: int64(d.head.PreSkip), silence: sil, res: &res,
		lacing: make([]byte, 0, maxSegments), body: make([]byte, 0, maxSegments*maxLacingValue)}
	var end int64
	for {
		p, pieces, err := d.nextPage()
		if err == io.EOF {
			break
		}
		if errors.Is(err, ErrTruncated) {
			res.Complete = false
			break
		}
		if err != nil {
			return res, fmt.Errorf("redact: %w", err)
		}
		out, err := r.rewrite(p, pieces)
		if err != nil {
			return res, fmt.Errorf("redact: page %d: %w", p.Sequence, err)
		}
		if out == nil {
			continue // it held only part of a replaced packet
		}
		if err := write(out); err != nil {
			return res, err
		}
		if p.Granule >= 0 {
			end = p.Granule
		}
	}
	res.DurationMS = max(0, end-int64(d.head.PreSkip)) * 1000 / SampleRate
	return res, nil
}

// redaction rewrites the audio pages of one stream.
type redaction struct {
	spans     [][2]int64 // the cuts, in 48 kHz samples
	lookahead int64      // the encoder's, in 48 kHz samples: the pre-skip
	silence   *silencer
	res       *RedactResult

	replacing bool // the packet in progress is being replaced
	after     int  // packets still to replace after a cut
	page      Page
	lacing    []byte
	body      []byte
}

// rewrite returns page p with the packets to silence replaced, or nil when
// nothing is left of it.
func (r *redaction) rewrite(p *Page, pieces []piece) (*Page, error) {
	r.lacing, r.body = r.lacing[:0], r.body[:0]
	continued := false
	for _, pc := range pieces {
		if pc.first {
			r.replacing = r.replaces(pc)
		}
		switch {
		case r.replacing && pc.last:
			// The silence goes where the packet ends.
			s, err := r.silence.packet(pc.samples)
			if err != nil {
				return nil, err
			}
			r.lacing = append(r.lacing, byte(len(s)))
			r.body = append(r.body, s...)
		case r.replacing:
		default:
			if len(r.lacing) == 0 && !pc.first {
				continued = true
			}
			r.lacing = append(r.lacing, pc.lacing...)
			r.body = append(r.body, pc.data...)
		}
	}
	if len(r.lacing) == 0 && len(p.Lacing) > 0 && !p.EOS {
		return nil, nil
	}
	r.page = Page{Continued: continued, EOS: p.EOS, Granule: p.Granule, Serial: p.Serial, Lacing: r.lacing, Body: r.body}
	return &r.page, nil
}

// replaces decides whether the packet that begins with pc is replaced, and
// counts it.
func (r *redaction) replaces(pc piece) bool {
	r.res.Packets++
	// The packet plays [from, to) and was coded from the input up to its
	// end plus the encoder's look-ahead.
	from := pc.start - r.lookahead
	to := from + int64(pc.samples)
	replace := false
	switch {
	case overlap(r.spans, from, to+r.lookahead):
		replace, r.after = true, afterCut
	case r.after > 0:
		replace = true
		r.after--
	}
	if replace {
		r.res.Replaced++
		r.res.Silenced = addSpan(r.res.Silenced, from, to)
	}
	return replace
}

// maxMS bounds the times of a cut (about 35 years, past the end of any
// recording), so that they convert to samples without overflow.
const maxMS = 1 << 40

// sampleSpans turns cuts into sorted, merged spans of 48 kHz samples.
func sampleSpans(cuts []Interval) ([][2]int64, error) {
	spans := make([][2]int64, 0, len(cuts))
	for _, c := range cuts {
		if c.FromMS < 0 || c.ToMS <= c.FromMS {
			return nil, fmt.Errorf("redact %d–%d ms: %w", c.FromMS, c.ToMS, ErrBadInterval)
		}
		from, to := min(c.FromMS, maxMS), min(c.ToMS, maxMS)
		spans = append(spans, [2]int64{from * SampleRate / 1000, to * SampleRate / 1000})
	}
	slices.SortFunc(spans, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	merged := spans[:0]
	for _, s := range spans {
		if n := len(merged); n > 0 && s[0] <= merged[n-1][1] {
			merged[n-1][1] = max(merged[n-1][1], s[1])
			continue
		}
		merged = append(merged, s)
	}
	return merged, nil
}

// overlap reports whether [from, to) meets any of the sorted spans.
func overlap(spans [][2]int64, from, to int64) bool {
	i, _ := slices.BinarySearchFunc(spans, from, func(s [2]int64, t int64) int {
		switch {
		case s[1] <= t:
			return -1
		default:
			return 1
		}
	})
	return i < len(spans) && spans[i][0] < to
}

// addSpan adds the packet [from, to) (48 kHz samples) to the silenced
// stretches, in milliseconds rounded outwards.
func addSpan(ivs []Interval, from, to int64) []Interval {
	f := max(0, from) * 1000 / SampleRate
	t := (max(0, to)*1000 + SampleRate - 1) / SampleRate
	if t <= f {
		return ivs
	}
	if n := len(ivs); n > 0 && f <= ivs[n-1].ToMS {
		ivs[n-1].ToMS = max(ivs[n-1].ToMS, t)
		return ivs
	}
	return append(ivs, Interval{FromMS: f, ToMS: t})
}
