package oggopus

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Errors a stream can fail with; they are wrapped with where and why, so
// callers test them with errors.Is.
var (
	// ErrCorrupt: the bytes are not a valid Ogg Opus stream (a bad
	// checksum, a missing page, a malformed header or packet).
	ErrCorrupt = errors.New("not a valid Ogg Opus stream")
	// ErrTruncated: the stream stops before its end-of-stream page, as a
	// recording does when the PC crashed or lost power while recording.
	// Everything up to the last complete page was read.
	ErrTruncated = errors.New("the Ogg Opus stream was cut short")
	// ErrUnsupported: a valid stream this package does not handle
	// (multichannel, chained or multiplexed streams, huge packets).
	ErrUnsupported = errors.New("unsupported Ogg Opus stream")
)

// Sizes of an Ogg page.
const (
	pageHeaderSize = 27
	maxSegments    = 255
	maxLacingValue = 255
	// MaxPageSize is the largest an Ogg page can be: the header, 255
	// lacing values and 255 segments of 255 bytes.
	MaxPageSize = pageHeaderSize + maxSegments + maxSegments*maxLacingValue
)

// Header type flags of a page.
const (
	flagContinued = 0x01 // the first segment continues a packet of the previous page
	flagBOS       = 0x02 // first page of a logical stream
	flagEOS       = 0x04 // last page of a logical stream
)

// Page is one Ogg page.
type Page struct {
	// Continued: the page starts with the rest of a packet begun on the
	// previous page.
	Continued bool
	// BOS and EOS mark the first and the last page of the stream.
	BOS, EOS bool
	// Granule is the granule position: for Opus, the number of 48 kHz
	// samples up to the end of the last packet that ends on this page, or
	// -1 when no packet ends on it.
	Granule int64
	// Serial identifies the logical stream.
	Serial uint32
	// Sequence numbers the pages of a logical stream from 0.
	Sequence uint32
	// Lacing is the segment table: how the body splits into packets. A
	// value of 255 means the packet goes on in the next segment.
	Lacing []byte
	// Body holds the segments, as many bytes as the lacing values add up to.
	Body []byte
}

// AppendTo appends the page, with its checksum, to b.
func (p *Page) AppendTo(b []byte) []byte {
	start := len(b)
	var flags byte
	if p.Continued {
		flags |= flagContinued
	}
	if p.BOS {
		flags |= flagBOS
	}
	if p.EOS {
		flags |= flagEOS
	}
	b = append(b, 'O', 'g', 'g', 'S', 0, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(p.Granule))
	b = binary.LittleEndian.AppendUint32(b, p.Serial)
	b = binary.LittleEndian.AppendUint32(b, p.Sequence)
	b = append(b, 0, 0, 0, 0, byte(len(p.Lacing)))
	b = append(b, p.Lacing...)
	b = append(b, p.Body...)
	sum := crcUpdate(0, b[start:])
	binary.LittleEndian.PutUint32(b[start+22:], sum)
	return b
}

// PageReader reads Ogg pages and checks each one's checksum.
type PageReader struct {
	r      *bufio.Reader
	buf    []byte
	page   Page
	offset int64 // bytes of complete pages read
}

// NewPageReader returns a reader of the pages in r.
func NewPageReader(r io.Reader) *PageReader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &PageReader{r: br, buf: make([]byte, MaxPageSize)}
}

// Offset is how many bytes of complete pages have been read.
func (pr *PageReader) Offset() int64 { return pr.offset }

// Next reads the next page. The page and the slices in it stay valid only
// until the next call. At the end of the input it returns io.EOF; when the
// input ends inside a page it returns ErrTruncated (every page before was
// complete and returned). A page that fails its checksum, or bytes that are
// not an Ogg page, give ErrCorrupt.
func (pr *PageReader) Next() (*Page, error) {
	h := pr.buf[:pageHeaderSize]
	n, err := io.ReadFull(pr.r, h)
	switch {
	case n == 0 && err == io.EOF:
		return nil, io.EOF
	case err == io.ErrUnexpectedEOF && string(h[:min(n, 4)]) == "OggS"[:min(n, 4)]:
		return nil, pr.truncated(n)
	case err == io.ErrUnexpectedEOF:
		return nil, fmt.Errorf("%w: no Ogg page at byte %d", ErrCorrupt, pr.offset)
	case err != nil:
		return nil, fmt.Errorf("read page at byte %d: %w", pr.offset, err)
	}
	if string(h[:4]) != "OggS" {
		return nil, fmt.Errorf("%w: no Ogg page at byte %d", ErrCorrupt, pr.offset)
	}
	if h[4] != 0 {
		return nil, fmt.Errorf("%w: Ogg version %d at byte %d", ErrCorrupt, h[4], pr.offset)
	}
	if h[5]&^(flagContinued|flagBOS|flagEOS) != 0 {
		return nil, fmt.Errorf("%w: unknown page flags %#x at byte %d", ErrCorrupt, h[5], pr.offset)
	}
	segs := int(h[26])
	lacing := pr.buf[pageHeaderSize : pageHeaderSize+segs]
	if m, err := io.ReadFull(pr.r, lacing); err != nil {
		return nil, pr.readErr(pageHeaderSize+m, err)
	}
	size := 0
	for _, v := range lacing {
		size += int(v)
	}
	body := pr.buf[pageHeaderSize+segs : pageHeaderSize+segs+size]
	if m, err := io.ReadFull(pr.r, body); err != nil {
		return nil, pr.readErr(pageHeaderSize+segs+m, err)
	}
	want := binary.LittleEndian.Uint32(h[22:])
	clear(h[22:26])
	sum := crcUpdate(0, pr.buf[:pageHeaderSize+segs+size])
	binary.LittleEndian.PutUint32(h[22:], want)
	if sum != want {
		return nil, fmt.Errorf("%w: checksum of the page at byte %d is wrong", ErrCorrupt, pr.offset)
	}
	pr.page = Page{
		Continued: h[5]&flagContinued != 0,
		BOS:       h[5]&flagBOS != 0,
		EOS:       h[5]&flagEOS != 0,
		Granule:   int64(binary.LittleEndian.Uint64(h[6:])),
		Serial:    binary.LittleEndian.Uint32(h[14:]),
		Sequence:  binary.LittleEndian.Uint32(h[18:]),
		Lacing:    lacing,
		Body:      body,
	}
	pr.offset += int64(pageHeaderSize + segs + size)
	return &pr.page, nil
}

func (pr *PageReader) readErr(got int, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return pr.truncated(got)
	}
	return fmt.Errorf("read page at byte %d: %w", pr.offset, err)
}

func (pr *PageReader) truncated(got int) error {
	return fmt.Errorf("%w: the last %d bytes (from byte %d) are an incomplete page", ErrTruncated, got, pr.offset)
}

// atEnd reports whether the input has no byte left.
func (pr *PageReader) atEnd() (bool, error) {
	_, err := pr.r.Peek(1)
	if err == io.EOF {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read at byte %d: %w", pr.offset, err)
	}
	return false, nil
}
