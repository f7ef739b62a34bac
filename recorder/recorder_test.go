package recorder

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/internal/testrig"
)

// A call paused from its start, resumed, put on hold while a second call is
// recorded (which itself pauses for a payment), a pause and resume within one
// buffer, and a pause still open at Stop: each paused interval is exact digital
// zero, each recorded interval is the source bit for bit, and each boundary is
// exactly where the gate semantics put it.
func TestPausesAreExactSilence(t *testing.T) {
	a := newAudioRig(t, true)
	r := a.recorder(t, "caller")

	var fails []error
	onFail := func(err error) { fails = append(fails, err) }
	recA, err := r.start(testCall("call-a", "payment"), onFail)
	if err != nil {
		t.Fatal(err)
	}
	var cmdsA, cmdsB []command
	cmdsA = append(cmdsA, command{before: 0, after: 0, paused: true}) // paused from the start
	feedAndWait(t, a, r, 10)
	cmdsA = append(cmdsA, do(t, r, recA.Resume, false))
	feedAndWait(t, a, r, 25)

	recB, err := r.start(testCall("call-b", ""), onFail)
	if err != nil {
		t.Fatal(err)
	}
	feedAndWait(t, a, r, 5)
	cmdsA = append(cmdsA, do(t, r, func() error { return recA.Pause("hold") }, true))
	feedAndWait(t, a, r, 20)
	cmdsB = append(cmdsB, do(t, r, func() error { return recB.Pause("payment") }, true))
	feedAndWait(t, a, r, 15)
	cmdsB = append(cmdsB, do(t, r, recB.Resume, false))
	feedAndWait(t, a, r, 10)
	// Pause and resume while one buffer is being read: that buffer is silent.
	cmdsB = append(cmdsB, do(t, r, func() error { return recB.Pause("card") }, true))
	cmdsB = append(cmdsB, do(t, r, recB.Resume, false))
	feedAndWait(t, a, r, 7)
	if err := recB.Stop(app.RecordingEnd{Ended: time.Now(), Notice: app.NoticeAnnounced}); err != nil {
		t.Fatal(err)
	}
	cmdsA = append(cmdsA, do(t, r, recA.Resume, false))
	feedAndWait(t, a, r, 20)
	cmdsA = append(cmdsA, do(t, r, func() error { return recA.Pause("payment") }, true))
	feedAndWait(t, a, r, 10)
	if err := recA.Stop(app.RecordingEnd{Ended: time.Now(), Notice: app.NoticeRead}); err != nil {
		t.Fatal(err)
	}
	if len(fails) > 0 {
		t.Fatalf("onFail called: %v", fails)
	}

	mA, _ := checkRecording(t, a, r, recA, true)
	mB, _ := checkRecording(t, a, r, recB, true)
	// With every command given while capture blocks in a read, the boundaries
	// are exact: a pause starts at the buffer being read, a resume at the next.
	for _, c := range []struct {
		rec  *Recording
		cmds []command
	}{{recA, cmdsA}, {recB, cmdsB}} {
		checkBoundaries(t, c.rec, c.cmds)
		for i, b := range c.rec.boundaries {
			want := c.cmds[i].before
			if !b.paused {
				want += BufferFrames
			}
			if i == 0 && c.rec == recA {
				want = 0
			}
			if got := c.rec.startFrame + b.pos; got != want {
				t.Errorf("%s boundary %d (paused=%v) at frame %d, want %d", c.rec.man.CallID, i, b.paused, got, want)
			}
		}
	}
	reasons := func(m *artefact.Manifest) (rs []string) {
		for _, p := range m.Pauses {
			rs = append(rs, p.Reason)
		}
		return rs
	}
	if got := reasons(mA); !slices.Equal(got, []string{"payment", "hold", "payment"}) {
		t.Errorf("call A pauses %v", got)
	}
	if got := reasons(mB); !slices.Equal(got, []string{"payment", "card"}) {
		t.Errorf("call B pauses %v", got)
	}
	if mA.Pauses[0].StartMS != 0 || *mA.Pauses[0].EndMS != 220 { // 10 buffers fed, the 11th being read at Resume
		t.Errorf("pause from the start: %+v, want 0-220 ms", mA.Pauses[0])
	}
	last := mA.Pauses[len(mA.Pauses)-1]
	if *last.EndMS != mA.DurationMS {
		t.Errorf("pause open at Stop ends at %d ms, recording at %d ms", *last.EndMS, mA.DurationMS)
	}
	if p := mB.Pauses[1]; *p.EndMS-p.StartMS != 20 {
		t.Errorf("pause and resume within one read: %+v, want one 20 ms buffer", p)
	}
	if mA.Notice != "read" || mB.Notice != "announced" || !mA.CallerPresent || mA.Caller != "caller" {
		t.Errorf("manifest facts: notice %q/%q caller %v %q", mA.Notice, mB.Notice, mA.CallerPresent, mA.Caller)
	}
	// The last recording closed the devices.
	r.mu.Lock()
	c := r.cap
	r.mu.Unlock()
	a.feed(1) // the capture is blocked in a read; this lets it see it has no recordings
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("capture still running after the last recording stopped")
	}
}

