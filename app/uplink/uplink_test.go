package uplink_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"go.uber.org/goleak"
)

type noNotes struct{}

func (noNotes) Notify(app.Notification) {}

// recordingSink keeps a copy of every event the core emits on its way to
// the outbox.
type recordingSink struct {
	next app.EventSink
	mu   sync.Mutex
	evs  []app.Event
}

func (s *recordingSink) Append(e app.Event) error {
	s.mu.Lock()
	s.evs = append(s.evs, e)
	s.mu.Unlock()
	return s.next.Append(e)
}

// TestContractServerAcceptsWhatTheCoreEmits drives the real session core
// through calls that produce every event type, sends its outbox with the
// real client to a real server, and checks the server took every event and
// built the calls from them.
func TestContractServerAcceptsWhatTheCoreEmits(t *testing.T) {
	r := newRig(t, "")
	tok, device := r.agent("olive")
	ob := openOutbox(t, t.TempDir(), device)
	sink := &recordingSink{next: ob}
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return now.Add(time.Duration(s) * time.Second) }
	m := app.NewMachine(app.MachineConfig{Policy: pol, Agent: app.AgentView{ID: "olive"}, Language: "en-GB",
		Recorder: &apptest.Recorder{}, Sink: sink, Notifier: noNotes{}, Logger: quiet()}, now)

	remote := app.Party{Number: "+441632960123", Name: "A Caller"}
	local := app.Party{Number: "2001"}
	m.HandleCall(app.CallEvent{Kind: app.LinkUp, At: at(0)}, at(0))
	m.HandleCall(app.CallEvent{Kind: app.CallRinging, DialogID: "d1", CallID: "sip-1", Direction: app.DirectionInbound, Local: local, Remote: remote, At: at(1)}, at(1))
	m.HandleCall(app.CallEvent{Kind: app.CallAnswered, DialogID: "d1", CallID: "sip-1", Direction: app.DirectionInbound, Local: local, Remote: remote, At: at(3)}, at(3))
	if err := m.Pause("payment", at(10)); err != nil {
		t.Fatal(err)
	}
	if err := m.Resume(at(70)); err != nil {
		t.Fatal(err)
	}
	// The recorder silences two keypad tones.
	callID := m.Snapshot(at(72)).Call.ID
	m.Keypad(callID, app.KeypadEvent{Kind: app.KeypadMasked, FromMS: 69_000, ToMS: 69_220}, at(72))
	m.Keypad(callID, app.KeypadEvent{Kind: app.KeypadMasked, FromMS: 69_400, ToMS: 69_620}, at(73))
	if err := m.Flag(app.FlagRequest{Reason: "health", Note: "mentioned a diagnosis"}, at(80)); err != nil {
		t.Fatal(err)
	}
	m.HandleCall(app.CallEvent{Kind: app.CallEnded, DialogID: "d1", At: at(90)}, at(90))
	// An outbound call whose callee objects to recording.
	m.HandleCall(app.CallEvent{Kind: app.CallRinging, DialogID: "d2", Direction: app.DirectionOutbound, Local: local, Remote: app.Party{Number: "01632960999"}, At: at(100)}, at(100))
	m.HandleCall(app.CallEvent{Kind: app.CallAnswered, DialogID: "d2", Direction: app.DirectionOutbound, Local: local, Remote: app.Party{Number: "01632960999"}, At: at(105)}, at(105))
	if err := m.Notice(app.NoticeObjected, at(110)); err != nil {
		t.Fatal(err)
	}
	m.HandleCall(app.CallEvent{Kind: app.CallEnded, DialogID: "d2", At: at(130)}, at(130))
	m.HandleCall(app.CallEvent{Kind: app.LinkLost, Reason: "subscription timed out", At: at(140)}, at(140))

	emitted := sink.evs
	types := map[app.EventType]int{}
	for _, e := range emitted {
		types[e.Type]++
	}
	for _, want := range []app.EventType{app.EventCallRinging, app.EventCallAnswered, app.EventCallEnded, app.EventRecordingState, app.EventNotice, app.EventFlag, app.EventLink, app.EventKeypadMasked} {
		if types[want] == 0 {
			t.Fatalf("the scenario emitted no %s event: %v", want, types)
		}
	}
	// Exactly what the outbox will send decodes under the server's contract.
	queued, _ := ob.Peek(1000)
	body, _ := json.Marshal(map[string]any{"events": queued})
	items, err := server.DecodeBatch(body)
	if err != nil {
		t.Fatalf("the server's decoder refuses what the core emits: %v", err)
	}
	for _, it := range items {
		if it.Err != nil {
			t.Fatalf("the server's decoder refuses an event the core emits: %v", it.Err)
		}
	}

	c := runClient(t, uplink.Options{BaseURL: r.url, Token: static(tok), Outbox: ob})
	c.Kick()
	waitFor(t, 10*time.Second, "outbox drained", func() bool { return ob.Pending() == 0 })
	n, seqs := r.stored(device)
	if n != len(emitted) || seqs != len(emitted) {
		t.Fatalf("server stored %d events (%d seqs), core emitted %d", n, seqs, len(emitted))
	}
	calls, err := r.server().Store().SearchCalls(context.Background(), server.CallFilter{Agent: "olive"})
	if err != nil || len(calls) != 2 {
		t.Fatalf("calls: %d, %v", len(calls), err)
	}
	out, in := calls[0], calls[1]
	if in.Direction != "inbound" || in.Remote.Number != "+441632960123" || !in.Recorded || len(in.Pauses) != 1 ||
		in.Pauses[0].Reason != "payment" || in.PausedMS != 60_000 || len(in.Flags) != 1 || in.Ended == nil ||
		in.KeypadMasked != 2 || len(in.KeypadMasks) != 2 || in.KeypadMasks[1].FromMS != 69_400 {
		t.Errorf("inbound call: %+v", in)
	}
	if out.Direction != "outbound" || !out.Declined || out.Notice != "objected" || out.Recorded {
		t.Errorf("outbound call: %+v", out)
	}
	if s := c.Status(); !s.Online || s.Pending != 0 || s.LastError != "" {
		t.Errorf("status: %+v", s)
	}
}

