package oggopus

import (
	"fmt"
	"io"
)

// piece is the part of one packet that one page carries.
type piece struct {
	data   []byte
	lacing []byte // the lacing values that carry data
	first  bool   // the packet begins on this page
	last   bool   // the packet ends on this page
	// start and samples time the packet the piece belongs to: the granule
	// position of its first sample and its duration, both at 48 kHz.
	start   int64
	samples int
}

// openPacket is a packet begun on an earlier page and not yet ended.
type openPacket struct {
	start   int64
	samples int
	size    int
}

// demux walks the pages of one Ogg Opus stream in order: it checks that
// none is missing, altered or out of place, splits each page into packet
// pieces and times every packet from its TOC byte, checking the times
// against the pages' granule positions. Reader and Redact are built on it.
type demux struct {
	pr     *PageReader
	serial uint32
	next   uint32 // sequence number of the next page
	head   Head
	tags   Tags

	audio  bool        // the first audio page has been read
	pos    int64       // granule at the end of the last packet begun
	ended  int64       // granule at the end of the last packet ended
	open   *openPacket // a packet that continues on the next page
	eos    bool        // the end-of-stream page has been read
	trim   int         // samples the last page cuts from the end of its packets
	pieces []piece
}

func newDemux(r io.Reader) *demux { return &demux{pr: NewPageReader(r)} }

// readHeaders reads the OpusHead and OpusTags pages, handing each to
// onPage (which may be nil).
func (d *demux) readHeaders(onPage func(*Page) error) error {
	p, err := d.pr.Next()
	if err != nil {
		return d.endErr(err, "OpusHead")
	}
	if !p.BOS {
		return fmt.Errorf("%w: the first page does not begin a stream", ErrCorrupt)
	}
	if p.Sequence != 0 || p.Continued || len(p.Lacing) == 0 || packetEnd(p.Lacing) != len(p.Lacing) {
		return fmt.Errorf("%w: the first page must hold the OpusHead and nothing else", ErrCorrupt)
	}
	if p.Lacing[len(p.Lacing)-1] == maxLacingValue {
		return fmt.Errorf("%w: the OpusHead does not end on the first page", ErrCorrupt)
	}
	if p.Granule != 0 {
		return fmt.Errorf("%w: the OpusHead page has granule position %d, not 0", ErrCorrupt, p.Granule)
	}
	if d.head, err = ParseHead(p.Body); err != nil {
		return err
	}
	d.serial, d.next = p.Serial, 1
	if onPage != nil {
		if err := onPage(p); err != nil {
			return err
		}
	}
	// The tags may span pages; the page they end on holds nothing else.
	var tags []byte
	for {
		p, err := d.pr.Next()
		if err != nil {
			return d.endErr(err, "OpusTags")
		}
		if err := d.check(p); err != nil {
			return err
		}
		if p.Continued != (tags != nil) {
			return fmt.Errorf("%w: page %d breaks the OpusTags", ErrCorrupt, p.Sequence)
		}
		end := packetEnd(p.Lacing)
		if end < len(p.Lacing) {
			return fmt.Errorf("%w: audio begins on the page that ends the OpusTags", ErrCorrupt)
		}
		if len(tags)+len(p.Body) > maxPacket {
			return fmt.Errorf("%w: OpusTags larger than %d bytes", ErrUnsupported, maxPacket)
		}
		tags = append(tags, p.Body...)
		done := end > 0 && p.Lacing[end-1] < maxLacingValue
		if p.Granule != 0 && (done || p.Granule != -1) {
			return fmt.Errorf("%w: the OpusTags page has granule position %d, not 0", ErrCorrupt, p.Granule)
		}
		if p.EOS {
			return fmt.Errorf("%w: the stream ends in its headers", ErrCorrupt)
		}
		if onPage != nil {
			if err := onPage(p); err != nil {
				return err
			}
		}
		if done {
			break
		}
	}
	if d.tags, err = ParseTags(tags); err != nil {
		return err
	}
	return nil
}

// check checks that p is the next page of this stream.
func (d *demux) check(p *Page) error {
	if p.Serial != d.serial {
		if p.BOS {
			return fmt.Errorf("%w: several logical streams (multiplexed or chained)", ErrUnsupported)
		}
		return fmt.Errorf("%w: page %d belongs to another stream", ErrCorrupt, p.Sequence)
	}
	if p.BOS {
		return fmt.Errorf("%w: page %d begins the stream again", ErrCorrupt, p.Sequence)
	}
	if p.Sequence != d.next {
		return fmt.Errorf("%w: page %d follows page %d (pages are missing or out of order)", ErrCorrupt, p.Sequence, d.next-1)
	}
	d.next++
	return nil
}

// endErr says what an end of input means while reading what.
func (d *demux) endErr(err error, what string) error {
	if err == io.EOF {
		return fmt.Errorf("%w: the stream ends before its %s", ErrTruncated, what)
	}
	return err
}

