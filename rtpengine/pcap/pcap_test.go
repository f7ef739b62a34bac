package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var (
	a4 = netip.MustParseAddrPort("127.0.0.1:41000")
	b4 = netip.MustParseAddrPort("10.1.2.3:52014")
	a6 = netip.MustParseAddrPort("[2001:db8::1]:41000")
	b6 = netip.MustParseAddrPort("[2001:db8::2]:52014")
)

// openers are the two ways to read a file: streaming and from memory.
var openers = map[string]func([]byte) (*Reader, error){
	"stream": func(b []byte) (*Reader, error) { return NewReader(bytes.NewReader(b)) },
	"memory": Parse,
}

func TestRoundTrip(t *testing.T) {
	for name, open := range openers {
		t.Run(name, func(t *testing.T) { testRoundTrip(t, open) })
	}
}

func testRoundTrip(t *testing.T, open func([]byte) (*Reader, error)) {
	t0 := time.Unix(1_700_000_000, 123_456_000)
	for _, tc := range []struct {
		link     LinkType
		src, dst netip.AddrPort
	}{
		{LinkEthernet, a4, b4}, {LinkEthernet, a6, b6}, {LinkRaw, a4, b4}, {LinkRaw, a6, b6},
		{LinkIPv4, a4, b4}, {LinkIPv6, a6, b6},
	} {
		t.Run(tc.link.String()+"/"+tc.src.Addr().String(), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, tc.link)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				frame, err := EncodeUDP(tc.link, tc.src, tc.dst, uint16(i), []byte{byte(i), 1, 2, 3})
				if err != nil {
					t.Fatal(err)
				}
				if err := w.WriteRecord(t0.Add(time.Duration(i)*20*time.Millisecond), frame); err != nil {
					t.Fatal(err)
				}
			}
			r, err := open(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if r.LinkType() != tc.link {
				t.Fatalf("link type %v", r.LinkType())
			}
			for i := range 3 {
				rec, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				if want := t0.Add(time.Duration(i) * 20 * time.Millisecond); !rec.Time.Equal(want) {
					t.Fatalf("time %v, want %v", rec.Time, want)
				}
				d, err := DecodeUDP(r.LinkType(), rec.Data)
				if err != nil {
					t.Fatal(err)
				}
				if d.Src != tc.src || d.Dst != tc.dst || !bytes.Equal(d.Payload, []byte{byte(i), 1, 2, 3}) {
					t.Fatalf("decoded %+v", d)
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("after the last record: %v", err)
			}
		})
	}
}

func TestIPv4HeaderChecksum(t *testing.T) {
	frame, _ := EncodeUDP(LinkRaw, a4, b4, 7, []byte("x"))
	if checksum(frame[:20]) != 0 {
		t.Fatalf("an IPv4 header with its checksum must sum to 0xFFFF")
	}
}

func TestTruncatedFileKeepsTheWholeRecords(t *testing.T) {
	for name, open := range openers {
		t.Run(name, func(t *testing.T) { testTruncated(t, open) })
	}
}

func testTruncated(t *testing.T, open func([]byte) (*Reader, error)) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, LinkEthernet)
	for i := range 3 {
		frame, _ := EncodeUDP(LinkEthernet, a4, b4, uint16(i), make([]byte, 172))
		w.WriteRecord(time.Unix(int64(i), 0), frame)
	}
	whole := buf.Bytes()
	lastStart := len(whole) - recordSize - (14 + 20 + 8 + 172)
	// Cut anywhere inside the last record: two records, then ErrTruncated.
	for cut := lastStart + 1; cut < len(whole); cut++ {
		r, err := open(whole[:cut])
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if _, err := r.Next(); err != nil {
				t.Fatalf("cut at %d: record %d: %v", cut, i, err)
			}
		}
		if _, err := r.Next(); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: %v, want ErrTruncated", cut, err)
		}
	}
	// Cut exactly between records: a clean end.
	r, _ := open(whole[:lastStart])
	r.Next()
	r.Next()
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("cut between records: %v", err)
	}
}

func TestOtherByteOrdersAndNanoseconds(t *testing.T) {
	frame, _ := EncodeUDP(LinkRaw, a4, b4, 1, []byte("rtp"))
	for _, tc := range []struct {
		name  string
		order binary.ByteOrder
		magic uint32
		frac  uint32
		want  time.Duration
	}{
		{"big-endian microseconds", binary.BigEndian, magicMicro, 250_000, 250 * time.Millisecond},
		{"little-endian nanoseconds", binary.LittleEndian, magicNano, 250_000_001, 250*time.Millisecond + 1},
		{"big-endian nanoseconds", binary.BigEndian, magicNano, 7, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, headerSize+recordSize)
			tc.order.PutUint32(b[0:], tc.magic)
			tc.order.PutUint16(b[4:], 2)
			tc.order.PutUint16(b[6:], 4)
			tc.order.PutUint32(b[16:], 65535)
			tc.order.PutUint32(b[20:], uint32(LinkRaw))
			tc.order.PutUint32(b[24:], 100)
			tc.order.PutUint32(b[28:], tc.frac)
			tc.order.PutUint32(b[32:], uint32(len(frame)))
			tc.order.PutUint32(b[36:], uint32(len(frame)))
			b = append(b, frame...)
			r, err := NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			rec, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Unix(100, 0).Add(tc.want); !rec.Time.Equal(want) {
				t.Fatalf("time %v, want %v", rec.Time, want)
			}
			if d, err := DecodeUDP(r.LinkType(), rec.Data); err != nil || string(d.Payload) != "rtp" {
				t.Fatalf("%+v %v", d, err)
			}
		})
	}
}