// TestKill9WithEventsQueued kills a desktop process while it appends and
// sends, restarts the sync from its outbox, and checks that every event the
// child confirmed reached the server exactly once.
func TestKill9WithEventsQueued(t *testing.T) {
	r := newRig(t, "")
	tok, device := r.agent("olive")
	dir := t.TempDir()
	var confirmed uint64
	for round := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "UPLINK_CHILD=1", "UPLINK_CHILD_DIR="+dir, "UPLINK_CHILD_URL="+r.url, "UPLINK_CHILD_TOKEN="+tok)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		target := uint64(400 * (round + 1))
		for sc.Scan() {
			n, _ := strconv.ParseUint(sc.Text(), 10, 64)
			confirmed = max(confirmed, n)
			if n >= target {
				break
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		stored, _ := r.stored(device)
		t.Logf("round %d: killed with %d events confirmed, %d on the server", round, confirmed, stored)
		if uint64(stored) >= confirmed {
			t.Logf("round %d: the child had sent everything before the kill", round)
		}
	}
	// Restart: the same outbox, a new client.
	ob := openOutbox(t, dir, "child")
	runClient(t, uplink.Options{BaseURL: r.url, Token: static(tok), Outbox: ob}).Kick()
	waitFor(t, 20*time.Second, "outbox drained after restart", func() bool { return ob.Pending() == 0 })
	last := ob.LastSeq()
	if last < confirmed {
		t.Fatalf("outbox lost events: last seq %d, %d confirmed", last, confirmed)
	}
	n, seqs := r.stored(device)
	if uint64(n) != last || uint64(seqs) != last {
		t.Fatalf("server has %d events with %d distinct seqs; want exactly %d", n, seqs, last)
	}
	d, err := r.server().Store().Device(context.Background(), device)
	if err != nil || d.SeqGaps != 0 || d.AckedSeq != last {
		t.Fatalf("device: %+v, %v", d, err)
	}
}

