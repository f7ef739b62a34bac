package recorder

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/internal/testrig"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	testrig.Main(m)
}

// Seeds of the two test signals: each sample is a hash of its frame index, so
// any frame of the source can be computed and located.
const (
	officerSeed = 0x0ff1ce
	callerSeed  = 0xca11e7
)

// signal returns frames [from, from+n) of the signal with seed.
func signal(seed uint64, from int64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = sampleAt(seed, from+int64(i))
	}
	return out
}

func sampleAt(seed uint64, i int64) int16 {
	z := uint64(i)*0x9E3779B97F4A7C15 + seed
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	z ^= z >> 31
	return int16(z >> 48)
}

// audioRig is the ALSA file-PCM rig with an officer and a caller input, fed
// in lockstep.
type audioRig struct {
	t     testing.TB
	alsa  *testrig.ALSA
	mu    sync.Mutex
	fed   int64
	cpu   bool // feed the caller input too
	keyID *age.X25519Identity
}

func newAudioRig(t testing.TB, caller bool) *audioRig {
	inputs := []string{"officer"}
	if caller {
		inputs = append(inputs, "caller")
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return &audioRig{t: t, alsa: testrig.NewALSA(t, inputs...), cpu: caller, keyID: id}
}

// feed makes the next n buffers of both signals available to capture.
func (a *audioRig) feed(n int) {
	a.t.Helper()
	if err := a.feedErr(n); err != nil {
		a.t.Error(err)
	}
}

func (a *audioRig) feedErr(n int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range n {
		if err := a.alsa.Input("officer").Feed(signal(officerSeed, a.fed, BufferFrames)); err != nil {
			return err
		}
		if a.cpu {
			if err := a.alsa.Input("caller").Feed(signal(callerSeed, a.fed, BufferFrames)); err != nil {
				return err
			}
		}
		a.fed += BufferFrames
	}
	return nil
}

func (a *audioRig) fedFrames() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fed
}

func (a *audioRig) recorder(t testing.TB, caller string) *Recorder {
	r, err := New(Options{
		SpoolDir: t.TempDir(), Recipients: []string{a.keyID.Recipient().String()},
		OfficerDevice: "officer", CallerDevice: caller,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// feedAndWait feeds n buffers and waits until the capture has delivered them,
// so the capture goroutine is blocked reading the next one.
func feedAndWait(t testing.TB, a *audioRig, r *Recorder, n int) {
	t.Helper()
	a.feed(n)
	want := a.fedFrames()
	testrig.Eventually(t, 5*time.Second, func() bool { return r.captureFrames() >= want }, "capture did not read the %d frames fed", want)
	if got := r.captureFrames(); got != want {
		t.Fatalf("capture read %d frames, only %d were fed", got, want)
	}
	// And the next read has begun: a command now lands while it blocks.
	testrig.Eventually(t, 5*time.Second, func() bool { return r.captureReads() == want/BufferFrames+1 }, "capture did not begin its next read")
}

func (r *Recorder) captureReads() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cap == nil {
		return -1
	}
	return r.cap.reads.Load()
}

// captureFrames is how many frames the running capture has delivered.
func (r *Recorder) captureFrames() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cap == nil {
		return -1
	}
	return r.cap.frames.Load()
}

// command runs cmd (a Pause or Resume) and returns the capture's frame count
// just before and just after: the boundary must fall in [before, after+one buffer].
type command struct {
	before, after int64
	paused        bool
}

func do(t testing.TB, r *Recorder, cmd func() error, paused bool) command {
	t.Helper()
	c := command{before: r.captureFrames(), paused: paused}
	if err := cmd(); err != nil {
		t.Fatal(err)
	}
	c.after = r.captureFrames()
	return c
}

// testCall is a call recorded as a WAV: the tests that check the gate
// sample for sample (checkRecording) need the PCM as it was captured.
var testCall = func(id, paused string) app.RecordingCall {
	c := opusCall(id, paused)
	c.Audio = app.AudioSettings{Format: "wav"}
	return c
}

// opusCall is a call recorded as the policy does by default: Opus.
var opusCall = func(id, paused string) app.RecordingCall {
	return app.RecordingCall{ID: id, Agent: "agent-7", Direction: app.DirectionInbound,
		Remote: app.Party{Number: "07700900123"}, Started: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), PausedReason: paused}
}

