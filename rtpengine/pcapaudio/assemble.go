package pcapaudio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/callguard/callguard/rtpengine/pcap"
)

// The format of the assembled audio: callguard's recording format.
const (
	SampleRate = 16000 // frames per second
	Channels   = 2     // left = officer, right = caller
	// BytesPerFrame is one frame of interleaved little-endian PCM16.
	BytesPerFrame = Channels * 2
)

// G.711 runs at 8 kHz; the output is upsampled by 2.
const (
	codecRate   = 8000
	nsPerSample = int64(time.Second) / codecRate
)

// Side is the party a stream of packets came from.
type Side int

// The two sides of a call; the zero value is "unknown".
const (
	SideUnknown Side = iota
	SideOfficer
	SideCaller
)

func (s Side) String() string {
	switch s {
	case SideOfficer:
		return "officer"
	case SideCaller:
		return "caller"
	}
	return "unknown"
}

// Sides says which side sent the packets that arrive at each of
// rtpengine's addresses (the destination of every recorded packet). Build
// it from rtpengine's query of the call (rtpengine.Call.ReceivesFrom with
// the officer's SIP tag) or from the stretch's Metadata.
type Sides map[netip.AddrPort]Side

// Source is one recorded stretch: one pcap file rtpengine wrote.
type Source struct {
	Name string // shown in errors and in the Assembly, e.g. the file name
	R    io.Reader
}

// Options say how to assemble a call.
type Options struct {
	Sides Sides // required
	// Origin is the instant of the recording's first frame, e.g. when the
	// call was answered on rtpengine's clock. Zero means the first packet
	// recorded. A packet recorded before Origin is an error.
	Origin time.Time
}

// Errors of Assemble.
var (
	ErrNoSides          = errors.New("pcapaudio: no sides given: cannot tell the officer from the caller")
	ErrUnknownAddress   = errors.New("pcapaudio: packets arrived at an address of neither side")
	ErrUnsupportedCodec = errors.New("pcapaudio: audio in a codec other than G.711")
	ErrBeforeOrigin     = errors.New("pcapaudio: audio recorded before the origin")
)

// Assembly is an assembled call, ready to be written out with WriteTo.
type Assembly struct {
	Origin time.Time // the instant of frame 0
	Frames int64     // 16 kHz stereo frames WriteTo writes
	// Stretches are the recorded stretches in time order; a source with
	// no audio is in Empty instead.
	Stretches []Stretch
	Empty     []string
	// Pauses are the gaps between stretches: every frame of both channels
	// in [StartMS, EndMS) is digital silence.
	Pauses           []Pause
	Officer, Caller  DirectionStats
	Ignored          int      // RTCP and non-RTP datagrams, skipped
	Truncated        []string // sources whose last record was cut short (the rest was used)
	channel          [Channels][]placed
	maxPacketSamples int64
}

// Stretch is one recorded stretch, in ms from the origin, end exclusive.
type Stretch struct {
	Source         string
	StartMS, EndMS int64
	Packets        int
}

// Pause is an interval with nothing recorded, in ms from the origin.
type Pause struct{ StartMS, EndMS int64 }

// DirectionStats count what happened to one side's packets.
type DirectionStats struct {
	Packets    int // audio packets placed
	Streams    int // RTP streams (SSRC per stretch)
	Lost       int // sequence numbers never seen inside a stream
	Duplicates int // packets seen twice
	Reordered  int // packets that arrived after a later one
	Resyncs    int // timestamp jumps that started a new anchor
	Events     int // comfort noise and DTMF events, not audio
}

// placed is one packet's audio at its place in the output.
type placed struct {
	at      int64 // first sample, in 8 kHz samples since the Unix epoch, then from the origin
	order   int   // reading order: where stretches overlap, the later read wins
	alaw    bool
	payload []byte
}

// packet is one recorded RTP packet before placement.
type packet struct {
	ns  int64 // capture time, ns since the Unix epoch
	rtp rtpHeader
}

