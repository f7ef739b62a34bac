package recorder

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"go.uber.org/goleak"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
)

// fakeSource delivers the buffers a test or benchmark sends it, so the
// pipeline behind the devices can be driven without PortAudio.
type fakeSource struct {
	bufs   chan [2][]int16
	closed chan struct{}
	caller string // name of the caller input, "" for none
}

func newFakeSource() *fakeSource {
	return &fakeSource{bufs: make(chan [2][]int16, 64), closed: make(chan struct{}), caller: "fake caller"}
}

func (f *fakeSource) read() ([]int16, []int16, bool, error) {
	b, ok := <-f.bufs
	if !ok {
		return nil, nil, false, errors.New("fake device unplugged")
	}
	return b[0], b[1], false, nil
}
func (f *fakeSource) close() error            { close(f.closed); return nil }
func (f *fakeSource) names() (string, string) { return "fake officer", f.caller }

func newFakeRecorder(t testing.TB, src *fakeSource) (*Recorder, *age.X25519Identity) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{SpoolDir: t.TempDir(), Recipients: []string{id.Recipient().String()},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r.openSource = func(string, string) (source, error) { return src, nil }
	return r, id
}

func TestStartRefusesWithoutRecipient(t *testing.T) {
	r, err := New(Options{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	r.openSource = func(string, string) (source, error) { t.Fatal("opened a device without a key"); return nil, nil }
	if _, err := r.Start(testCall("c1", ""), nil); !errors.Is(err, ErrNoRecipient) {
		t.Fatalf("Start without recipient: %v", err)
	}
	if _, err := New(Options{SpoolDir: t.TempDir(), Recipients: []string{"AGE-SECRET-KEY-1XYZ"}}); err == nil || strings.Contains(err.Error(), "XYZ") {
		t.Fatalf("New with a secret key as recipient: %v (must fail without quoting it)", err)
	}
	if err := r.SetDevices("Headset", "Headset"); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("same device for officer and caller: %v", err)
	}
	for _, id := range []string{"", "../x", "a/b", ".hidden"} {
		if _, err := r.Start(testCall(id, ""), nil); err == nil {
			t.Fatalf("call id %q accepted", id)
		}
	}
}

func TestStartTimesOutOnAHangingDevice(t *testing.T) {
	r, _ := newFakeRecorder(t, nil)
	release := make(chan struct{})
	defer close(release)
	r.openSource = func(string, string) (source, error) { <-release; return nil, errors.New("late") }
	r.openTimeout = 200 * time.Millisecond
	t0 := time.Now()
	if _, err := r.Start(testCall("c1", ""), nil); !errors.Is(err, ErrNoDevice) || time.Since(t0) > time.Second {
		t.Fatalf("Start on a hanging device: %v after %v", err, time.Since(t0))
	}
}

// recordFake records n buffers of the test signal through the fake source.
func recordFake(t testing.TB, n int) (audio, manifest string, id *age.X25519Identity) {
	return recordFakeCall(t, n, testCall("call-cli", ""))
}

// recordFakeCall is recordFake for a call given.
func recordFakeCall(t testing.TB, n int, call app.RecordingCall) (audio, manifest string, id *age.X25519Identity) {
	src := newFakeSource()
	r, id := newFakeRecorder(t, src)
	rec, err := r.start(call, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		src.bufs <- [2][]int16{signal(officerSeed, int64(i*BufferFrames), BufferFrames), signal(callerSeed, int64(i*BufferFrames), BufferFrames)}
		if i == n/2 {
			rec.Pause("payment")
		}
	}
	for rec.cap.frames.Load() < int64(n*BufferFrames) {
		time.Sleep(time.Millisecond)
	}
	if err := rec.Stop(app.RecordingEnd{Ended: time.Now(), Notice: app.NoticeRead}); err != nil {
		t.Fatal(err)
	}
	close(src.bufs)
	return rec.audioPath, rec.manifestPath, id
}

func TestCLIVerifyAndDecrypt(t *testing.T) {
	// Every goroutine of the recording (capture, watchdog, writer) is gone
	// once it stopped and its device went away.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	audio, _, id := recordFake(t, 200)
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte("# DPO key\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := RunCLI(args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, _ := run("verify", "--identity", keyFile, audio); code != 0 || !strings.HasPrefix(out, "OK") {
		t.Fatalf("verify: %d %s", code, out)
	}
	code, _, msg := run("decrypt", "--identity", keyFile, audio)
	wavPath := strings.TrimSuffix(audio, ".age")
	if code != 0 || !strings.Contains(msg, "matches the manifest") {
		t.Fatalf("decrypt: %d %s", code, msg)
	}
	wav, err := os.ReadFile(wavPath)
	if err != nil || len(wav) != artefact.WAVHeaderSize+200*bufferBytes || !bytes.Equal(wav[:artefact.WAVHeaderSize], artefact.WAVHeader(200*bufferBytes)) {
		t.Fatalf("decrypted WAV: %d bytes, %v", len(wav), err)
	}
	if code, _, _ := run("decrypt", "--identity", keyFile, audio); code != 1 {
		t.Fatalf("decrypt over an existing file: exit %d", code)
	}
	if strings.Contains(msg, id.String()) {
		t.Fatal("the key was printed")
	}
	// One flipped byte in the encrypted file: verify fails.
	enc, _ := os.ReadFile(audio)
	enc[len(enc)/2] ^= 1
	os.WriteFile(audio, enc, 0o600)
	if code, out, _ := run("verify", "--identity", keyFile, audio); code != 1 || !strings.Contains(out, "FAIL") {
		t.Fatalf("verify of a tampered file: %d %s", code, out)
	}
	if code, out, _ := run("--help"); code != 0 || !strings.Contains(out, "decrypt") {
		t.Fatalf("--help: %d %s", code, out)
	}
	if code, _, _ := run("decrypt", audio); code != 2 {
		t.Fatalf("decrypt without --identity: exit %d", code)
	}
	if code, _, _ := run("frobnicate"); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
}

// A writer error that is not a full disk (here: the file closed under the
// writer) stops the recording by itself with ErrWrite.
func TestWriteErrorFailsLoudly(t *testing.T) {
	src := newFakeSource()
	r, _ := newFakeRecorder(t, src)
	failed := make(chan error, 1)
	rec, err := r.start(testCall("call-werr", ""), func(err error) { failed <- err })
	if err != nil {
		t.Fatal(err)
	}
	rec.file.Close() // injected fault: every write from now on fails
	buf := signal(officerSeed, 0, BufferFrames)
	go func() {
		for i := 0; i < 10*artefact.PlainChunk/bufferBytes; i++ {
			select {
			case src.bufs <- [2][]int16{buf, nil}:
			case <-src.closed:
				return
			}
		}
	}()
	select {
	case err := <-failed:
		if !errors.Is(err, ErrWrite) || errors.Is(err, ErrDiskFull) {
			t.Fatalf("onFail(%v), want ErrWrite", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no onFail after write errors")
	}
	m, err := artefact.ReadManifest(rec.manifestPath)
	if err != nil || m.Complete || m.Failure == "" {
		t.Fatalf("manifest after a write error: %+v %v", m, err)
	}
	if !isDiskFull(&os.PathError{Op: "write", Err: syscall.ENOSPC}) {
		t.Fatal("ENOSPC not seen as a full disk")
	}
}

// Close finalises a live recording: its files are complete.
func TestCloseFinalisesLiveRecordings(t *testing.T) {
	src := newFakeSource()
	src.caller = ""
	r, id := newFakeRecorder(t, src)
	rec, err := r.start(testCall("call-close", "payment"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		src.bufs <- [2][]int16{signal(officerSeed, 0, BufferFrames), nil}
	}
	for rec.cap.frames.Load() < 10*BufferFrames {
		time.Sleep(time.Millisecond)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	close(src.bufs)
	if _, err := r.Start(testCall("call-after", ""), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	rep, err := artefact.Verify(rec.audioPath, rec.manifestPath, []age.Identity{id})
	if err != nil || rep.Decrypt.Frames != 10*BufferFrames || len(rep.Manifest.Pauses) != 1 || *rep.Manifest.Pauses[0].EndMS != 200 {
		t.Fatalf("after Close: %v %+v", err, rep)
	}
	if rep.Manifest.CallerPresent || rep.Manifest.CallerNote == "" {
		t.Fatalf("no caller input, yet the manifest says %v %q", rep.Manifest.CallerPresent, rep.Manifest.CallerNote)
	}
}
