package pcap

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// LinkType is a pcap file's link-layer header type (LINKTYPE_* of tcpdump.org).
type LinkType uint32

// The link types this package decodes.
const (
	LinkNull       LinkType = 0   // BSD loopback: a 4-byte address family
	LinkEthernet   LinkType = 1   // rtpengine's recording-format "eth"
	LinkRaw        LinkType = 101 // raw IPv4 or IPv6: rtpengine's "raw"
	LinkLinuxSLL   LinkType = 113 // Linux cooked capture
	LinkIPv4       LinkType = 228
	LinkIPv6       LinkType = 229
	LinkLinuxSLL2  LinkType = 276
	linkRawDLT     LinkType = 12 // DLT_RAW as some writers store it
	linkRawOpenBSD LinkType = 14
)

func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "null"
	case LinkEthernet:
		return "ethernet"
	case LinkRaw, linkRawDLT, linkRawOpenBSD:
		return "raw"
	case LinkLinuxSLL:
		return "linux-sll"
	case LinkIPv4:
		return "ipv4"
	case LinkIPv6:
		return "ipv6"
	case LinkLinuxSLL2:
		return "linux-sll2"
	}
	return fmt.Sprintf("linktype-%d", uint32(l))
}

const (
	magicMicro = 0xa1b2c3d4
	magicNano  = 0xa1b23c4d
	headerSize = 24
	recordSize = 16
	// maxSnap bounds a record whatever the header claims.
	maxSnap = 256 << 10
)

var (
	// ErrNotPCAP: the file does not start like a classic pcap file (a
	// pcapng file, for one, is not read).
	ErrNotPCAP = errors.New("pcap: not a pcap file")
	// ErrTruncated: the file ends inside a record, as one does when the
	// program writing it was killed.
	ErrTruncated = errors.New("pcap: file cut short inside a record")
	// ErrCorrupt: a record header makes no sense.
	ErrCorrupt = errors.New("pcap: corrupt record")
)

// Record is one captured frame.
type Record struct {
	Time time.Time
	// Data are the captured bytes: valid until the next call to Next, or,
	// from a Reader made by Parse, a part of the file's bytes.
	Data    []byte
	OrigLen int // the frame's length on the wire (>= len(Data))
}

// Reader reads the records of a pcap file in order.
type Reader struct {
	r       *bufio.Reader
	mem     []byte // the whole file, for a Reader made by Parse
	pos     int
	order   binary.ByteOrder
	nano    bool
	link    LinkType
	snaplen uint32
	buf     []byte
	hdr     [recordSize]byte
}

// NewReader reads the file header from r.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var h [headerSize]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, fmt.Errorf("%w: %d-byte header: %v", ErrNotPCAP, headerSize, err)
	}
	p := &Reader{r: br}
	switch {
	case binary.LittleEndian.Uint32(h[:4]) == magicMicro:
		p.order = binary.LittleEndian
	case binary.BigEndian.Uint32(h[:4]) == magicMicro:
		p.order = binary.BigEndian
	case binary.LittleEndian.Uint32(h[:4]) == magicNano:
		p.order, p.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h[:4]) == magicNano:
		p.order, p.nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("%w: magic %x", ErrNotPCAP, h[:4])
	}
	if major := p.order.Uint16(h[4:6]); major != 2 {
		return nil, fmt.Errorf("%w: version %d", ErrNotPCAP, major)
	}
	p.snaplen = p.order.Uint32(h[16:20])
	if p.snaplen == 0 || p.snaplen > maxSnap {
		p.snaplen = maxSnap
	}
	// The upper bits of the link-type field carry FCS information.
	p.link = LinkType(p.order.Uint32(h[20:24]) & 0x0FFFFFFF)
	return p, nil
}

// Parse returns a Reader of a whole pcap file held in memory, whose
// records' Data alias data instead of being copied.
func Parse(data []byte) (*Reader, error) {
	p, err := NewReader(bytes.NewReader(data[:min(len(data), headerSize)]))
	if err != nil {
		return nil, err
	}
	p.r, p.mem, p.pos = nil, data, headerSize
	return p, nil
}

// LinkType is the file's link-layer type.
func (p *Reader) LinkType() LinkType { return p.link }