// nextPage reads the next audio page and returns it with its pieces, timed.
// After the end-of-stream page it returns io.EOF; when the input ends
// without one it returns ErrTruncated.
func (d *demux) nextPage() (*Page, []piece, error) {
	if d.eos {
		end, err := d.pr.atEnd()
		if err != nil {
			return nil, nil, err
		}
		if !end {
			return nil, nil, fmt.Errorf("%w: data after the end of the stream (byte %d)", ErrCorrupt, d.pr.Offset())
		}
		return nil, nil, io.EOF
	}
	p, err := d.pr.Next()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("%w: it ends after byte %d without its last page", ErrTruncated, d.pr.Offset())
	}
	if err != nil {
		return nil, nil, err
	}
	if err := d.check(p); err != nil {
		return nil, nil, err
	}
	if p.Continued != (d.open != nil) && len(p.Lacing) > 0 {
		if d.open != nil {
			return nil, nil, fmt.Errorf("%w: page %d does not continue the packet begun before it", ErrCorrupt, p.Sequence)
		}
		return nil, nil, fmt.Errorf("%w: page %d continues a packet that was never begun", ErrCorrupt, p.Sequence)
	}
	if err := d.split(p); err != nil {
		return nil, nil, err
	}
	if err := d.time(p); err != nil {
		return nil, nil, err
	}
	if p.EOS {
		if d.open != nil {
			return nil, nil, fmt.Errorf("%w: the last page leaves a packet unfinished", ErrCorrupt)
		}
		d.eos = true
	}
	return p, d.pieces, nil
}

// split cuts p into pieces and sizes the packets that begin on it.
func (d *demux) split(p *Page) error {
	d.pieces = d.pieces[:0]
	off, seg := 0, 0
	first := d.open == nil
	for seg < len(p.Lacing) {
		n, end := 0, seg
		for end < len(p.Lacing) {
			v := p.Lacing[end]
			n += int(v)
			end++
			if v < maxLacingValue {
				break
			}
		}
		pc := piece{
			data:   p.Body[off : off+n],
			lacing: p.Lacing[seg:end],
			first:  first,
			last:   p.Lacing[end-1] < maxLacingValue,
		}
		if pc.first {
			s, err := PacketSamples(pc.data)
			if err != nil {
				return fmt.Errorf("page %d: %w", p.Sequence, err)
			}
			pc.samples = s
		}
		d.pieces = append(d.pieces, pc)
		off, seg, first = off+n, end, true
	}
	return nil
}

// time gives each piece its packet's time and checks the page's granule
// position against the packets that end on it.
func (d *demux) time(p *Page) error {
	if !d.audio {
		// The first audio page sets where the stream starts: its granule
		// position less the packets that end on it (RFC 7845 section 4).
		d.audio = true
		var done int64
		ends := false
		for _, pc := range d.pieces {
			if pc.last {
				done += int64(pc.samples)
				ends = true
			}
		}
		if ends {
			start := p.Granule - done
			if start < 0 {
				if !p.EOS {
					return fmt.Errorf("%w: the first audio page's granule position %d is before its packets' start", ErrCorrupt, p.Granule)
				}
				start = 0 // a stream shorter than its packets: end trimming
			}
			d.pos, d.ended = start, start
		}
	}
	before, ends := d.ended, false
	for i := range d.pieces {
		pc := &d.pieces[i]
		if pc.first {
			pc.start = d.pos
			d.pos += int64(pc.samples)
		} else {
			pc.start, pc.samples = d.open.start, d.open.samples
		}
		if pc.last {
			d.ended = pc.start + int64(pc.samples)
			d.open = nil
			ends = true
			continue
		}
		if d.open == nil {
			d.open = &openPacket{start: pc.start, samples: pc.samples}
		}
		d.open.size += len(pc.data)
		if d.open.size > maxPacket {
			return fmt.Errorf("%w: a packet larger than %d bytes", ErrUnsupported, maxPacket)
		}
	}
	switch {
	case !ends && (p.Granule == -1 || len(p.Lacing) == 0 && p.Granule == d.ended):
	case !ends:
		return fmt.Errorf("%w: page %d ends no packet but has granule position %d", ErrCorrupt, p.Sequence, p.Granule)
	case p.Granule == d.ended:
	case p.EOS && p.Granule < d.ended && p.Granule >= before:
		d.trim = int(d.ended - p.Granule)
	default:
		return fmt.Errorf("%w: page %d has granule position %d where its packets end at %d", ErrCorrupt, p.Sequence, p.Granule, d.ended)
	}
	return nil
}

// packetEnd returns how many of the lacing values belong to the first
// packet: up to and including the first value below 255, or all of them
// when the packet goes on to the next page.
func packetEnd(lacing []byte) int {
	for i, v := range lacing {
		if v < maxLacingValue {
			return i + 1
		}
	}
	return len(lacing)
}