// streamKey is one RTP stream of one stretch.
type streamKey struct {
	side Side
	ssrc uint32
}

// Anchoring parameters (see the package doc).
const (
	anchorPackets = 50
	jumpNs        = int64(200 * time.Millisecond)
	jumpPackets   = 3
	jumpAgreeNs   = int64(40 * time.Millisecond)
)

// Assemble reads the stretches of one call and places their audio. It
// holds the pcaps in memory, and about half as much again in bookkeeping
// (an hour of G.711 in both directions: 82 MB of pcap).
func Assemble(opts Options, sources ...Source) (*Assembly, error) {
	if len(opts.Sides) == 0 {
		return nil, ErrNoSides
	}
	a := &Assembly{}
	type span struct {
		name   string
		count  int
		placed [Channels][]placed
		lo, hi int64 // in 8 kHz samples since the Unix epoch
	}
	var spans []span
	first := int64(0)
	order := 0
	for _, src := range sources {
		streams, n, err := a.read(src, opts.Sides)
		if err != nil {
			return nil, err
		}
		sp := span{name: src.Name, count: n, lo: -1, hi: -1}
		keys := make([]streamKey, 0, len(streams))
		for k := range streams {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i].side < keys[j].side || keys[i].side == keys[j].side && keys[i].ssrc < keys[j].ssrc
		})
		for _, k := range keys {
			stats := a.stats(k.side)
			stats.Streams++
			ch := 0
			if k.side == SideCaller {
				ch = 1
			}
			for _, pl := range placeStream(streams[k], stats) {
				pl.order = order
				order++
				sp.placed[ch] = append(sp.placed[ch], pl)
				n := int64(len(pl.payload))
				a.maxPacketSamples = max(a.maxPacketSamples, n)
				if sp.lo < 0 || pl.at < sp.lo {
					sp.lo = pl.at
				}
				sp.hi = max(sp.hi, pl.at+n)
			}
		}
		if sp.lo < 0 {
			a.Empty = append(a.Empty, src.Name)
			continue
		}
		if first == 0 || sp.lo < first {
			first = sp.lo
		}
		spans = append(spans, sp)
	}
	origin := first
	if !opts.Origin.IsZero() {
		origin = roundDiv(opts.Origin.UnixNano(), nsPerSample)
		if len(spans) > 0 && first < origin {
			return nil, fmt.Errorf("%w: %v before it", ErrBeforeOrigin, time.Duration((origin-first)*nsPerSample))
		}
	}
	a.Origin = time.Unix(0, origin*nsPerSample)

	var stretches []sampleSpan
	var end int64
	for ch := range a.channel {
		total := 0
		for _, sp := range spans {
			total += len(sp.placed[ch])
		}
		a.channel[ch] = make([]placed, 0, total)
	}
	for _, sp := range spans {
		for ch := range sp.placed {
			for _, pl := range sp.placed[ch] {
				pl.at -= origin
				a.channel[ch] = append(a.channel[ch], pl)
			}
		}
		stretches = append(stretches, sampleSpan{source: sp.name, from: sp.lo - origin, to: sp.hi - origin, packets: sp.count})
		end = max(end, sp.hi-origin)
	}
	for ch := range a.channel {
		slices.SortStableFunc(a.channel[ch], func(x, y placed) int {
			if x.at != y.at {
				return cmpInt(x.at, y.at)
			}
			return cmpInt(int64(x.order), int64(y.order))
		})
	}
	a.Frames = 2 * end
	a.Stretches, a.Pauses = stretchesAndPauses(stretches)
	return a, nil
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// sampleSpan is a stretch in 8 kHz samples from the origin, end exclusive.
type sampleSpan struct {
	source   string
	from, to int64
	packets  int
}

