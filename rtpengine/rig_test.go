package rtpengine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/rtpengine/bencode"
	"github.com/callguard/callguard/rtpengine/pcapaudio"
)

// The tones of the rig's calls: every source second has its own frequency,
// and the two directions are 50 Hz apart, so each stored 100 ms says which
// direction and which second of the source it came from.
var (
	callerTone  = testrig.Tone{BaseHz: 400, StepHz: 100, Seconds: 10, SSRC: 0xaaaa0001}
	officerTone = testrig.Tone{BaseHz: 450, StepHz: 100, Seconds: 10, SSRC: 0xbbbb0002}
)

// talkingCall is an inbound call through Kamailio and rtpengine: a SIPp
// caller and the officer's SIPp phone each play their tones, and rtpengine
// records the call from the offer on.
type talkingCall struct {
	rtp    *testrig.RTPEngine
	sipp   *testrig.SIPp
	direct *rtpengine.Client // straight to rtpengine, for queries
	callID string
	call   *rtpengine.Call // the query once media flowed both ways
	media  time.Time       // when media was seen flowing both ways
}

func startTalkingCall(t *testing.T, holdFor time.Duration) *talkingCall {
	t.Helper()
	rtp := testrig.StartRTPEngine(t, testrig.RTPEngineOptions{})
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{RTPEngine: rtp.NG()})
	dir := t.TempDir()
	callerPCAP, officerPCAP := filepath.Join(dir, "caller.pcap"), filepath.Join(dir, "officer.pcap")
	if err := testrig.WriteTonePCAP(callerPCAP, callerTone); err != nil {
		t.Fatal(err)
	}
	if err := testrig.WriteTonePCAP(officerPCAP, officerTone); err != nil {
		t.Fatal(err)
	}
	testrig.SIPpTonePhone(t, pbx, "1001", testrig.TonePhoneOptions{Tones: officerPCAP, RingFor: 100 * time.Millisecond})
	sipp := testrig.SIPpToneCall(t, pbx, "07700900123", "1001", testrig.ToneCallOptions{HoldFor: holdFor, Tones: callerPCAP})
	direct, err := rtpengine.Dial(rtp.NG())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	tc := &talkingCall{rtp: rtp, sipp: sipp, direct: direct}
	ctx := context.Background()
	testrig.Eventually(t, 10*time.Second, func() bool {
		ids, err := direct.List(ctx, 10)
		if err != nil || len(ids) != 1 {
			return false
		}
		tc.callID = ids[0]
		call, err := direct.Query(ctx, tc.callID)
		if err != nil || len(call.Tags) != 2 {
			return false
		}
		for _, tag := range call.Tags {
			flowing := false
			for _, s := range tag.Streams {
				flowing = flowing || !s.RTCP && s.Packets > 0
			}
			if !flowing {
				return false
			}
		}
		tc.call, tc.media = call, time.Now()
		return true
	}, "media never flowed both ways through rtpengine")
	if ids := sipp.CallIDs(); len(ids) == 0 || ids[0] != tc.callID {
		t.Fatalf("rtpengine knows the call as %q, SIPp as %v", tc.callID, ids)
	}
	return tc
}

// sides tells the directions apart the way the adapter will: the officer's
// SIP tag (the phone's To tag, from the dialog feed) names its streams.
func (tc *talkingCall) sides(t *testing.T) pcapaudio.Sides {
	t.Helper()
	sides := pcapaudio.Sides{}
	for _, name := range tc.call.TagNames() {
		side := pcapaudio.SideCaller
		if strings.Contains(name, "phone") {
			side = pcapaudio.SideOfficer
		}
		for _, a := range tc.call.ReceivesFrom(name) {
			sides[a] = side
		}
	}
	if len(sides) != 2 {
		t.Fatalf("sides %v from tags %v", sides, tc.call.TagNames())
	}
	return sides
}

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// command is one ng command the test sent and when.
type command struct {
	name   string
	sent   time.Time // when the first copy left
	took   time.Duration
	paused bool // stop recording
}

