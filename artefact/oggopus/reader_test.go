package oggopus_test

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
)

// The packets' times agree with opusdec and opusinfo: they follow each
// other without gap from minus the pre-skip, and the stream plays for their
// total less the pre-skip and the end trimming.
func TestReaderTimesPacketsAsOpusToolsDo(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	head, ps := mustReadAll(t, stream)
	if head.Channels != 2 || head.PreSkip != 312 || head.InputRate != 16000 {
		t.Fatalf("head %+v", head)
	}
	next := int64(-head.PreSkip)
	for i, p := range ps {
		if p.Start != next {
			t.Fatalf("packet %d starts at %d, want %d (right after the one before)", i, p.Start, next)
		}
		if p.Samples != 960 {
			t.Fatalf("packet %d lasts %d samples; opusenc was told 20 ms frames", i, p.Samples)
		}
		if p.Trim != 0 && i != len(ps)-1 {
			t.Fatalf("packet %d is trimmed but is not the last", i)
		}
		next += int64(p.Samples)
	}
	played := next - int64(ps[len(ps)-1].Trim) // 48 kHz samples after the pre-skip

	pcm := opustest.DecodeBytes(t, stream, 48000)
	if got := int64(len(pcm) / 2); got != played {
		t.Errorf("opusdec decodes %d samples; the packets' times say %d", got, played)
	}
	info := opustest.Info(t, stream)
	m := regexp.MustCompile(`Playback length: (\d+)m:([\d.]+)s`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no playback length in opusinfo's output:\n%s", info)
	}
	mins, _ := strconv.Atoi(m[1])
	secs, _ := strconv.ParseFloat(m[2], 64)
	want := time.Duration(mins)*time.Minute + time.Duration(secs*float64(time.Second))
	got := time.Duration(played) * time.Second / 48000
	if d := got - want; d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("the packets play %v; opusinfo says %v", got, want)
	}
}

// A stream cut anywhere (a crash while recording) reads up to its last
// complete page: every packet that ends on a complete page, in order, then
// ErrTruncated. Cut inside the headers, it cannot be opened.
func TestTruncatedStreamReadsToItsLastCompletePage(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	_, all := mustReadAll(t, stream)
	pages := pagesOf(t, stream)
	audio := pages[2].Offset // after OpusHead and OpusTags
	// Every page's edges and the header's fields, and a stride between.
	cuts := map[int]bool{}
	for _, p := range pages {
		for _, d := range []int{-1, 0, 1, 4, 26, 27, 28} {
			if c := p.Offset + d; c >= 0 && c < len(stream) {
				cuts[c] = true
			}
		}
	}
	for c := 0; c < len(stream); c += 29 {
		cuts[c] = true
	}
	for cut := range cuts {
		_, ps, err := readAll(t, stream[:cut])
		if cut < audio {
			if !errors.Is(err, oggopus.ErrTruncated) || ps != nil {
				t.Fatalf("cut at %d, inside the headers: %d packets, %v; want ErrTruncated", cut, len(ps), err)
			}
			continue
		}
		want := 0 // packets that end on the pages before the cut
		for _, p := range pages[2:] {
			if p.Offset+p.Size <= cut {
				want += p.Ended
			}
		}
		if !errors.Is(err, oggopus.ErrTruncated) {
			t.Fatalf("cut at %d: %v, want ErrTruncated", cut, err)
		}
		if len(ps) != want {
			t.Fatalf("cut at %d: %d packets read, want the %d of the complete pages", cut, len(ps), want)
		}
		for i := range ps {
			if !bytes.Equal(ps[i].Data, all[i].Data) || ps[i].Start != all[i].Start {
				t.Fatalf("cut at %d: packet %d differs from the whole stream's", cut, i)
			}
		}
	}
}