// stretchesAndPauses puts the stretches in time order, in ms, and finds
// the gaps between them. A pause starts at the first ms boundary after the
// audio before it ends, and ends at the last one before the audio after it
// starts, so it is silent throughout.
func stretchesAndPauses(spans []sampleSpan) ([]Stretch, []Pause) {
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	var pauses []Pause
	covered := int64(-1)
	out := make([]Stretch, len(spans))
	for i, s := range spans {
		if covered >= 0 && s.from > covered {
			p := Pause{StartMS: ceilDiv(covered*1000, codecRate), EndMS: s.from * 1000 / codecRate}
			if p.EndMS > p.StartMS {
				pauses = append(pauses, p)
			}
		}
		covered = max(covered, s.to)
		out[i] = Stretch{Source: s.source, StartMS: s.from * 1000 / codecRate,
			EndMS: ceilDiv(s.to*1000, codecRate), Packets: s.packets}
	}
	return out, pauses
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func (a *Assembly) stats(s Side) *DirectionStats {
	if s == SideOfficer {
		return &a.Officer
	}
	return &a.Caller
}

// read collects the RTP packets of one source by stream. The packets'
// payloads alias the source's bytes, read whole.
func (a *Assembly) read(src Source, sides Sides) (map[streamKey][]packet, int, error) {
	data, err := readAll(src.R)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", src.Name, err)
	}
	r, err := pcap.Parse(data)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", src.Name, err)
	}
	streams := map[streamKey][]packet{}
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, pcap.ErrTruncated) {
			a.Truncated = append(a.Truncated, src.Name)
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", src.Name, err)
		}
		d, err := pcap.DecodeUDP(r.LinkType(), rec.Data)
		if errors.Is(err, pcap.ErrLinkType) {
			return nil, 0, fmt.Errorf("%s: %w", src.Name, err)
		}
		if err != nil || isRTCP(d.Payload) {
			a.Ignored++
			continue
		}
		h, err := parseRTP(d.Payload)
		if err != nil {
			a.Ignored++ // STUN, DTLS and the like share the port
			continue
		}
		side := sides[d.Dst]
		if side == SideUnknown {
			return nil, 0, fmt.Errorf("%w: %s: packets from %s to %s", ErrUnknownAddress, src.Name, d.Src, d.Dst)
		}
		switch {
		case h.pt == 0 || h.pt == 8:
		case h.pt == 13 || h.pt >= 96: // comfort noise; dynamic types carry DTMF events
			a.stats(side).Events++
			continue
		default:
			return nil, 0, fmt.Errorf("%w: %s: payload type %d from the %s", ErrUnsupportedCodec, src.Name, h.pt, side)
		}
		key := streamKey{side, h.ssrc}
		streams[key] = append(streams[key], packet{ns: rec.Time.UnixNano(), rtp: h})
		n++
	}
	return streams, n, nil
}

