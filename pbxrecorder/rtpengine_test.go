package pbxrecorder_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/collector"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/pbxrecorder"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/rtpengine/bencode"
	"github.com/callguard/callguard/rtpengine/pcap"
	"github.com/callguard/callguard/rtpengine/pcapaudio"
)

var (
	callerTone  = testrig.Tone{BaseHz: 400, StepHz: 100, Seconds: 10, SSRC: 0xaaaa0001}
	officerTone = testrig.Tone{BaseHz: 450, StepHz: 100, Seconds: 10, SSRC: 0xbbbb0002}
)

// rig is one call talking through Kamailio and rtpengine, which records
// only what the core starts, and a core that records at the phone system.
type rig struct {
	rtp    *testrig.RTPEngine
	sipp   *testrig.SIPp
	ng     *rtpengine.Client
	callID string
	call   *rtpengine.Call
	core   *app.Core
	snaps  <-chan app.Snapshot
	// stretches are the call's closed pcaps, once recording returned.
	stretches []testrig.Stretch
}

func startRig(t *testing.T, holdFor time.Duration) *rig {
	t.Helper()
	rtp := testrig.StartRTPEngine(t, testrig.RTPEngineOptions{})
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{RTPEngine: rtp.NG(), RecordOnCommand: true})
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
	ng, err := rtpengine.Dial(rtp.NG())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ng.Close() })
	r := &rig{rtp: rtp, sipp: sipp, ng: ng}
	ctx := context.Background()
	testrig.Eventually(t, 10*time.Second, func() bool {
		ids, err := ng.List(ctx, 10)
		if err != nil || len(ids) != 1 {
			return false
		}
		call, err := ng.Query(ctx, ids[0])
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
		r.callID, r.call = ids[0], call
		return true
	}, "media never flowed both ways through rtpengine")

	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	pol.Record.Where = policy.RecordAtPhoneSystem
	r.core = app.NewCore(app.MachineConfig{
		Policy:   pol,
		Agent:    app.AgentView{ID: "1001"},
		Language: "en-GB",
		Recorder: app.PhoneSystemRecorder(pbxrecorder.NewRTPEngine(ng), pol.Record.ConfirmWithinOrDefault()),
		Sink:     apptest.Discard{},
		Logger:   slog.New(slog.DiscardHandler),
	})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.core.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	snaps, unsub := r.core.Subscribe()
	t.Cleanup(unsub)
	r.snaps = snaps
	r.core.HandleCall(app.CallEvent{Kind: app.LinkUp})
	return r
}

// answer tells the core what the dialog feed says when the call connects:
// its call-id is the key rtpengine knows the call by.
func (r *rig) answer(dir app.Direction) {
	r.core.HandleCall(app.CallEvent{Kind: app.CallAnswered, DialogID: "d1", CallID: r.callID, Direction: dir,
		Local: app.Party{Number: "1001"}, Remote: app.Party{Number: "07700900123"}})
}

func (r *rig) end() {
	r.core.HandleCall(app.CallEvent{Kind: app.CallEnded, DialogID: "d1", CallID: r.callID})
}

func (r *rig) waitState(t *testing.T, want app.RecordingState) app.Snapshot {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s := <-r.snaps:
			if s.State == want {
				return s
			}
		case <-deadline:
			t.Fatalf("the core never showed %s (now %s)", want, r.core.Snapshot().State)
		}
	}
}

func (r *rig) sides(t *testing.T) pcapaudio.Sides {
	t.Helper()
	sides := pcapaudio.Sides{}
	for _, name := range r.call.TagNames() {
		side := pcapaudio.SideCaller
		if strings.Contains(name, "phone") {
			side = pcapaudio.SideOfficer
		}
		for _, a := range r.call.ReceivesFrom(name) {
			sides[a] = side
		}
	}
	return sides
}

// recording waits for the call's closed stretches and assembles them.
func (r *rig) recording(t *testing.T, stretches int) (*pcapaudio.Assembly, []int16, []int16) {
	t.Helper()
	var got []testrig.Stretch
	testrig.Eventually(t, 10*time.Second, func() bool {
		var err error
		got, err = r.rtp.Stretches(r.callID)
		return err == nil && len(got) == stretches && len(r.rtp.OpenPCAPs()) == 0
	}, "%d closed stretches, have %v", stretches, got)
	r.stretches = got
	var srcs []pcapaudio.Source
	for _, s := range got {
		f, err := os.Open(s.PCAP)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		srcs = append(srcs, pcapaudio.Source{Name: filepath.Base(s.PCAP), R: f})
	}
	asm, err := pcapaudio.Assemble(pcapaudio.Options{Sides: r.sides(t)}, srcs...)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := asm.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	officer, caller := make([]int16, asm.Frames), make([]int16, asm.Frames)
	for i := range officer {
		officer[i] = int16(uint16(data[4*i]) | uint16(data[4*i+1])<<8)
		caller[i] = int16(uint16(data[4*i+2]) | uint16(data[4*i+3])<<8)
	}
	return asm, officer, caller
}