// A stream that is not what it should be says so with ErrCorrupt (or
// ErrUnsupported), and what it read before the fault is sound.
func TestReaderRejectsBrokenStreams(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	_, ps := mustReadAll(t, stream)
	pages := pagesOf(t, stream)
	cutPage := func(i int) []byte { // the stream without page i
		return append(bytes.Clone(stream[:pages[i].Offset]), stream[pages[i].Offset+pages[i].Size:]...)
	}
	swap := func(i int) []byte { // pages i and i+1 swapped
		b := bytes.Clone(stream[:pages[i].Offset])
		b = append(b, stream[pages[i+1].Offset:pages[i+1].Offset+pages[i+1].Size]...)
		b = append(b, stream[pages[i].Offset:pages[i].Offset+pages[i].Size]...)
		return append(b, stream[pages[i+1].Offset+pages[i+1].Size:]...)
	}
	other := writeStream(t, oggopus.Head{Channels: 2, PreSkip: 312}, nil, 0)
	otherBOS := other[:pagesOf(t, other)[0].Size]
	mono := func() []byte {
		b := bytes.Clone(stream)
		b[pages[0].Offset+27+1+9] = 3 // three channels, mapping family 0
		return refreshChecksum(t, b, pages[0])
	}
	for _, tc := range []struct {
		name  string
		input []byte
		want  error
	}{
		{"a missing page", cutPage(4), oggopus.ErrCorrupt},
		{"pages out of order", swap(4), oggopus.ErrCorrupt},
		{"data after the end of the stream", append(bytes.Clone(stream), stream[pages[3].Offset:pages[3].Offset+pages[3].Size]...), oggopus.ErrCorrupt},
		{"a second stream multiplexed in", append(bytes.Clone(stream[:pages[1].Offset]), append(bytes.Clone(otherBOS), stream[pages[1].Offset:]...)...), oggopus.ErrUnsupported},
		{"an empty packet", craft(t, ps[0].Data, nil, ps[1].Data), oggopus.ErrCorrupt},
		{"a packet longer than 120 ms", craft(t, ps[0].Data, []byte{0x0b<<3 | 3, 3, 1, 2, 3}), oggopus.ErrCorrupt},
		{"a granule position that disagrees with the packets", craftGranule(t, 960*3, ps[0].Data, ps[1].Data), oggopus.ErrCorrupt},
		{"three channels in mapping family 0", mono(), oggopus.ErrCorrupt},
		{"the first page is not an OpusHead", stream[pages[1].Offset:], oggopus.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got, err := readAll(t, tc.input)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			for i := range got {
				if i >= len(ps) || !bytes.Equal(got[i].Data, ps[i].Data) {
					t.Fatalf("packet %d, read before the fault, differs", i)
				}
			}
		})
	}
}

// craft writes a stream of the given packets, one a page, without the
// checks the Writer makes, so that tests can write what it refuses. Each
// page's granule position assumes 20 ms packets.
func craft(t testing.TB, packets ...[]byte) []byte {
	t.Helper()
	return craftGranule(t, 0, packets...)
}

// craftGranule is craft with the last page's granule position off by skew.
func craftGranule(t testing.TB, skew int64, packets ...[]byte) []byte {
	t.Helper()
	head := oggopus.Head{Channels: 2, PreSkip: 312, InputRate: 16000}
	var b []byte
	b = (&oggopus.Page{BOS: true, Serial: 9, Lacing: []byte{19}, Body: head.Marshal()}).AppendTo(b)
	tags := oggopus.Tags{Vendor: "crafted"}.Marshal()
	b = (&oggopus.Page{Serial: 9, Sequence: 1, Lacing: []byte{byte(len(tags))}, Body: tags}).AppendTo(b)
	for i, p := range packets {
		g := int64(960 * (i + 1))
		if i == len(packets)-1 {
			g += skew
		}
		b = (&oggopus.Page{Serial: 9, Sequence: uint32(2 + i), Granule: g, EOS: i == len(packets)-1,
			Lacing: []byte{byte(len(p))}, Body: p}).AppendTo(b)
	}
	return b
}

