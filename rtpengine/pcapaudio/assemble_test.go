package pcapaudio

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/rtpengine/g711"
	"github.com/callguard/callguard/rtpengine/pcap"
)

func TestFormatIsCallguards(t *testing.T) {
	if SampleRate != artefact.SampleRate || Channels != artefact.Channels || BytesPerFrame != artefact.BytesPerFrame {
		t.Fatal("the assembled audio is not in callguard's recording format")
	}
}

// TestRealRTPEngineFiles assembles pcaps rtpengine 10.5 wrote (raw and eth
// formats) of a call whose offerer played 400 Hz and answerer 450 Hz.
func TestRealRTPEngineFiles(t *testing.T) {
	for _, name := range []string{"raw", "eth"} {
		t.Run(name, func(t *testing.T) {
			mf, err := os.Open("testdata/" + name + ".meta")
			if err != nil {
				t.Fatal(err)
			}
			defer mf.Close()
			meta, err := ReadMetadata(mf)
			if err != nil {
				t.Fatal(err)
			}
			// An inbound call: the officer answered.
			sides, err := meta.Sides(Answerer)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile("testdata/" + name + ".pcap")
			if err != nil {
				t.Fatal(err)
			}
			a, err := Assemble(Options{Sides: sides}, source(name, data))
			if err != nil {
				t.Fatal(err)
			}
			if a.Officer.Packets != 25 || a.Caller.Packets != 25 || a.Officer.Lost+a.Caller.Lost != 0 {
				t.Fatalf("officer %+v caller %+v", a.Officer, a.Caller)
			}
			if d := time.Duration(a.Frames) * time.Second / SampleRate; d < 480*time.Millisecond || d > 520*time.Millisecond {
				t.Fatalf("%v of audio, want 0.5 s", d)
			}
			officer, caller := render(t, a)
			offerer := testrig.Tone{BaseHz: 400, StepHz: 100, Seconds: 5}
			answerer := testrig.Tone{BaseHz: 450, StepHz: 100, Seconds: 5}
			if m := toneAt(officer, ms(200), offerer, answerer); m.Tone != 1 || m.Second != 0 {
				t.Fatalf("officer channel: %+v, want the answerer's tone", m)
			}
			if m := toneAt(caller, ms(200), offerer, answerer); m.Tone != 0 || m.Second != 0 {
				t.Fatalf("caller channel: %+v, want the offerer's tone", m)
			}
		})
	}
}

// TestStretchesAtTheirTrueOffsets: a call recorded 0-2 s and 3.5-6 s, in two
// pcaps given in the wrong order. The second stretch's audio is at 3.5 s,
// not right after the first, the gap is digital silence and is the pause.
func TestStretchesAtTheirTrueOffsets(t *testing.T) {
	jitter := func(k int) time.Duration { return time.Duration(k*7%5) * time.Millisecond }
	first := pcapOf(t, pcap.LinkEthernet,
		tonePackets(callerTone, 0, 100, callerPort, jitter), tonePackets(officerTone, 0, 100, officerPort, jitter))
	second := pcapOf(t, pcap.LinkEthernet,
		tonePackets(callerTone, 175, 300, callerPort, jitter), tonePackets(officerTone, 175, 300, officerPort, nil))
	a, err := Assemble(Options{Sides: testSides, Origin: t0}, source("second", second), source("first", first))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Stretches) != 2 || a.Stretches[0].Source != "first" || a.Stretches[1].StartMS != 3500 || a.Stretches[1].EndMS != 6000 {
		t.Fatalf("stretches %+v", a.Stretches)
	}
	if len(a.Pauses) != 1 || a.Pauses[0] != (Pause{StartMS: 2000, EndMS: 3500}) {
		t.Fatalf("pauses %+v, want 2000-3500", a.Pauses)
	}
	if a.Frames != ms(6000) {
		t.Fatalf("%d frames", a.Frames)
	}
	officer, caller := render(t, a)
	for _, ch := range [][]int16{officer, caller} {
		if !silent(ch, ms(2000), ms(3500)) {
			t.Fatal("the pause is not digital silence")
		}
		if silent(ch, ms(1980), ms(2000)) || silent(ch, ms(3500), ms(3520)) {
			t.Fatal("audio missing at the edges of the pause")
		}
	}
	// Every 100 ms away from a second's edge carries its own source second.
	for at := int64(0); at < 6000; at += 100 {
		if at >= 2000 && at < 3500 || at%1000 >= 900 {
			continue
		}
		want := int(at / 1000)
		if m := toneAt(officer, ms(at), callerTone, officerTone); m.Tone != 1 || m.Second != want || m.Ratio < 10 {
			t.Fatalf("officer at %d ms: %+v, want second %d", at, m, want)
		}
		if m := toneAt(caller, ms(at), callerTone, officerTone); m.Tone != 0 || m.Second != want || m.Ratio < 10 {
			t.Fatalf("caller at %d ms: %+v, want second %d", at, m, want)
		}
	}
	// Even output samples are the decoded input exactly.
	for _, k := range []int{0, 57, 99, 175, 299} {
		for i := range 160 {
			want := g711.DecodeALaw(callerTone.Payload(k)[i])
			if got := caller[2*(k*160+i)]; got != want {
				t.Fatalf("packet %d sample %d: %d, want %d", k, i, got, want)
			}
		}
	}
}