// TestRecordingPausedTwiceThroughKamailio is issue 19's call: inbound, through
// Kamailio and rtpengine, recording stopped and started twice over ng, the
// first stop's answer lost on the way back. The assembled recording holds
// exactly the unpaused source seconds in both directions, each at its true
// time, cut within one packet (20 ms) of each command; the paused stretches
// are digital silence; and the retransmitted stop was applied once, when its
// first copy arrived.
func TestRecordingPausedTwiceThroughKamailio(t *testing.T) {
	t.Parallel()
	testrig.NotShort(t, "a 7.5 s call through Kamailio and rtpengine")
	tc := startTalkingCall(t, 7500*time.Millisecond)
	lostOnce := false
	relay := testrig.StartNGRelay(t, tc.rtp.NG(), func(cmd string, nth int) bool {
		if cmd == "stop recording" && nth == 0 && !lostOnce {
			lostOnce = true
			return true
		}
		return false
	})
	client, err := rtpengine.Dial(relay.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	var cmds []command
	for _, step := range []struct {
		at    time.Duration
		pause bool
	}{{1500 * time.Millisecond, true}, {3200 * time.Millisecond, false}, {4600 * time.Millisecond, true}, {5900 * time.Millisecond, false}} {
		sleepUntil(tc.media.Add(step.at))
		c := command{sent: time.Now(), paused: step.pause}
		if step.pause {
			c.name, err = "stop recording", client.StopRecording(context.Background(), tc.callID)
		} else {
			c.name, err = "start recording", client.StartRecording(context.Background(), tc.callID)
		}
		c.took = time.Since(c.sent)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		cmds = append(cmds, c)
	}
	tc.sipp.Wait(t, 20*time.Second)

	// The lost answer: the first stop was sent twice with one cookie, answered
	// after the retransmission, and rtpengine applied two stops in all, not three.
	if got := relay.CopiesOf("stop recording"); !slices.Equal(sorted(got), []int{1, 2}) {
		t.Fatalf("copies of each stop: %v, want one sent twice", got)
	}
	if cmds[0].took < rtpengine.DefaultRetransmit || cmds[0].took > rtpengine.DefaultTimeout {
		t.Fatalf("the stop whose answer was lost took %v", cmds[0].took)
	}
	stats := controlStatistics(t, tc.direct)
	if stats["totalstopreccount"] != 2 || stats["totalstartreccount"] != 2 {
		t.Fatalf("rtpengine applied %d stops and %d starts, want 2 and 2", stats["totalstopreccount"], stats["totalstartreccount"])
	}
	if n := tc.rtp.Count("as a duplicate"); n != 1 {
		t.Fatalf("rtpengine saw %d duplicates, want 1", n)
	}

	// Three stretches, each in its own pcap, closed at BYE.
	var stretches []testrig.Stretch
	testrig.Eventually(t, 5*time.Second, func() bool {
		stretches, err = tc.rtp.Stretches(tc.callID)
		return err == nil && len(stretches) == 3 && len(tc.rtp.OpenPCAPs()) == 0
	}, "three closed stretches, have %v", stretches)
	asm := assemble(t, tc.sides(t), stretches)
	t.Logf("origin %s, %d frames, stretches %+v, pauses %+v, officer %+v, caller %+v",
		asm.Origin.Format("15:04:05.000"), asm.Frames, asm.Stretches, asm.Pauses, asm.Officer, asm.Caller)
	if len(asm.Pauses) != 2 || asm.Officer.Lost+asm.Caller.Lost != 0 {
		t.Fatalf("pauses %+v, officer %+v, caller %+v", asm.Pauses, asm.Officer, asm.Caller)
	}

	// Each cut is within one packet of its command: a stop's last stored
	// audio ends at most 20 ms before it (the packet that was on its way),
	// a start's first begins at most 20 ms before it (the packet that was
	// being spoken). 5 ms more for scheduling on a loaded machine; the
	// retransmission came 50 ms after the first copy, so a stop applied
	// then would not pass.
	const slack = 5
	for i, p := range asm.Pauses {
		stop, start := msSince(asm.Origin, cmds[2*i].sent), msSince(asm.Origin, cmds[2*i+1].sent)
		t.Logf("pause %d: stop sent at %d ms, audio ends %d ms; start sent at %d ms, audio resumes %d ms",
			i+1, stop, p.StartMS, start, p.EndMS)
		if p.StartMS < stop-20-slack || p.StartMS > stop+slack {
			t.Errorf("pause %d starts at %d ms, the stop was sent at %d ms", i+1, p.StartMS, stop)
		}
		if p.EndMS < start-20-slack || p.EndMS > start+slack {
			t.Errorf("pause %d ends at %d ms, the start was sent at %d ms", i+1, p.EndMS, start)
		}
	}

	officer, caller := render(t, asm)
	for i, p := range asm.Pauses {
		for name, ch := range map[string][]int16{"officer": officer, "caller": caller} {
			if v, at := firstNonZero(ch, ms(p.StartMS), ms(p.EndMS)); at >= 0 {
				t.Errorf("pause %d: the %s channel holds %d at %d ms, not digital silence", i+1, name, v, at*1000/pcapaudio.SampleRate)
			}
		}
	}
	checkSourceSeconds(t, "officer", officer, 1, asm)
	checkSourceSeconds(t, "caller", caller, 0, asm)
	if t.Failed() {
		saveForReview(t, asm)
	}
}

// checkSourceSeconds checks that every 100 ms of a channel inside a
// recorded stretch carries the tone (0 caller, 1 officer) of the source
// second that was playing at that moment: what was recorded is at its true
// time, and nothing from a paused second is anywhere.
func checkSourceSeconds(t *testing.T, name string, ch []int16, tone int, asm *pcapaudio.Assembly) {
	t.Helper()
	// The tone's source second 0 starts with the first stored packet of
	// this direction (recording ran from the offer, before any media).
	_, first := firstNonZero(ch, 0, int64(len(ch)))
	if first < 0 {
		t.Fatalf("%s channel: silent", name)
	}
	m := first * 1000 / pcapaudio.SampleRate
	seen := map[int]bool{}
	checked := 0
	for _, st := range asm.Stretches {
		for u := st.StartMS + 30; u+130 <= st.EndMS; u += 100 {
			if (u-m-30)/1000 != (u+130-m)/1000 {
				continue // near a change of second
			}
			want := int((u + 50 - m) / 1000)
			got := testrig.DetectTone(ch[ms(u):ms(u+100)], pcapaudio.SampleRate, callerTone, officerTone)
			checked++
			if got.Tone != tone || got.Second != want || got.Ratio < 5 {
				t.Errorf("%s channel at %d ms: heard tone %d second %d (ratio %.1f), want tone %d second %d",
					name, u, got.Tone, got.Second, got.Ratio, tone, want)
				continue
			}
			seen[want] = true
		}
	}
	secs := make([]int, 0, len(seen))
	for s := range seen {
		secs = append(secs, s)
	}
	slices.Sort(secs)
	t.Logf("%s channel: %d windows checked, source seconds heard %v", name, checked, secs)
	if checked < 30 {
		t.Errorf("%s channel: only %d windows to check", name, checked)
	}
}

// TestRetransmittedCommandIsAppliedOnce loses the first two answers to a
// stop on purpose: the client sends the same datagram three times and
// rtpengine's cookie cache applies it once.
func TestRetransmittedCommandIsAppliedOnce(t *testing.T) {
	t.Parallel()
	rtp := testrig.StartRTPEngine(t, testrig.RTPEngineOptions{})
	callID := offerAnswer(t, rtp.NG(), "lossy@test")
	relay := testrig.StartNGRelay(t, rtp.NG(), func(cmd string, nth int) bool { return cmd == "stop recording" && nth < 2 })
	client, err := rtpengine.Dial(relay.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	start := time.Now()
	if err := client.StopRecording(context.Background(), callID); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if got := relay.CopiesOf("stop recording"); !slices.Equal(got, []int{3}) {
		t.Fatalf("copies %v, want one command sent 3 times", got)
	}
	if took < 150*time.Millisecond {
		t.Fatalf("answered after %v: the answers were not lost", took)
	}
	direct, err := rtpengine.Dial(rtp.NG())
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if n := controlStatistics(t, direct)["totalstopreccount"]; n != 1 {
		t.Fatalf("rtpengine applied the stop %d times", n)
	}
	if d, off := rtp.Count("as a duplicate"), rtp.Count("Turning off call recording"); d != 2 || off != 1 {
		t.Fatalf("log: %d duplicates, recording turned off %d times; want 2 and 1", d, off)
	}
}

// TestRTPEngineKilledMidCall kills rtpengine while a call talks through it:
// the next command fails with a timeout within the client's deadline, never
// a success.
func TestRTPEngineKilledMidCall(t *testing.T) {
	t.Parallel()
	tc := startTalkingCall(t, 3*time.Second)
	client, err := rtpengine.Dial(tc.rtp.NG())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.StopRecording(context.Background(), tc.callID); err != nil {
		t.Fatalf("while rtpengine runs: %v", err)
	}
	tc.rtp.Kill(t)
	start := time.Now()
	err = client.StartRecording(context.Background(), tc.callID)
	took := time.Since(start)
	var te *rtpengine.TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, rtpengine.ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	t.Logf("%v after %v: %+v", err, took, *te)
	if took < rtpengine.DefaultTimeout || took > rtpengine.DefaultTimeout+100*time.Millisecond {
		t.Fatalf("gave up after %v, want %v", took, rtpengine.DefaultTimeout)
	}
	if !te.Refused {
		t.Fatal("a killed rtpengine was not reported as refusing")
	}
	tc.sipp.Kill()
}

// TestReInviteDuringAPause pins what rtpengine does to a paused recording
// when the call is re-negotiated (hold, resume, a codec change): a re-offer
// without record-call leaves it stopped, as the Kamailio configuration in
// docs/phone-systems.md sends; one that carries record-call=on, as a
// configuration that flags every INVITE would, silently starts recording
// again in the middle of the pause.
func TestReInviteDuringAPause(t *testing.T) {
	t.Parallel()
	rtp := testrig.StartRTPEngine(t, testrig.RTPEngineOptions{})
	callID := offerAnswer(t, rtp.NG(), "reinvite@test")
	c, err := rtpengine.Dial(rtp.NG())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.StopRecording(ctx, callID); err != nil {
		t.Fatal(err)
	}
	hold := "v=0\r\no=- 40000 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendonly\r\n"
	reinvite := func(flags bencode.Dict) {
		t.Helper()
		offer := bencode.Dict{"call-id": callID, "from-tag": "caller", "to-tag": "officer", "sdp": hold}
		for k, v := range flags {
			offer[k] = v
		}
		if _, err := c.Do(ctx, "offer", offer); err != nil {
			t.Fatal(err)
		}
		answer := strings.ReplaceAll(strings.ReplaceAll(hold, "40000", "40002"), "sendonly", "recvonly")
		if _, err := c.Do(ctx, "answer", bencode.Dict{"call-id": callID, "from-tag": "caller", "to-tag": "officer", "sdp": answer}); err != nil {
			t.Fatal(err)
		}
	}
	reinvite(nil)
	if open := openRecordings(rtp); open != 0 || rtp.Count("Turning on call recording") != 1 {
		t.Fatalf("a re-INVITE without record-call resumed the paused recording (%d files open)", open)
	}
	reinvite(bencode.Dict{"record-call": "on"})
	if open := openRecordings(rtp); open != 1 || rtp.Count("Turning on call recording") != 2 {
		t.Fatalf("rtpengine no longer resumes recording on a re-offer with record-call=on (%d files open): "+
			"update docs/phone-systems.md", open)
	}
}

// openRecordings counts the recordings rtpengine has open.
func openRecordings(rtp *testrig.RTPEngine) int { return len(rtp.OpenPCAPs()) }

// BenchmarkCommandRoundTrip measures stop and start recording, command to
// rtpengine's answer, on loopback: p50 and p99.
func BenchmarkCommandRoundTrip(b *testing.B) {
	rtp := testrig.StartRTPEngine(b, testrig.RTPEngineOptions{})
	callID := offerAnswer(b, rtp.NG(), "bench@test")
	client, err := rtpengine.Dial(rtp.NG())
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	var took []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		if i%2 == 0 {
			err = client.StopRecording(ctx, callID)
		} else {
			err = client.StartRecording(ctx, callID)
		}
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

// offerAnswer sets up a call in rtpengine over ng alone (no SIP, no media),
// recording from the offer.
func offerAnswer(t testing.TB, ng, callID string) string {
	t.Helper()
	c, err := rtpengine.Dial(ng)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sdp := func(port int) string {
		return fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n", port, port)
	}
	ctx := context.Background()
	if _, err := c.Do(ctx, "offer", bencode.Dict{"call-id": callID, "from-tag": "caller", "sdp": sdp(40000), "record-call": "on"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, "answer", bencode.Dict{"call-id": callID, "from-tag": "caller", "to-tag": "officer", "sdp": sdp(40002)}); err != nil {
		t.Fatal(err)
	}
	return callID
}

// controlStatistics returns rtpengine's command counters (totalstopreccount…).
func controlStatistics(t testing.TB, c *rtpengine.Client) map[string]int64 {
	t.Helper()
	a, err := c.Do(context.Background(), "statistics", nil)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := a.Dict("statistics")
	cs, ok := st.Dict("controlstatistics")
	if !ok {
		t.Fatalf("no controlstatistics in %v", a)
	}
	out := map[string]int64{}
	for k, v := range cs {
		if n, ok := v.(int64); ok {
			out[k] = n
		}
	}
	return out
}

func assemble(t *testing.T, sides pcapaudio.Sides, stretches []testrig.Stretch) *pcapaudio.Assembly {
	t.Helper()
	var srcs []pcapaudio.Source
	for _, s := range stretches {
		f, err := os.Open(s.PCAP)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		srcs = append(srcs, pcapaudio.Source{Name: filepath.Base(s.PCAP), R: f})
	}
	asm, err := pcapaudio.Assemble(pcapaudio.Options{Sides: sides}, srcs...)
	if err != nil {
		t.Fatal(err)
	}
	return asm
}

func render(t *testing.T, asm *pcapaudio.Assembly) (officer, caller []int16) {
	t.Helper()
	var b bytes.Buffer
	if _, err := asm.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	officer, caller = make([]int16, asm.Frames), make([]int16, asm.Frames)
	for i := range officer {
		officer[i] = int16(uint16(data[4*i]) | uint16(data[4*i+1])<<8)
		caller[i] = int16(uint16(data[4*i+2]) | uint16(data[4*i+3])<<8)
	}
	return officer, caller
}

// saveForReview keeps the assembled audio of a failed run as a WAV file
// for a person to listen to (in the test's temp directory, logged).
func saveForReview(t *testing.T, asm *pcapaudio.Assembly) {
	var b bytes.Buffer
	asm.WriteTo(&b)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("%s-%d.raw", t.Name(), time.Now().UnixNano()))
	os.WriteFile(path, b.Bytes(), 0o644)
	t.Logf("assembled audio (PCM16 16 kHz stereo, raw) kept in %s", path)
}

func firstNonZero(s []int16, from, to int64) (int16, int64) {
	for i := max(from, 0); i < min(to, int64(len(s))); i++ {
		if s[i] != 0 {
			return s[i], i
		}
	}
	return 0, -1
}

func ms(v int64) int64 { return v * pcapaudio.SampleRate / 1000 }

func msSince(origin, t time.Time) int64 { return t.Sub(origin).Milliseconds() }

func sorted(x []int) []int { slices.Sort(x); return x }