// TestServerDownDuringSends stops the server twice while events keep
// coming and checks that nothing is lost or doubled.
func TestServerDownDuringSends(t *testing.T) {
	r := newRig(t, "")
	tok, device := r.agent("olive")
	ob := openOutbox(t, t.TempDir(), device)
	c := runClient(t, uplink.Options{BaseURL: r.url, Token: static(tok), Outbox: ob, BatchSize: 20,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the core goes on emitting throughout
		defer wg.Done()
		for i := 0; i < 600 && ctx.Err() == nil; i++ {
			if err := ob.Append(testEvent(i)); err != nil {
				t.Error(err)
				return
			}
			c.Kick()
			time.Sleep(time.Millisecond)
		}
	}()
	for range 2 {
		waitFor(t, 10*time.Second, "some events sent", func() bool { n, _ := r.stored(device); return n > 0 })
		r.stop()
		waitFor(t, 10*time.Second, "client notices the server is gone", func() bool { return !c.Status().Online })
		if s := c.Status(); s.LastError == "" {
			t.Errorf("offline without a reason: %+v", s)
		}
		time.Sleep(300 * time.Millisecond) // events queue while it is down
		r.start()
	}
	wg.Wait()
	waitFor(t, 20*time.Second, "outbox drained", func() bool { return ob.Pending() == 0 })
	n, seqs := r.stored(device)
	if n != 600 || seqs != 600 {
		t.Fatalf("server has %d events, %d distinct seqs; want 600 and 600", n, seqs)
	}
	waitFor(t, 5*time.Second, "online again", func() bool { return c.Status().Online })
}

// spoolRecording writes a fake encrypted recording (<id>.wav.age) and its
// manifest.
func spoolRecording(t *testing.T, dir, id string, size int, complete bool) []byte {
	t.Helper()
	return spoolAudio(t, dir, id, ".wav.age", size, complete)
}

// spoolAudio writes a fake encrypted recording named <id><ext> and its
// manifest, which names it.
func spoolAudio(t *testing.T, dir, id, ext string, size int, complete bool) []byte {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	sum := sha256.Sum256(data)
	m := map[string]any{"version": 1, "call_id": id, "complete": complete, "audio_file": id + ext, "pauses": []any{}}
	if complete {
		m["sha256_encrypted"] = hex.EncodeToString(sum[:])
		m["encrypted_bytes"] = size
	}
	mb, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, id+ext), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, id+".json"), mb, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

func TestUploadsFromTheSpool(t *testing.T) {
	r := newRig(t, "")
	tok, _ := r.agent("olive")
	spool := t.TempDir()
	done := spoolRecording(t, spool, "done1", 9<<20+123, true) // several chunks
	spoolRecording(t, spool, "live1", 1000, false)             // still being recorded
	crashed := spoolRecording(t, spool, "crash1", 5000, false) // the app died mid-call an hour ago
	opus := spoolAudio(t, spool, "opus1", ".opus.age", 70_000, true)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(spool, "crash1.json"), old, old)
	os.Chtimes(filepath.Join(spool, "crash1.wav.age"), old, old)

	c := runClient(t, uplink.Options{BaseURL: r.url, Token: static(tok), SpoolDir: spool, ChunkSize: 4 << 20, PollEvery: 50 * time.Millisecond})
	gone := func(id string) bool {
		_, err := os.Stat(filepath.Join(spool, id+".wav.age"))
		_, err2 := os.Stat(filepath.Join(spool, id+".json"))
		_, err3 := os.Stat(filepath.Join(spool, id+".opus.age"))
		return os.IsNotExist(err) && os.IsNotExist(err2) && os.IsNotExist(err3)
	}
	waitFor(t, 20*time.Second, "complete and abandoned recordings uploaded", func() bool { return gone("done1") && gone("crash1") && gone("opus1") })
	if gone("live1") {
		t.Fatal("a recording still being written was uploaded")
	}
	// The server's store keeps every recording under its own name, whatever
	// the codec (the first bytes of the plaintext say which).
	for id, want := range map[string][]byte{"done1": done, "crash1": crashed, "opus1": opus} {
		rec, err := r.server().Store().Recording(context.Background(), id)
		if err != nil || rec.Status != "stored" || rec.Size != int64(len(want)) {
			t.Fatalf("%s on the server: %+v, %v", id, rec, err)
		}
		got, err := os.ReadFile(filepath.Join(r.data, "recordings", id[:2], id+".wav.age"))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: stored bytes differ (%v)", id, err)
		}
	}
	// The call still being recorded is not "waiting for the server".
	waitFor(t, 5*time.Second, "uploads count", func() bool { return c.Status().Uploads == 0 })
	time.Sleep(200 * time.Millisecond) // a few more polls of the spool
	if n := c.Status().Uploads; n != 0 {
		t.Fatalf("Uploads = %d with only a recording in progress, want 0", n)
	}
}

