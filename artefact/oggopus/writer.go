package oggopus

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// ErrClosed: the Writer was closed.
var ErrClosed = errors.New("oggopus: writer closed")

// DefaultPageDuration is how much audio a Writer puts on a page before it
// ends the page by itself: a second, so a stream cut short loses at most
// about a second even if nobody calls Flush, for about 0.1 % of overhead at
// 24 kbit/s.
const DefaultPageDuration = time.Second

// Writer frames Opus packets into an Ogg Opus stream: the OpusHead and
// OpusTags pages, then the audio on pages of about a second, each written
// to the destination with a single Write as soon as it is complete.
type Writer struct {
	w        io.Writer
	serial   uint32
	seq      uint32
	maxPage  int // samples on a page after which it is ended
	onPage   int // samples of the packets that end on the page in progress
	page     Page
	ends     bool  // a packet ends on the page in progress
	pos      int64 // granule at the end of the last packet
	trim     int
	out      []byte
	err      error
	closed   bool
	channels int
}

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WithSerial sets the stream's serial number (random by default).
func WithSerial(serial uint32) WriterOption { return func(w *Writer) { w.serial = serial } }

// WithPageDuration sets how much audio a page holds at most before the
// Writer ends it (DefaultPageDuration). Flush ends a page sooner.
func WithPageDuration(d time.Duration) WriterOption {
	return func(w *Writer) { w.maxPage = max(1, int(d*SampleRate/time.Second)) }
}

// NewWriter starts an Ogg Opus stream on w and writes its two header pages.
func NewWriter(w io.Writer, head Head, tags Tags, opts ...WriterOption) (*Writer, error) {
	if head.Channels != 1 && head.Channels != 2 {
		return nil, fmt.Errorf("oggopus: %d channels (1 or 2)", head.Channels)
	}
	if head.PreSkip < 0 || head.PreSkip > 0xffff {
		return nil, fmt.Errorf("oggopus: pre-skip %d out of range", head.PreSkip)
	}
	ow := &Writer{w: w, serial: rand.Uint32(), maxPage: int(DefaultPageDuration * SampleRate / time.Second), channels: head.Channels}
	for _, o := range opts {
		o(ow)
	}
	ow.page = Page{Serial: ow.serial, Granule: -1}
	ow.page.BOS = true
	if err := ow.add(head.Marshal(), 0); err != nil {
		return nil, err
	}
	if err := ow.Flush(); err != nil {
		return nil, err
	}
	if err := ow.add(tags.Marshal(), 0); err != nil {
		return nil, err
	}
	if err := ow.Flush(); err != nil {
		return nil, err
	}
	return ow, nil
}

// WritePacket adds an Opus packet to the stream, after the packets before
// it. It waits in memory on the page in progress, which is written out when
// the next packet would take it past the page duration, or by Flush.
func (w *Writer) WritePacket(p []byte) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	samples, err := PacketSamples(p)
	if err != nil {
		return fmt.Errorf("oggopus: write packet: %w", err)
	}
	if w.onPage > 0 && w.onPage+samples > w.maxPage {
		if err := w.emit(); err != nil {
			return err
		}
	}
	return w.add(p, samples)
}

// Granule is the granule position at the end of the last packet written,
// in 48 kHz samples (the pre-skip included).
func (w *Writer) Granule() int64 { return w.pos }

// TrimEnd marks the last n samples (48 kHz) of the packets written as
// padding that decoders discard (the encoder's last frame, filled up with
// silence). The trimmed samples must lie on the last page: call it after
// the last packet and before Close, with no Flush in between.
func (w *Writer) TrimEnd(n int) { w.trim = n }

// Flush writes the page in progress, if it holds anything, so that every
// packet written so far is in the destination.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.page.Lacing) == 0 {
		return nil
	}
	return w.emit()
}

// Close writes the last page, marked as the end of the stream, with the
// end trimmed as TrimEnd said. It does not close the destination.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.trim > w.onPage {
		return fmt.Errorf("oggopus: %d samples to trim but only %d on the last page", w.trim, w.onPage)
	}
	w.page.EOS = true
	if len(w.page.Lacing) == 0 {
		// Nothing waits: an empty end page, at the end of the last packet.
		w.page.Granule = w.pos
		return w.write()
	}
	w.page.Granule = w.pos - int64(w.trim)
	return w.write()
}

// add appends a packet to the page in progress, splitting it over pages
// when it does not fit.
func (w *Writer) add(p []byte, samples int) error {
	vals := len(p)/maxLacingValue + 1
	if len(w.page.Lacing)+vals > maxSegments && len(w.page.Lacing) > 0 && vals <= maxSegments {
		// It fits on a page of its own: do not split it.
		if err := w.emit(); err != nil {
			return err
		}
	}
	for {
		room := maxSegments - len(w.page.Lacing)
		if vals <= room {
			for range vals - 1 {
				w.page.Lacing = append(w.page.Lacing, maxLacingValue)
			}
			w.page.Lacing = append(w.page.Lacing, byte(len(p)%maxLacingValue))
			w.page.Body = append(w.page.Body, p...)
			break
		}
		for range room {
			w.page.Lacing = append(w.page.Lacing, maxLacingValue)
		}
		w.page.Body = append(w.page.Body, p[:room*maxLacingValue]...)
		p = p[room*maxLacingValue:]
		vals -= room
		if err := w.emit(); err != nil {
			return err
		}
		w.page.Continued = true
	}
	w.pos += int64(samples)
	w.onPage += samples
	w.ends = true
	return nil
}

// emit writes the page in progress and starts the next.
func (w *Writer) emit() error {
	w.page.Granule = -1
	if w.ends {
		w.page.Granule = w.pos
	}
	return w.write()
}

func (w *Writer) write() error {
	w.out = w.page.AppendTo(w.out[:0])
	if _, err := w.w.Write(w.out); err != nil {
		w.err = fmt.Errorf("oggopus: write page %d: %w", w.page.Sequence, err)
		return w.err
	}
	w.seq++
	w.page = Page{Serial: w.serial, Sequence: w.seq, Lacing: w.page.Lacing[:0], Body: w.page.Body[:0]}
	w.ends, w.onPage = false, 0
	return nil
}