// readAll reads r whole, in one allocation when r knows its size (an
// *os.File, a *bytes.Reader).
func readAll(r io.Reader) ([]byte, error) {
	size := -1
	switch v := r.(type) {
	case interface{ Len() int }:
		size = v.Len()
	case interface{ Stat() (os.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			size = int(fi.Size())
		}
	}
	if size < 0 {
		return io.ReadAll(r)
	}
	var b bytes.Buffer
	b.Grow(size + bytes.MinRead)
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}

// placeStream places the packets of one RTP stream of one stretch, in
// capture order, by their timestamps against an anchor on the capture
// clock (see the package doc).
func placeStream(ps []packet, stats *DirectionStats) []placed {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].ns < ps[j].ns })
	ext := make([]int64, len(ps)) // timestamps unwrapped to 64 bits
	for i, p := range ps {
		if i == 0 {
			ext[i] = int64(p.rtp.ts)
			continue
		}
		ext[i] = ext[i-1] + int64(int32(p.rtp.ts-ps[i-1].rtp.ts))
	}
	// implied is the capture-clock time of a packet's first sample, if its
	// audio ended when it was captured.
	implied := func(i int) int64 { return ps[i].ns - int64(len(ps[i].rtp.payload))*nsPerSample }

	// Segments of packets that share an anchor.
	type segment struct{ from, to int } // ps[from:to]
	var segs []segment
	start := 0
	anchorNs, anchorTS := implied(0), ext[0]
	refine := func(i, segStart int) {
		if i-segStart < anchorPackets {
			if t := implied(i) - (ext[i]-anchorTS)*nsPerSample; t < anchorNs {
				anchorNs = t
			}
		}
	}
	var cand []int
	for i := 1; i < len(ps); i++ {
		predicted := anchorNs + (ext[i]-anchorTS)*nsPerSample
		diff := implied(i) - predicted
		if diff > jumpNs || diff < -jumpNs {
			if len(cand) > 0 {
				j := cand[0]
				shift := (implied(i) - implied(j)) - (ext[i]-ext[j])*nsPerSample
				if shift > jumpAgreeNs || shift < -jumpAgreeNs {
					cand = cand[:0]
				}
			}
			cand = append(cand, i)
			if len(cand) < jumpPackets {
				continue
			}
			j := cand[0]
			segs = append(segs, segment{start, j})
			stats.Resyncs++
			start, anchorNs, anchorTS = j, implied(j), ext[j]
			for _, k := range cand {
				refine(k, start)
			}
			cand = cand[:0]
			continue
		}
		cand = cand[:0]
		refine(i, start)
	}
	if len(cand) > 0 { // a jump in the stream's last packets
		segs = append(segs, segment{start, cand[0]})
		stats.Resyncs++
		start = cand[0]
	}
	segs = append(segs, segment{start, len(ps)})

	out := make([]placed, 0, len(ps))
	for _, sg := range segs {
		// The anchor of each segment: its least-delayed packet among the first.
		aNs, aTS := implied(sg.from), ext[sg.from]
		for i := sg.from; i < sg.to && i < sg.from+anchorPackets; i++ {
			if t := implied(i) - (ext[i]-aTS)*nsPerSample; t < aNs {
				aNs = t
			}
		}
		base := roundDiv(aNs, nsPerSample)
		dup := duplicates(ext[sg.from:sg.to])
		maxTS := int64(-1 << 62)
		for i := sg.from; i < sg.to; i++ {
			if dup[i-sg.from] {
				stats.Duplicates++
				continue
			}
			if ext[i] < maxTS {
				stats.Reordered++
			}
			maxTS = max(maxTS, ext[i])
			out = append(out, placed{at: base + ext[i] - aTS, alaw: ps[i].rtp.pt == 8, payload: ps[i].rtp.payload})
		}
		stats.Lost += lostInSegment(ps[sg.from:sg.to])
	}
	stats.Packets += len(out)
	return out
}

// duplicates marks the packets whose timestamp an earlier-arriving packet
// of the segment already had.
func duplicates(ext []int64) []bool {
	idx := make([]int32, len(ext))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return cmpInt(ext[a], ext[b]) })
	dup := make([]bool, len(ext))
	for k := 1; k < len(idx); k++ {
		if ext[idx[k]] == ext[idx[k-1]] {
			dup[idx[k]] = true
		}
	}
	return dup
}

// lostInSegment counts sequence numbers missing between a segment's
// lowest and highest.
func lostInSegment(ps []packet) int {
	if len(ps) == 0 {
		return 0
	}
	seqs := make([]int64, len(ps))
	for i := 1; i < len(ps); i++ {
		seqs[i] = seqs[i-1] + int64(int16(ps[i].rtp.seq-ps[i-1].rtp.seq))
	}
	slices.Sort(seqs)
	span := seqs[len(seqs)-1] - seqs[0] + 1
	return int(span - int64(len(slices.Compact(seqs))))
}

func roundDiv(a, b int64) int64 {
	if a < 0 {
		return -((-a + b/2) / b)
	}
	return (a + b/2) / b
}
