package pcapaudio

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestReadMetadata(t *testing.T) {
	f, err := os.Open("testdata/raw.meta")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ReadMetadata(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.PCAP, "/raw%40test-d8b6b812409cdaef.pcap") {
		t.Fatalf("pcap %q", m.PCAP)
	}
	if len(m.SDPs) != 2 || m.SDPs[0].Mode != "offer" || m.SDPs[1].Mode != "answer" {
		t.Fatalf("SDPs %+v", m.SDPs)
	}
	if !strings.HasPrefix(m.SDPs[0].Body, "v=0\r\n") || !strings.Contains(m.SDPs[0].Body, "m=audio 52300 RTP/AVP 8\r\n") {
		t.Fatalf("offer body %q", m.SDPs[0].Body)
	}
	if m.SDPs[0].Started.UnixMilli() != 1796234424178 || !m.Terminated.IsZero() || m.CallStart.IsZero() {
		t.Fatalf("times %+v", m)
	}
	answerer, offerer := netip.MustParseAddrPort("127.0.0.1:52300"), netip.MustParseAddrPort("127.0.0.1:52316")
	in, err := m.Sides(Answerer)
	if err != nil || in[answerer] != SideOfficer || in[offerer] != SideCaller || len(in) != 2 {
		t.Fatalf("inbound sides %v %v", in, err)
	}
	out, err := m.Sides(Offerer)
	if err != nil || out[answerer] != SideCaller || out[offerer] != SideOfficer {
		t.Fatalf("outbound sides %v %v", out, err)
	}
	if _, err := m.Sides(PartyUnknown); err == nil {
		t.Fatal("sides without knowing the officer's party")
	}
}

// A stretch started by "start recording" after the call was set up: rtpengine
// writes no SDP into its metadata (measured with 10.5).
func TestMetadataOfALaterStretch(t *testing.T) {
	m, err := ReadMetadata(strings.NewReader("/rec/pcaps/cid3%40x-5a5a552f97b99cf5.pcap\n\n\n" +
		"Timestamp terminated ms(first monologue): 1796233672895.279\n\n" +
		"call start time: 2026-12-02T17:47:52\ncall end time: 2026-12-02T17:47:52\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Terminated.UnixMilli() != 1796233672895 || len(m.SDPs) != 0 {
		t.Fatalf("%+v", m)
	}
	if _, err := m.Sides(Answerer); !errors.Is(err, ErrNoSDP) {
		t.Fatalf("err = %v, want ErrNoSDP", err)
	}
	if _, err := ReadMetadata(strings.NewReader("")); err == nil {
		t.Fatal("an empty file")
	}
}

func TestSDPAudioAddresses(t *testing.T) {
	sdp := "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 8\r\nm=video 5000 RTP/AVP 96\r\n" +
		"m=audio 6000 RTP/AVP 0\r\nc=IN IP6 2001:db8::7\r\n"
	got, err := sdpAudio(sdp)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("[2001:db8::7]:6000")}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v", got, want)
	}
}