// Next returns the next record; io.EOF after the last whole record, or
// ErrTruncated if the file ends inside one.
func (p *Reader) Next() (Record, error) {
	if p.mem != nil {
		return p.nextInMemory()
	}
	n, err := io.ReadFull(p.r, p.hdr[:])
	if err == io.EOF {
		return Record{}, io.EOF
	}
	if err != nil {
		return Record{}, fmt.Errorf("%w (%d of %d header bytes)", ErrTruncated, n, recordSize)
	}
	sec := p.order.Uint32(p.hdr[0:4])
	frac := p.order.Uint32(p.hdr[4:8])
	capLen := p.order.Uint32(p.hdr[8:12])
	origLen := p.order.Uint32(p.hdr[12:16])
	if capLen > p.snaplen || capLen > maxSnap {
		return Record{}, fmt.Errorf("%w: a record of %d bytes (snapshot length %d)", ErrCorrupt, capLen, p.snaplen)
	}
	if cap(p.buf) < int(capLen) {
		p.buf = make([]byte, capLen)
	}
	data := p.buf[:capLen]
	if n, err := io.ReadFull(p.r, data); err != nil {
		return Record{}, fmt.Errorf("%w (%d of %d bytes)", ErrTruncated, n, capLen)
	}
	return p.record(sec, frac, origLen, data)
}

func (p *Reader) nextInMemory() (Record, error) {
	rest := len(p.mem) - p.pos
	if rest == 0 {
		return Record{}, io.EOF
	}
	if rest < recordSize {
		return Record{}, fmt.Errorf("%w (%d of %d header bytes)", ErrTruncated, rest, recordSize)
	}
	h := p.mem[p.pos : p.pos+recordSize]
	sec, frac := p.order.Uint32(h[0:4]), p.order.Uint32(h[4:8])
	capLen, origLen := p.order.Uint32(h[8:12]), p.order.Uint32(h[12:16])
	if capLen > p.snaplen || capLen > maxSnap {
		return Record{}, fmt.Errorf("%w: a record of %d bytes (snapshot length %d)", ErrCorrupt, capLen, p.snaplen)
	}
	if rest-recordSize < int(capLen) {
		return Record{}, fmt.Errorf("%w (%d of %d bytes)", ErrTruncated, rest-recordSize, capLen)
	}
	p.pos += recordSize
	data := p.mem[p.pos : p.pos+int(capLen) : p.pos+int(capLen)]
	p.pos += int(capLen)
	return p.record(sec, frac, origLen, data)
}

func (p *Reader) record(sec, frac, origLen uint32, data []byte) (Record, error) {
	capLen := uint32(len(data))
	nsec := int64(frac) * 1000
	if p.nano {
		nsec = int64(frac)
	}
	if nsec >= 1e9 {
		return Record{}, fmt.Errorf("%w: sub-second part %d", ErrCorrupt, frac)
	}
	if origLen < capLen {
		origLen = capLen
	}
	return Record{Time: time.Unix(int64(sec), nsec), Data: data, OrigLen: int(origLen)}, nil
}

// Writer writes a little-endian, microsecond pcap file, as libpcap and
// rtpengine do.
type Writer struct {
	w    io.Writer
	link LinkType
	rec  [recordSize]byte
}

// NewWriter writes the file header to w.
func NewWriter(w io.Writer, link LinkType) (*Writer, error) {
	var h [headerSize]byte
	binary.LittleEndian.PutUint32(h[0:], magicMicro)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], uint32(link))
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	return &Writer{w: w, link: link}, nil
}

// LinkType is the link-layer type the file declares.
func (w *Writer) LinkType() LinkType { return w.link }

// WriteRecord writes one frame captured at t.
func (w *Writer) WriteRecord(t time.Time, frame []byte) error {
	us := t.UnixMicro()
	binary.LittleEndian.PutUint32(w.rec[0:], uint32(us/1e6))
	binary.LittleEndian.PutUint32(w.rec[4:], uint32(us%1e6))
	binary.LittleEndian.PutUint32(w.rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(w.rec[12:], uint32(len(frame)))
	if _, err := w.w.Write(w.rec[:]); err != nil {
		return fmt.Errorf("pcap record: %w", err)
	}
	if _, err := w.w.Write(frame); err != nil {
		return fmt.Errorf("pcap record: %w", err)
	}
	return nil
}
