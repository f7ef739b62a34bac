package oggopus

import (
	"fmt"
	"io"
	"time"
)

// Packet is one Opus audio packet of a stream, with its time.
type Packet struct {
	// Data is the packet; it stays valid until the next call to Next.
	Data []byte
	// Start is the position of the packet's first sample in the decoded
	// audio, in 48 kHz samples after the pre-skip: negative for the
	// packets (normally one) the pre-skip discards.
	Start int64
	// Samples is the packet's duration in 48 kHz samples.
	Samples int
	// Trim is how many samples at the end of the packet a decoder
	// discards: nonzero only on the last packet of a stream whose end is
	// trimmed (RFC 7845 section 4.4).
	Trim int
}

// Time is the packet's start in the decoded audio.
func (p Packet) Time() time.Duration { return samplesDuration(p.Start) }

// Duration is how long the packet plays.
func (p Packet) Duration() time.Duration { return samplesDuration(p.Samples) }

// Reader reads the packets of an Ogg Opus stream, in order, with their time.
type Reader struct {
	d     *demux
	queue []Packet // the packets that end on the last page read
	qi    int      // the next of them to hand out
	// Packets that span pages are gathered into carry; once complete they
	// move to done, so a packet handed out stays valid while the next one
	// is gathered.
	carry, done []byte
	err         error
}

// NewReader reads the stream's headers from r and returns a reader of its
// packets. The input may be cut short (ErrTruncated): every packet on a
// complete page is still read.
func NewReader(r io.Reader) (*Reader, error) {
	d := newDemux(r)
	if err := d.readHeaders(nil); err != nil {
		return nil, fmt.Errorf("read Ogg Opus headers: %w", err)
	}
	return &Reader{d: d}, nil
}

// Head is the stream's identification header.
func (r *Reader) Head() Head { return r.d.head }

// Tags is the stream's comment header.
func (r *Reader) Tags() Tags { return r.d.tags }

// Next returns the next audio packet. At the end of a complete stream it
// returns io.EOF. A stream cut short ends in ErrTruncated instead, after
// every packet of its complete pages; a damaged one in ErrCorrupt.
func (r *Reader) Next() (Packet, error) {
	for r.qi == len(r.queue) {
		if r.err != nil {
			return Packet{}, r.err
		}
		if err := r.readPage(); err != nil {
			r.err = err
		}
	}
	r.qi++
	return r.queue[r.qi-1], nil
}

// readPage queues the packets that end on the next page.
func (r *Reader) readPage() error {
	p, pieces, err := r.d.nextPage()
	if err != nil {
		return err
	}
	r.queue, r.qi = r.queue[:0], 0
	for _, pc := range pieces {
		data := pc.data
		if !pc.first || !pc.last {
			if pc.first {
				r.carry = r.carry[:0]
			}
			r.carry = append(r.carry, pc.data...)
			if !pc.last {
				continue
			}
			data = r.carry
			r.carry, r.done = r.done, r.carry
		}
		r.queue = append(r.queue, Packet{
			Data:    data,
			Start:   pc.start - int64(r.d.head.PreSkip),
			Samples: pc.samples,
		})
	}
	if r.d.trim > 0 && p.EOS && len(r.queue) > 0 {
		// The trim may reach back past the last packet when it is short.
		trim := r.d.trim
		for i := len(r.queue) - 1; i >= 0 && trim > 0; i-- {
			t := min(trim, r.queue[i].Samples)
			r.queue[i].Trim = t
			trim -= t
		}
	}
	return nil
}