func TestRejects(t *testing.T) {
	if _, err := NewReader(bytes.NewReader([]byte("\x0a\x0d\x0d\x0a pcapng ......................"))); !errors.Is(err, ErrNotPCAP) {
		t.Fatalf("pcapng: %v", err)
	}
	if _, err := NewReader(bytes.NewReader(nil)); !errors.Is(err, ErrNotPCAP) {
		t.Fatalf("empty: %v", err)
	}
	var buf bytes.Buffer
	NewWriter(&buf, LinkRaw)
	rec := make([]byte, recordSize)
	binary.LittleEndian.PutUint32(rec[8:], 1<<30) // a gigabyte record
	buf.Write(rec)
	for name, open := range openers {
		r, _ := open(buf.Bytes())
		if _, err := r.Next(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: huge record: %v", name, err)
		}
	}
	if _, err := Parse([]byte{1, 2}); !errors.Is(err, ErrNotPCAP) {
		t.Fatalf("Parse of 2 bytes: %v", err)
	}
}

func TestDecodeUDPOtherFrames(t *testing.T) {
	udp, _ := EncodeUDP(LinkRaw, a4, b4, 1, []byte("payload"))
	eth, _ := EncodeUDP(LinkEthernet, a4, b4, 1, []byte("payload"))
	vlan := append(append(append([]byte{}, eth[:12]...), 0x81, 0x00, 0x00, 0x05), eth[12:]...)
	sll := append(make([]byte, 14), append([]byte{0x08, 0x00}, udp...)...)
	sll2 := append([]byte{0x08, 0x00}, append(make([]byte, 18), udp...)...)
	null := append([]byte{2, 0, 0, 0}, udp...)
	padded := append(append([]byte{}, eth...), make([]byte, 20)...)
	for name, tc := range map[string]struct {
		link  LinkType
		frame []byte
	}{
		"vlan": {LinkEthernet, vlan}, "linux sll": {LinkLinuxSLL, sll}, "linux sll2": {LinkLinuxSLL2, sll2},
		"bsd loopback": {LinkNull, null}, "ethernet padding": {LinkEthernet, padded},
	} {
		d, err := DecodeUDP(tc.link, tc.frame)
		if err != nil || string(d.Payload) != "payload" || d.Src != a4 {
			t.Errorf("%s: %+v %v", name, d, err)
		}
	}
	frag := append([]byte{}, udp...)
	frag[6] = 0x20 // more fragments
	tcp := append([]byte{}, udp...)
	tcp[9] = 6
	arp := append(append([]byte{}, eth[:12]...), 0x08, 0x06)
	for name, tc := range map[string]struct {
		link  LinkType
		frame []byte
	}{
		"fragment": {LinkRaw, frag}, "tcp": {LinkRaw, tcp}, "arp": {LinkEthernet, arp},
		"short": {LinkRaw, udp[:25]}, "empty": {LinkEthernet, nil},
	} {
		if _, err := DecodeUDP(tc.link, tc.frame); !errors.Is(err, ErrNotUDP) {
			t.Errorf("%s: %v, want ErrNotUDP", name, err)
		}
	}
	if _, err := DecodeUDP(LinkType(147), udp); !errors.Is(err, ErrLinkType) {
		t.Errorf("user link type: %v", err)
	}
}

// TestRTPEngineFiles reads pcaps rtpengine 10.5 wrote (testdata/), in its
// "eth" and "raw" recording formats.
func TestRTPEngineFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.pcap")
	if len(files) < 2 {
		t.Fatal("no rtpengine pcaps in testdata")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := 0
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			d, err := DecodeUDP(r.LinkType(), rec.Data)
			if err != nil {
				t.Fatalf("%s record %d: %v", f, n, err)
			}
			if len(d.Payload) < 12 || d.Payload[0]>>6 != 2 {
				t.Fatalf("%s record %d: not RTP", f, n)
			}
			n++
		}
		t.Logf("%s: %v, %d RTP packets", filepath.Base(f), r.LinkType(), n)
		if n == 0 {
			t.Fatalf("%s: no packets", f)
		}
	}
}

func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pcap")
	for _, name := range files {
		data, _ := os.ReadFile(name)
		f.Add(data[:min(len(data), 2000)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal("Parse accepted what NewReader did not")
		}
		for range 1000 {
			a, errA := r.Next()
			b, errB := m.Next()
			if (errA == nil) != (errB == nil) || errA == nil && (!bytes.Equal(a.Data, b.Data) || !a.Time.Equal(b.Time)) {
				t.Fatalf("the readers disagree: %v / %v", errA, errB)
			}
			if errA != nil {
				break
			}
		}
		r, _ = NewReader(bytes.NewReader(data))
		for range 1000 {
			rec, err := r.Next()
			if err != nil {
				return
			}
			DecodeUDP(r.LinkType(), rec.Data)
			for _, l := range []LinkType{LinkEthernet, LinkRaw, LinkNull, LinkLinuxSLL, LinkLinuxSLL2} {
				DecodeUDP(l, rec.Data)
			}
		}
	})
}