func TestEnrolMeAndLiveBoard(t *testing.T) {
	r := newRig(t, "")
	r.user("sue", server.RoleSupervisor)
	ctx := context.Background()
	if _, err := uplink.Enroll(ctx, r.url, "sue", "wrong-password", "board"); err != uplink.ErrBadCredentials {
		t.Fatalf("wrong password: %v", err)
	}
	enr, err := uplink.Enroll(ctx, r.url, "sue", "password-1234", "board")
	if err != nil || enr.Role != "supervisor" || enr.Token == "" || enr.DeviceID == "" {
		t.Fatalf("Enroll = %+v, %v", enr, err)
	}
	sup := uplink.New(uplink.Options{BaseURL: r.url, Token: static(enr.Token), Logger: quiet()})
	me, err := sup.Me(ctx)
	if err != nil || me.Role != "supervisor" || me.Username != "sue" {
		t.Fatalf("Me = %+v, %v", me, err)
	}

	tok, _ := r.agent("olive")
	agentMe, err := uplink.New(uplink.Options{BaseURL: r.url, Token: static(tok)}).Me(ctx)
	if err != nil || agentMe.Role != "agent" {
		t.Fatalf("agent Me = %+v, %v", agentMe, err)
	}
	if err := uplink.New(uplink.Options{BaseURL: r.url, Token: static(tok), Logger: quiet()}).Live(ctx, func(server.AgentState) {}); err == nil || !contains(err.Error(), "role") {
		t.Fatalf("agent on the live board: %v", err)
	}

	var mu sync.Mutex
	board := map[string]server.AgentState{}
	lctx, cancel := context.WithCancel(ctx)
	liveDone := make(chan error, 1)
	go func() {
		liveDone <- sup.Live(lctx, func(a server.AgentState) {
			mu.Lock()
			board[a.Agent] = a
			mu.Unlock()
		})
	}()
	defer func() {
		cancel()
		if err := <-liveDone; err != nil {
			t.Errorf("Live: %v", err)
		}
	}()
	var pmu sync.Mutex
	presence := uplink.Presence{State: app.StateIdle, Since: time.Now(), Link: app.LinkOK}
	runClient(t, uplink.Options{BaseURL: r.url, Token: static(tok), HeartbeatEvery: 50 * time.Millisecond,
		Presence: func() uplink.Presence { pmu.Lock(); defer pmu.Unlock(); return presence }})
	row := func() server.AgentState { mu.Lock(); defer mu.Unlock(); return board["olive"] }
	waitFor(t, 5*time.Second, "olive idle on the board", func() bool { return row().State == "idle" && row().Online })

	pmu.Lock()
	presence = uplink.Presence{State: app.StatePaused, Reason: "payment", Since: time.Now().Add(-10 * time.Minute), Link: app.LinkOK,
		CallID: "c1", Direction: app.DirectionInbound, Remote: "+441632960123", Started: time.Now().Add(-11 * time.Minute), KeypadMasked: 2}
	pmu.Unlock()
	waitFor(t, 5*time.Second, "olive paused with an alert", func() bool {
		a := row()
		return a.State == "paused" && a.ReasonLabel == "Card payment" && len(a.Alerts) == 1 && a.Alerts[0].Kind == "pause-long"
	})
	a := row()
	if a.Call == nil || a.Call.Remote != "••••••••••123" || a.Call.Direction != "inbound" || a.Call.KeypadMasked != 2 {
		t.Fatalf("call on the board: %+v", a.Call)
	}
	if d := time.Since(a.Since); d < 9*time.Minute || d > 11*time.Minute {
		t.Fatalf("pause started %v ago on the board, want about 10 min", d)
	}
	// The board survives a server restart: the client reconnects.
	r.stop()
	r.start()
	pmu.Lock()
	presence = uplink.Presence{State: app.StateFailed, Reason: "microphone unplugged", Since: time.Now(), Link: app.LinkOK}
	pmu.Unlock()
	waitFor(t, 10*time.Second, "recording-failed after reconnect", func() bool {
		a := row()
		return a.State == "failed" && len(a.Alerts) > 0 && a.Alerts[0].Kind == "recording-failed"
	})
	_ = fmt.Sprint
}

// TestEventsArriveAtOnceAndNothingLeaks: an append wakes the sender (no
// waiting for the next poll), and Run leaves no goroutine behind.
func TestEventsArriveAtOnceAndNothingLeaks(t *testing.T) {
	r := newRig(t, "")
	tok, device := r.agent("olive")
	ob := openOutbox(t, t.TempDir(), device)
	before := goleak.IgnoreCurrent()
	tr := &http.Transport{}
	c := uplink.New(uplink.Options{BaseURL: r.url, Token: static(tok), Outbox: ob, HTTPClient: &http.Client{Transport: tr},
		Logger: quiet(), PollEvery: time.Hour, HeartbeatEvery: time.Hour, Presence: func() uplink.Presence { return uplink.Presence{State: app.StateIdle} }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	var worst time.Duration
	for i := range 20 {
		t0 := time.Now()
		if err := ob.Append(testEvent(i)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "event stored", func() bool { n, _ := r.stored(device); return n == i+1 })
		worst = max(worst, time.Since(t0))
	}
	t.Logf("append → stored on the server: worst of 20 was %v", worst)
	if worst > time.Second {
		t.Errorf("an event took %v to reach the server", worst)
	}
	cancel()
	<-done
	tr.CloseIdleConnections()
	goleak.VerifyNone(t, before)
}