// command is one intent the test gave the core, and when: sent before the
// core was asked, done once it answered (rtpengine confirmed).
type command struct{ sent, done time.Time }

func do(t *testing.T, f func() error) command {
	t.Helper()
	c := command{sent: time.Now()}
	if err := f(); err != nil {
		t.Fatal(err)
	}
	c.done = time.Now()
	return c
}

func ms(v int64) int64 { return v * pcapaudio.SampleRate / 1000 }

func msSince(origin, t time.Time) int64 { return t.Sub(origin).Milliseconds() }

func nonZero(s []int16, from, to int64) int64 {
	for i := max(from, 0); i < min(to, int64(len(s))); i++ {
		if s[i] != 0 {
			return i
		}
	}
	return -1
}

// cutNear checks that a cut at atMS of the recording fell within one packet
// (20 ms) of the command c, 5 ms more for scheduling.
func cutNear(t *testing.T, what string, atMS int64, origin time.Time, c command) {
	t.Helper()
	from, to := msSince(origin, c.sent)-20-5, msSince(origin, c.done)+5
	if atMS < from || atMS > to {
		t.Errorf("%s at %d ms, the command went between %d and %d ms", what, atMS, from+25, to-5)
	}
}

// TestCorePausesTheRecordingAtThePhoneSystem: an inbound call recorded only
// by rtpengine, which the core starts on answer and pauses twice. rtpengine
// holds exactly the unpaused stretches, both directions, cut within one
// packet of each command; the paused time is digital silence; the banner
// said paused only once rtpengine had confirmed.
//
// The tests run one at a time: each is a real call, and on a 2-core machine
// three at once delay the timers the cuts are measured against.
func TestCorePausesTheRecordingAtThePhoneSystem(t *testing.T) {
	testrig.NotShort(t, "a 6 s call through Kamailio and rtpengine")
	r := startRig(t, 6*time.Second)
	if n := len(r.rtp.OpenPCAPs()); n != 0 {
		t.Fatalf("rtpengine records %d stretches before the call was answered", n)
	}
	start := time.Now()
	r.answer(app.DirectionInbound)
	r.waitState(t, app.StateRecording)
	var cmds []command
	for i, at := range []time.Duration{1200 * time.Millisecond, 2400 * time.Millisecond, 3400 * time.Millisecond, 4400 * time.Millisecond} {
		time.Sleep(time.Until(start.Add(at)))
		if i%2 == 0 {
			cmds = append(cmds, do(t, func() error { return r.core.Pause("payment") }))
			if s := r.core.Snapshot(); s.State != app.StatePaused {
				t.Fatalf("after the pause returned the state is %s", s.State)
			}
		} else {
			cmds = append(cmds, do(t, r.core.Resume))
		}
	}
	r.sipp.Wait(t, 20*time.Second)
	r.end()

	asm, officer, caller := r.recording(t, 3)
	t.Logf("origin %s, stretches %+v, pauses %+v", asm.Origin.Format("15:04:05.000"), asm.Stretches, asm.Pauses)
	if len(asm.Pauses) != 2 {
		t.Fatalf("pauses %+v, want 2", asm.Pauses)
	}
	// The first stored packet is the one under way when the answer came.
	if d := asm.Origin.Sub(start); d < -25*time.Millisecond || d > 100*time.Millisecond {
		t.Errorf("the recording began %v after the answer", d)
	}
	for i, p := range asm.Pauses {
		cutNear(t, "pause "+string(rune('1'+i))+" start", p.StartMS, asm.Origin, cmds[2*i])
		cutNear(t, "pause "+string(rune('1'+i))+" end", p.EndMS, asm.Origin, cmds[2*i+1])
		for name, ch := range map[string][]int16{"officer": officer, "caller": caller} {
			if at := nonZero(ch, ms(p.StartMS), ms(p.EndMS)); at >= 0 {
				t.Errorf("pause %d: the %s channel is not digital silence at %d ms", i+1, name, at*1000/pcapaudio.SampleRate)
			}
		}
	}
	for _, st := range asm.Stretches {
		for name, ch := range map[string][]int16{"officer": officer, "caller": caller} {
			if nonZero(ch, ms(st.StartMS+40), ms(st.EndMS-40)) < 0 {
				t.Errorf("stretch %d–%d ms: the %s channel is silent", st.StartMS, st.EndMS, name)
			}
		}
	}
	collect(t, r, asm, officer, caller)
}