// Real-time capture (the rig feeds 20 ms every 20 ms) with commands at
// arbitrary moments: every boundary lies within one buffer of its command.
// The distribution is logged for the closing note.
func TestPauseLatencyRealTime(t *testing.T) {
	testrig.NotShort(t, "real-time test")
	a := newAudioRig(t, false)
	r := a.recorder(t, "")
	stop := make(chan struct{})
	fed := make(chan struct{})
	var feedMu sync.Mutex
	var fedAt []time.Time // fedAt[k]: when buffer k became available
	go func() {
		defer close(fed)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				a.feed(1)
				feedMu.Lock()
				fedAt = append(fedAt, time.Now())
				feedMu.Unlock()
			}
		}
	}()
	defer func() { close(stop); <-fed }()

	rec, err := r.start(testCall("call-rt", ""), func(err error) { t.Errorf("onFail: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	var cmds []command
	paused := false
	for i := range 40 {
		time.Sleep(time.Duration(37+(i*53)%91) * time.Millisecond) // spread over the buffer phase
		if paused {
			cmds = append(cmds, do(t, r, rec.Resume, false))
		} else {
			reason := "payment"
			cmds = append(cmds, do(t, r, func() error { return rec.Pause(reason) }, true))
		}
		paused = !paused
	}
	// Let the last command reach the capture path before stopping.
	end := r.captureFrames() + 2*BufferFrames
	testrig.Eventually(t, 5*time.Second, func() bool { return r.captureFrames() >= end }, "capture stopped")
	if err := rec.Stop(app.RecordingEnd{Ended: time.Now()}); err != nil {
		t.Fatal(err)
	}
	checkRecording(t, a, r, rec, false)
	// Some commands may land within one read and collapse; here they are
	// 37 ms or more apart, so each has its boundary.
	checkBoundaries(t, rec, cmds)
	// In this simulation the samples of buffer k are "spoken" while it is
	// filled, from fedAt[k-1] to fedAt[k]; a boundary's audio time is when
	// its first sample was spoken. Offset = that time minus the command's.
	feedMu.Lock()
	defer feedMu.Unlock()
	var offs [2][]time.Duration // [0] pauses, [1] resumes
	var applied []time.Duration
	for _, b := range rec.boundaries {
		k := (rec.startFrame + b.pos) / BufferFrames
		if k < 1 || int(k) >= len(fedAt) {
			continue
		}
		kind := 0
		if !b.paused {
			kind = 1
		}
		offs[kind] = append(offs[kind], fedAt[k-1].Sub(b.commanded))
		applied = append(applied, b.applied.Sub(b.commanded))
	}
	for i, name := range []string{"pause", "resume"} {
		o := offs[i]
		slices.Sort(o)
		t.Logf("%s: %d boundaries; first silent/recorded sample spoken %v .. %v (median %v) after the command",
			name, len(o), o[0].Round(100*time.Microsecond), o[len(o)-1].Round(100*time.Microsecond), o[len(o)/2].Round(100*time.Microsecond))
	}
	slices.Sort(applied)
	t.Logf("command to capture path applying it: p50 %v, max %v", applied[len(applied)/2].Round(100*time.Microsecond), applied[len(applied)-1].Round(100*time.Microsecond))
}

// No capture device at all: Start fails at once with ErrNoDevice.
func TestNoDeviceFailsFast(t *testing.T) {
	testrig.NoALSADevices(t)
	id := newAudioRigKey(t)
	r, err := New(Options{SpoolDir: t.TempDir(), Recipients: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	t0 := time.Now()
	_, err = r.Start(testCall("call-nodev", ""), nil)
	took := time.Since(t0)
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Start: %v, want ErrNoDevice", err)
	}
	if took > 2*time.Second {
		t.Fatalf("Start took %v to fail", took)
	}
	t.Logf("no device: %v after %v", err, took)
	devs, err := Devices()
	if err != nil || len(devs) != 0 {
		t.Fatalf("Devices() = %v, %v; want none", devs, err)
	}
}

// A named device that is not there: the error lists what is.
func TestUnknownDeviceNamesTheInputs(t *testing.T) {
	a := newAudioRig(t, true)
	r := a.recorder(t, "")
	if err := r.SetDevices("USB headset", ""); err != nil {
		t.Fatal(err)
	}
	_, err := r.Start(testCall("call-x", ""), nil)
	if !errors.Is(err, ErrNoDevice) || !containsAll(err.Error(), `"officer"`, `"caller"`, "USB headset") {
		t.Fatalf("Start: %v", err)
	}
	devs, err := Devices()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	def := ""
	for _, d := range devs {
		names = append(names, d.Name)
		if d.Default {
			def = d.Name
		}
	}
	if !slices.Contains(names, "officer") || !slices.Contains(names, "caller") || def == "" {
		t.Fatalf("Devices() = %+v", devs)
	}
}

// The device stops delivering mid-call: onFail gets ErrDeviceLost, and the
// audio up to then is finalised and decrypts completely.
func TestDeviceLostMidCall(t *testing.T) {
	a := newAudioRig(t, false)
	r := a.recorder(t, "")
	r.stall = 500 * time.Millisecond
	failed := make(chan error, 1)
	rec, err := r.start(testCall("call-lost", ""), func(err error) { failed <- err })
	if err != nil {
		t.Fatal(err)
	}
	feedAndWait(t, a, r, 60)
	var ferr error
	select {
	case ferr = <-failed:
	case <-time.After(5 * time.Second):
		t.Fatal("no onFail after the device stalled")
	}
	if !errors.Is(ferr, ErrDeviceLost) {
		t.Fatalf("onFail(%v), want ErrDeviceLost", ferr)
	}
	if err := rec.Stop(app.RecordingEnd{}); !errors.Is(err, ErrDeviceLost) {
		t.Fatalf("Stop after failure: %v", err)
	}
	if err := rec.Pause("payment"); !errors.Is(err, ErrStopped) {
		t.Fatalf("Pause after failure: %v", err)
	}
	m, _ := checkRecording(t, a, r, rec, false)
	if m.Frames != 60*BufferFrames || !strings.Contains(m.Failure, "no audio for") {
		t.Fatalf("manifest: %d frames, failure %q", m.Frames, m.Failure)
	}
	a.feed(1) // unblock the stuck read so the capture goroutine ends
	r.mu.Lock()
	c := r.cap
	r.mu.Unlock()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("capture goroutine did not end")
	}
}

// The Settings level meter reads the real device: the test signal is uniform
// full-scale noise, whose RMS is 1/sqrt(3) of full scale, -4.77 dBFS.
func TestLevelMeter(t *testing.T) {
	a := newAudioRig(t, false)
	r := a.recorder(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	levels := make(chan float64, 100)
	done := make(chan error, 1)
	go func() { done <- r.Level(ctx, "officer", func(db float64) { levels <- db }) }()
	a.feed(10)
	var got float64
	select {
	case got = <-levels:
	case <-time.After(5 * time.Second):
		t.Fatal("no level reported")
	}
	cancel()
	a.feed(10) // let the blocked read return so Level sees ctx done
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-(-4.77)) > 0.5 {
		t.Fatalf("level %.2f dBFS, want about -4.77", got)
	}
}