// refreshChecksum recomputes the checksum of page p of stream after a test
// changed it on purpose.
func refreshChecksum(t testing.TB, stream []byte, p pageInfo) []byte {
	t.Helper()
	raw := stream[p.Offset : p.Offset+p.Size]
	copy(raw[22:26], []byte{0, 0, 0, 0})
	page := oggopus.Page{Granule: p.Granule, Sequence: p.Seq, BOS: raw[5]&2 != 0, EOS: raw[5]&4 != 0, Continued: raw[5]&1 != 0}
	page.Serial = uint32(raw[14]) | uint32(raw[15])<<8 | uint32(raw[16])<<16 | uint32(raw[17])<<24
	n := int(raw[26])
	page.Lacing = raw[27 : 27+n]
	page.Body = raw[27+n:]
	fixed := page.AppendTo(nil)
	return append(append(bytes.Clone(stream[:p.Offset]), fixed...), stream[p.Offset+p.Size:]...)
}

// The TOC byte gives mode, bandwidth and frame size as RFC 6716's table 2
// says, and the frame count code gives the packet's duration.
func TestTOC(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		config int
		mode   oggopus.Mode
		bw     oggopus.Bandwidth
		frame  time.Duration
	}{
		{0, oggopus.ModeSILK, oggopus.Narrowband, 10 * time.Millisecond},
		{3, oggopus.ModeSILK, oggopus.Narrowband, 60 * time.Millisecond},
		{5, oggopus.ModeSILK, oggopus.Mediumband, 20 * time.Millisecond},
		{9, oggopus.ModeSILK, oggopus.Wideband, 20 * time.Millisecond},
		{11, oggopus.ModeSILK, oggopus.Wideband, 60 * time.Millisecond},
		{12, oggopus.ModeHybrid, oggopus.SuperWideband, 10 * time.Millisecond},
		{15, oggopus.ModeHybrid, oggopus.Fullband, 20 * time.Millisecond},
		{16, oggopus.ModeCELT, oggopus.Narrowband, 2500 * time.Microsecond},
		{21, oggopus.ModeCELT, oggopus.Wideband, 5 * time.Millisecond},
		{23, oggopus.ModeCELT, oggopus.Wideband, 20 * time.Millisecond},
		{26, oggopus.ModeCELT, oggopus.SuperWideband, 10 * time.Millisecond},
		{31, oggopus.ModeCELT, oggopus.Fullband, 20 * time.Millisecond},
	} {
		toc := oggopus.TOC(tc.config << 3)
		got := time.Duration(toc.FrameSamples()) * time.Second / 48000
		if toc.Mode() != tc.mode || toc.Bandwidth() != tc.bw || got != tc.frame {
			t.Errorf("config %d: %v %v %v, want %v %v %v", tc.config, toc.Mode(), toc.Bandwidth(), got, tc.mode, tc.bw, tc.frame)
		}
	}
	silkWB20 := byte(9 << 3)
	for _, tc := range []struct {
		name    string
		packet  []byte
		samples int
		err     error
	}{
		{"code 0: one frame", []byte{silkWB20, 1, 2}, 960, nil},
		{"code 1: two equal frames", []byte{silkWB20 | 1, 1, 2}, 1920, nil},
		{"code 2: two frames", []byte{silkWB20 | 2, 1, 7}, 1920, nil},
		{"code 3: six frames of 20 ms", []byte{silkWB20 | 3, 6, 0}, 5760, nil},
		{"code 3: seven frames are too long", []byte{silkWB20 | 3, 7, 0}, 0, oggopus.ErrCorrupt},
		{"code 3: 48 frames of 2.5 ms", []byte{16<<3 | 3, 48}, 5760, nil},
		{"code 3 without its count", []byte{silkWB20 | 3}, 0, oggopus.ErrCorrupt},
		{"code 3 of zero frames", []byte{silkWB20 | 3, 0}, 0, oggopus.ErrCorrupt},
		{"empty", nil, 0, oggopus.ErrCorrupt},
	} {
		got, err := oggopus.PacketSamples(tc.packet)
		if got != tc.samples || !errors.Is(err, tc.err) {
			t.Errorf("%s: %d samples, %v; want %d, %v", tc.name, got, err, tc.samples, tc.err)
		}
	}
	if s := oggopus.TOC(0x4c).String(); s != "SILK-only WB 20ms stereo" {
		t.Errorf("TOC 0x4c reads %q", s)
	}
}