// checkRecording decrypts a stopped recording and asserts, sample by sample,
// that every frame inside a manifest pause is digital zero on both channels
// and every other frame equals the source at the recording's offset.
func checkRecording(t *testing.T, a *audioRig, r *Recorder, rec *Recording, withCaller bool) (*artefact.Manifest, []byte) {
	t.Helper()
	m, err := artefact.ReadManifest(rec.manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var wav bytes.Buffer
	rep, err := artefact.Decrypt(rec.audioPath, []age.Identity{a.keyID}, &wav)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || !m.Complete {
		t.Fatalf("decrypt complete=%v manifest complete=%v (failure %q)", rep.Complete, m.Complete, m.Failure)
	}
	if rep.Frames != m.Frames {
		t.Fatalf("decrypted %d frames, manifest says %d", rep.Frames, m.Frames)
	}
	if vr, err := artefact.Verify(rec.audioPath, rec.manifestPath, []age.Identity{a.keyID}); err != nil {
		t.Fatalf("verify: %v %v", err, vr.Problems)
	}
	b := wav.Bytes()
	if !bytes.Equal(b[:artefact.WAVHeaderSize], artefact.WAVHeader(rep.DataBytes)) {
		t.Fatalf("WAV header not finalised: % x", b[:artefact.WAVHeaderSize])
	}
	data := b[artefact.WAVHeaderSize:]
	paused := func(frame int64) bool {
		ms := artefact.FramesToMS(frame)
		for _, p := range m.Pauses {
			if p.EndMS == nil {
				t.Fatalf("pause %+v left open in a complete manifest", p)
			}
			if ms >= p.StartMS && ms < *p.EndMS {
				return true
			}
		}
		return false
	}
	var silent, recorded int64
	for k := int64(0); k < rep.Frames; k++ {
		o := int16(binary.LittleEndian.Uint16(data[4*k:]))
		c := int16(binary.LittleEndian.Uint16(data[4*k+2:]))
		if paused(k) {
			if o != 0 || c != 0 {
				t.Fatalf("frame %d (%d ms) is inside a pause but holds (%d, %d)", k, artefact.FramesToMS(k), o, c)
			}
			silent++
			continue
		}
		src := rec.startFrame + k
		wantC := int16(0)
		if withCaller {
			wantC = sampleAt(callerSeed, src)
		}
		if o != sampleAt(officerSeed, src) || c != wantC {
			t.Fatalf("frame %d (source frame %d): got (%d, %d), want (%d, %d)", k, src, o, c, sampleAt(officerSeed, src), wantC)
		}
		recorded++
	}
	t.Logf("%s: %d frames, %d recorded exactly, %d silent; pauses %s", m.CallID, rep.Frames, recorded, silent, pausesString(m))
	return m, data
}

func pausesString(m *artefact.Manifest) string {
	var s []string
	for _, p := range m.Pauses {
		e := "open"
		if p.EndMS != nil {
			e = time.Duration(*p.EndMS * int64(time.Millisecond)).String()
		}
		s = append(s, p.Reason+"@"+time.Duration(p.StartMS*int64(time.Millisecond)).String()+"-"+e)
	}
	return strings.Join(s, " ")
}

// checkBoundaries asserts that the n-th pause boundary of rec lies within one
// buffer of the n-th command, in capture frames, and returns the distance.
func checkBoundaries(t *testing.T, rec *Recording, cmds []command) []int64 {
	t.Helper()
	bs := rec.boundaries
	fits := func(i, j int) bool {
		at := rec.startFrame + bs[j].pos
		return bs[j].paused == cmds[i].paused && at >= cmds[i].before && at <= cmds[i].after+BufferFrames
	}
	// A command and the next one made before the capture read another
	// buffer (the feeder was late and the audio came in a burst) take
	// effect at one position: a pause of no samples, which leaves no
	// boundary. Only such pairs may be missing; match finds where.
	collapsible := func(i int) bool { return i+1 < len(cmds) && cmds[i+1].before == cmds[i].after }
	type at struct{ i, j int }
	memo := map[at]bool{}
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if i == len(cmds) {
			return j == len(bs)
		}
		if ok, seen := memo[at{i, j}]; seen {
			return ok
		}
		ok := (j < len(bs) && fits(i, j) && match(i+1, j+1)) || (collapsible(i) && match(i+2, j))
		memo[at{i, j}] = ok
		return ok
	}
	if !match(0, 0) {
		for i, c := range cmds {
			t.Logf("command %d: paused=%v between capture frames %d and %d", i, c.paused, c.before, c.after)
		}
		t.Fatalf("%d boundaries for %d commands do not each lie within one buffer of their command: %+v", len(bs), len(cmds), bs)
	}
	var dist []int64
	for i, j := 0, 0; i < len(cmds); {
		if j < len(bs) && fits(i, j) && match(i+1, j+1) {
			dist = append(dist, rec.startFrame+bs[j].pos-cmds[i].before)
			i, j = i+1, j+1
			continue
		}
		t.Logf("commands %d and %d came within one read and collapsed", i, i+1)
		i += 2
	}
	return dist
}