func TestReorderingLossAndDuplicates(t *testing.T) {
	pkts := tonePackets(callerTone, 0, 100, callerPort, nil)
	// Packet 10 is held up and arrives 5 ms after packet 11.
	pkts[10], pkts[11] = pkts[11], pkts[10]
	pkts[11].at = pkts[10].at.Add(5 * time.Millisecond)
	dup := pkts[40]
	dup.at = dup.at.Add(3 * time.Millisecond)
	pkts = append(pkts[:60], pkts[61:]...) // 60 is lost
	pkts = append(pkts[:41], append([]sent{dup}, pkts[41:]...)...)
	a, err := Assemble(Options{Sides: testSides, Origin: t0}, source("call", pcapOf(t, pcap.LinkRaw, pkts)))
	if err != nil {
		t.Fatal(err)
	}
	want := DirectionStats{Packets: 99, Streams: 1, Lost: 1, Duplicates: 1, Reordered: 1}
	if a.Caller != want {
		t.Fatalf("caller %+v, want %+v", a.Caller, want)
	}
	_, caller := render(t, a)
	for _, k := range []int{10, 11, 40, 41, 59, 61} {
		for i := range 160 {
			if got, want := caller[2*(k*160+i)], g711.DecodeALaw(callerTone.Payload(k)[i]); got != want {
				t.Fatalf("packet %d at the wrong place: sample %d is %d, want %d", k, i, got, want)
			}
		}
	}
	if !silent(caller, 2*60*160, 2*61*160) {
		t.Fatal("the lost packet's 20 ms is not silence")
	}
	if len(a.Pauses) != 0 {
		t.Fatalf("a lost packet is not a pause: %+v", a.Pauses)
	}
}