// collect turns the call's stretches into a callguard recording and checks
// it decrypts, with the organisation's key, to exactly the assembled audio,
// with the pauses rtpengine applied in its manifest.
func collect(t *testing.T, r *rig, asm *pcapaudio.Assembly, officer, caller []int16) {
	t.Helper()
	dir := t.TempDir()
	identity, recipient, err := artefact.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(dir, "org.key")
	if err := os.WriteFile(idFile, []byte(identity+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ids, err := artefact.ParseIdentityFile(idFile)
	if err != nil {
		t.Fatal(err)
	}
	var pcaps []string
	for _, s := range r.stretches {
		pcaps = append(pcaps, s.PCAP)
	}
	out := filepath.Join(dir, "spool")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	m, err := collector.Convert(collector.Call{ID: "c0ffee01", Agent: "1001", Direction: "inbound", Remote: "07700900123",
		Notice: "announced", Sides: r.sides(t)}, pcaps, []string{recipient}, out)
	if err != nil {
		t.Fatal(err)
	}
	audio := filepath.Join(out, m.AudioFile)
	rep, err := artefact.Verify(audio, filepath.Join(out, "c0ffee01.json"), ids)
	if err != nil || !rep.OK() {
		t.Fatalf("the collected recording does not verify: %v %v", err, rep.Problems)
	}
	var wav bytes.Buffer
	if _, err := artefact.Decrypt(audio, ids, &wav); err != nil {
		t.Fatal(err)
	}
	data := wav.Bytes()[artefact.WAVHeaderSize:]
	if int64(len(data)) != asm.Frames*4 || m.Frames != asm.Frames {
		t.Fatalf("decrypted %d bytes, manifest %d frames, assembled %d frames", len(data), m.Frames, asm.Frames)
	}
	for i := range officer {
		o := int16(uint16(data[4*i]) | uint16(data[4*i+1])<<8)
		c := int16(uint16(data[4*i+2]) | uint16(data[4*i+3])<<8)
		if o != officer[i] || c != caller[i] {
			t.Fatalf("frame %d decrypts to %d/%d, assembled %d/%d", i, o, c, officer[i], caller[i])
		}
	}
	if len(m.Pauses) != len(asm.Pauses) {
		t.Fatalf("manifest pauses %+v, assembled %+v", m.Pauses, asm.Pauses)
	}
	for i, p := range asm.Pauses {
		if mp := m.Pauses[i]; mp.StartMS != p.StartMS || mp.EndMS == nil || *mp.EndMS != p.EndMS || mp.Reason != collector.PauseReason {
			t.Errorf("manifest pause %d %+v, assembled %+v", i, mp, p)
		}
	}
	plain, _ := filepath.Glob(filepath.Join(out, "*.wav"))
	if len(plain) != 0 {
		t.Fatalf("plaintext audio on disk: %v", plain)
	}
}

// TestOutboundRecordsNothingBeforeTheNotice: rtpengine records nothing of an
// answered outbound call until the notice was read, and nothing more once
// the caller objected.
func TestOutboundRecordsNothingBeforeTheNotice(t *testing.T) {
	testrig.NotShort(t, "a 4 s call through Kamailio and rtpengine")
	r := startRig(t, 4*time.Second)
	r.answer(app.DirectionOutbound)
	r.waitState(t, app.StateAwaitingNotice)
	time.Sleep(time.Second)
	if n := len(r.rtp.OpenPCAPs()); n != 0 {
		t.Fatalf("rtpengine records %d stretches before the notice", n)
	}
	read := do(t, func() error { return r.core.Notice(app.NoticeRead) })
	time.Sleep(time.Second)
	objected := do(t, func() error { return r.core.Notice(app.NoticeObjected) })
	if s := r.core.Snapshot(); s.State != app.StateDeclined {
		t.Fatalf("state %s after the objection", s.State)
	}
	r.sipp.Wait(t, 20*time.Second)
	r.end()
	asm, _, _ := r.recording(t, 1)
	if len(asm.Stretches) != 1 {
		t.Fatalf("stretches %+v, want one", asm.Stretches)
	}
	// rtpengine writes each packet as it arrives: the first stored one
	// came after the notice was read, the last before the objection was
	// confirmed.
	first, last := captured(t, r.stretches[0].PCAP)
	t.Logf("notice read %s–%s, first packet %s; objection %s–%s, last packet %s",
		hms(read.sent), hms(read.done), hms(first), hms(objected.sent), hms(objected.done), hms(last))
	if first.Before(read.sent) {
		t.Errorf("rtpengine stored a packet from %v before the notice was read", read.sent.Sub(first))
	}
	if last.After(objected.done) {
		t.Errorf("rtpengine stored a packet %v after the caller's objection was confirmed", last.Sub(objected.done))
	}
	if d := last.Sub(first); d < 900*time.Millisecond {
		t.Errorf("only %v recorded between the notice and the objection", d)
	}
}

func hms(t time.Time) string { return t.Format("15:04:05.000") }

// captured returns when the first and the last packet of a pcap were
// captured.
func captured(t *testing.T, path string) (first, last time.Time) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := pcap.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if first.IsZero() {
			first = rec.Time
		}
		last = rec.Time
	}
	if first.IsZero() {
		t.Fatalf("%s holds no packet", path)
	}
	return first, last
}