func TestTimestampJumpsAndLateArrivals(t *testing.T) {
	// The phone restarts its RTP clock 1 s in (a new timestamp base, as after
	// a transfer); packet 70 is held up 300 ms in the network.
	var pkts []sent
	for k := range 150 {
		p := tonePackets(callerTone, k, k+1, callerPort, nil)[0]
		if k >= 50 {
			p.rtp[4], p.rtp[5] = 0x7f, 0x00 // timestamp jumps by about 2^30
		}
		if k == 70 {
			p.at = p.at.Add(300 * time.Millisecond)
		}
		pkts = append(pkts, p)
	}
	a, err := Assemble(Options{Sides: testSides, Origin: t0}, source("call", pcapOf(t, pcap.LinkEthernet, pkts)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Caller.Resyncs != 1 || a.Caller.Packets != 150 {
		t.Fatalf("caller %+v, want one resync", a.Caller)
	}
	if a.Frames != ms(3000) {
		t.Fatalf("%v of audio, want 3 s", time.Duration(a.Frames)*time.Second/SampleRate)
	}
	_, caller := render(t, a)
	for _, k := range []int{0, 49, 50, 51, 70, 149} {
		for i := range 160 {
			if got, want := caller[2*(k*160+i)], g711.DecodeALaw(callerTone.Payload(k)[i]); got != want {
				t.Fatalf("packet %d not at its time: sample %d is %d, want %d", k, i, got, want)
			}
		}
	}
}

func TestTimestampWrapsAround(t *testing.T) {
	pkts := tonePackets(callerTone, 0, 100, callerPort, nil)
	for k, p := range pkts {
		ts := uint32(math.MaxUint32-160*50+1) + uint32(k*160) // wraps at packet 50
		p.rtp[4], p.rtp[5], p.rtp[6], p.rtp[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
	}
	a, err := Assemble(Options{Sides: testSides}, source("call", pcapOf(t, pcap.LinkRaw, pkts)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Frames != ms(2000) || a.Caller.Resyncs != 0 || len(a.Pauses) != 0 {
		t.Fatalf("frames %d, caller %+v, pauses %v", a.Frames, a.Caller, a.Pauses)
	}
}

func TestPCMU(t *testing.T) {
	tn := officerTone
	tn.PCMU = true
	a, err := Assemble(Options{Sides: testSides}, source("call", pcapOf(t, pcap.LinkEthernet, tonePackets(tn, 0, 50, officerPort, nil))))
	if err != nil {
		t.Fatal(err)
	}
	officer, caller := render(t, a)
	for i := range 160 {
		if got, want := officer[2*(20*160+i)], g711.DecodeULaw(tn.Payload(20)[i]); got != want {
			t.Fatalf("sample %d: %d, want %d", i, got, want)
		}
	}
	if !silent(caller, 0, a.Frames) {
		t.Fatal("the caller channel of a one-way call is not silent")
	}
}

func TestOtherPacketsAreSkipped(t *testing.T) {
	pkts := tonePackets(callerTone, 0, 50, callerPort, nil)
	rtcp := sent{at: t0.Add(500 * time.Millisecond), dst: callerPort, rtp: []byte{0x80, 200, 0, 6, 0xaa, 0xaa, 0, 1, 0, 0, 0, 0}}
	stun := sent{at: t0.Add(510 * time.Millisecond), dst: callerPort, rtp: []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	dtmf := tonePackets(callerTone, 25, 26, callerPort, nil)[0]
	dtmf.rtp = append([]byte(nil), dtmf.rtp[:16]...)
	dtmf.rtp[1] = 101
	cn := tonePackets(callerTone, 26, 27, callerPort, nil)[0]
	cn.rtp = append([]byte(nil), cn.rtp[:13]...)
	cn.rtp[1] = 13
	a, err := Assemble(Options{Sides: testSides}, source("call", pcapOf(t, pcap.LinkEthernet, pkts, []sent{rtcp, stun, dtmf, cn})))
	if err != nil {
		t.Fatal(err)
	}
	if a.Ignored != 2 || a.Caller.Events != 2 || a.Caller.Packets != 50 {
		t.Fatalf("ignored %d, caller %+v", a.Ignored, a.Caller)
	}
}

func TestRefusesWhatItCannotPlaceTruthfully(t *testing.T) {
	good := pcapOf(t, pcap.LinkEthernet, tonePackets(callerTone, 0, 10, callerPort, nil))
	g722 := tonePackets(callerTone, 0, 10, callerPort, nil)
	for _, p := range g722 {
		p.rtp[1] = 9
	}
	stranger := tonePackets(callerTone, 0, 10, netipMust("192.0.2.1:60000"), nil)
	tests := []struct {
		name string
		opts Options
		data []byte
		want error
	}{
		{"no sides", Options{}, good, ErrNoSides},
		{"an address of neither side", Options{Sides: testSides}, pcapOf(t, pcap.LinkEthernet, stranger), ErrUnknownAddress},
		{"G.722", Options{Sides: testSides}, pcapOf(t, pcap.LinkEthernet, g722), ErrUnsupportedCodec},
		{"audio before the origin", Options{Sides: testSides, Origin: t0.Add(time.Second)}, good, ErrBeforeOrigin},
		{"not a pcap", Options{Sides: testSides}, []byte("hello, this is not a capture file"), pcap.ErrNotPCAP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Assemble(tt.opts, source("call", tt.data))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTruncatedSourceKeepsItsAudio(t *testing.T) {
	data := pcapOf(t, pcap.LinkEthernet, tonePackets(callerTone, 0, 50, callerPort, nil))
	a, err := Assemble(Options{Sides: testSides}, source("cut", data[:len(data)-30]))
	if err != nil {
		t.Fatal(err)
	}
	if a.Caller.Packets != 49 || len(a.Truncated) != 1 || a.Truncated[0] != "cut" {
		t.Fatalf("caller %+v, truncated %v", a.Caller, a.Truncated)
	}
}

func TestEmptyStretch(t *testing.T) {
	empty := pcapOf(t, pcap.LinkEthernet)
	data := pcapOf(t, pcap.LinkEthernet, tonePackets(callerTone, 0, 50, callerPort, nil))
	a, err := Assemble(Options{Sides: testSides}, source("empty", empty), source("call", data))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Empty) != 1 || len(a.Stretches) != 1 || a.Frames != ms(1000) {
		t.Fatalf("empty %v stretches %+v frames %d", a.Empty, a.Stretches, a.Frames)
	}
	none, err := Assemble(Options{Sides: testSides}, source("empty", empty))
	if err != nil || none.Frames != 0 {
		t.Fatalf("nothing recorded: %+v %v", none, err)
	}
	if n, err := none.WriteTo(io.Discard); n != 0 || err != nil {
		t.Fatalf("WriteTo of nothing: %d %v", n, err)
	}
}

// TestUpsamplingRemovesTheImage: a 1 kHz tone at 8 kHz, upsampled, has no
// image at 7 kHz (repeating samples would leave one at about -17 dB).
func TestUpsamplingRemovesTheImage(t *testing.T) {
	tn := testrig.Tone{BaseHz: 1000, Seconds: 2, SSRC: 1}
	a, err := Assemble(Options{Sides: testSides}, source("call", pcapOf(t, pcap.LinkEthernet, tonePackets(tn, 0, 100, callerPort, nil))))
	if err != nil {
		t.Fatal(err)
	}
	_, caller := render(t, a)
	win := caller[ms(500):ms(1500)]
	tone := testrig.DetectTone(win, SampleRate, testrig.Tone{BaseHz: 1000, Seconds: 1})
	ratio := goertzelPower(win, 7000) / goertzelPower(win, 1000)
	if r := 10 * math.Log10(ratio); r > -40 {
		t.Fatalf("image at 7 kHz is %.1f dB below the tone, want at least 40", -r)
	}
	if tone.RMS < 4000 {
		t.Fatalf("tone level %f", tone.RMS)
	}
}

func goertzelPower(x []int16, f float64) float64 {
	w := 2 * math.Cos(2*math.Pi*f/SampleRate)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+w*s1-s2, s1
	}
	return s1*s1 + s2*s2 - w*s1*s2
}

func FuzzAssemble(f *testing.F) {
	for _, name := range []string{"testdata/raw.pcap", "testdata/eth.pcap"} {
		data, _ := os.ReadFile(name)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		meta, _ := os.Open("testdata/raw.meta")
		m, _ := ReadMetadata(meta)
		meta.Close()
		sides, _ := m.Sides(Answerer)
		a, err := Assemble(Options{Sides: sides}, Source{Name: "fuzz", R: bytes.NewReader(data)})
		if err != nil {
			return
		}
		if a.Frames > 10*60*SampleRate {
			return // a huge span from garbage timestamps: not worth writing out
		}
		n, err := a.WriteTo(io.Discard)
		if err != nil || n != a.Frames*BytesPerFrame {
			t.Fatalf("wrote %d of %d frames: %v", n, a.Frames, err)
		}
	})
}