// TestRTPEngineKilledMidCallIsAnAlarm: with rtpengine gone, a pause is
// never shown as paused; the alarm in words comes within the confirmation
// time.
func TestRTPEngineKilledMidCallIsAnAlarm(t *testing.T) {
	testrig.NotShort(t, "a 3 s call through Kamailio and rtpengine")
	r := startRig(t, 3*time.Second)
	r.answer(app.DirectionInbound)
	r.waitState(t, app.StateRecording)
	r.rtp.Kill(t)
	c := do(t, func() error {
		if err := r.core.Pause("payment"); !errors.Is(err, app.ErrUnconfirmed) {
			return fmt.Errorf("pause: %v, want app.ErrUnconfirmed", err)
		}
		return nil
	})
	took := c.done.Sub(c.sent)
	s := r.core.Snapshot()
	t.Logf("pause with rtpengine gone: %v, state %s, %q", took, s.State, s.Reason)
	if s.State != app.StateUnconfirmed || !strings.Contains(s.Reason, "did not confirm the pause") {
		t.Fatalf("state %s/%q, want unconfirmed", s.State, s.Reason)
	}
	within := policy.DefaultConfirmWithin
	if took > within+150*time.Millisecond { // a loaded machine's timers

		t.Fatalf("the alarm came after %v, more than %v", took, within)
	}
	// Every snapshot published said what was known: never paused.
	for {
		select {
		case snap := <-r.snaps:
			if snap.State == app.StatePaused {
				t.Fatal("a snapshot said paused")
			}
			continue
		default:
		}
		break
	}
	r.sipp.Wait(t, 20*time.Second)
}

// TestPauseWithItsAnswerLostIsAppliedOnce: the answer to the core's first
// "stop recording" is lost on the way back; the client sends the same
// command again with the same cookie, rtpengine applies it once, and the
// banner says paused only after the answer to the copy came.
func TestPauseWithItsAnswerLostIsAppliedOnce(t *testing.T) {
	rtp := testrig.StartRTPEngine(t, testrig.RTPEngineOptions{})
	lost := false
	relay := testrig.StartNGRelay(t, rtp.NG(), func(cmd string, nth int) bool {
		if cmd == "stop recording" && nth == 0 && !lost {
			lost = true
			return true
		}
		return false
	})
	ng, err := rtpengine.Dial(relay.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer ng.Close()
	sdp := func(port int) string {
		return fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n", port, port)
	}
	ctx := context.Background()
	if _, err := ng.Do(ctx, "offer", bencode.Dict{"call-id": "lossy@test", "from-tag": "caller", "sdp": sdp(40000)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ng.Do(ctx, "answer", bencode.Dict{"call-id": "lossy@test", "from-tag": "caller", "to-tag": "officer", "sdp": sdp(40002)}); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	pol.Record.Where = policy.RecordAtPhoneSystem
	core := app.NewCore(app.MachineConfig{
		Policy: pol, Agent: app.AgentView{ID: "1001"}, Language: "en-GB",
		Recorder: app.PhoneSystemRecorder(pbxrecorder.NewRTPEngine(ng), pol.Record.ConfirmWithinOrDefault()),
		Sink:     apptest.Discard{}, Logger: slog.New(slog.DiscardHandler),
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { core.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	core.HandleCall(app.CallEvent{Kind: app.LinkUp})
	core.HandleCall(app.CallEvent{Kind: app.CallAnswered, DialogID: "d1", CallID: "lossy@test", Direction: app.DirectionInbound})
	testrig.Eventually(t, 5*time.Second, func() bool { return core.Snapshot().State == app.StateRecording }, "never recording")

	start := time.Now()
	if err := core.Pause("payment"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if s := core.Snapshot(); s.State != app.StatePaused {
		t.Fatalf("state %s/%q after the retransmitted stop", s.State, s.Reason)
	}
	if took < rtpengine.DefaultRetransmit {
		t.Fatalf("paused after %v, before any retransmission: the answer was not lost", took)
	}
	if got := relay.CopiesOf("stop recording"); !slices.Equal(got, []int{2}) {
		t.Fatalf("copies of each stop: %v, want one stop sent twice", got)
	}
	if off, dup := rtp.Count("Turning off call recording"), rtp.Count("as a duplicate"); off != 1 || dup != 1 {
		t.Fatalf("rtpengine turned recording off %d times and saw %d duplicates; want 1 and 1", off, dup)
	}
	t.Logf("pause confirmed after %v, its first answer lost", took)
}
