package recorder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/internal/testrig"
)

const crashChildEnv = "CALLGUARD_RECORDER_CRASH_CHILD" // spool dir of the child
const crashKeyEnv = "CALLGUARD_RECORDER_CRASH_KEY"     // recipient
const crashCodecEnv = "CALLGUARD_RECORDER_CRASH_CODEC" // "opus": record Opus, not WAV

// crashChild is the process that gets killed: it records one call from the
// rig and prints "synced N written F" each time another fsync is done or
// more frames were written (to the masker, 60 ms ahead of the file).
func crashChild() int {
	r, err := New(Options{SpoolDir: os.Getenv(crashChildEnv), Recipients: []string{os.Getenv(crashKeyEnv)},
		OfficerDevice: "officer", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	call := testCall("call-crash", "")
	if os.Getenv(crashCodecEnv) == artefact.CodecOpus {
		call = opusCall("call-crash", "")
	}
	rec, err := r.start(call, func(err error) { fmt.Println("failed", err) })
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("recording")
	var last, lastWritten int64
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if n, w := rec.aw.Syncs(), rec.written.Load(); n != last || w != lastWritten {
			last, lastWritten = n, w
			fmt.Println("synced", n, "written", w)
		}
	}
	return 2 // never reached in the test: the parent kills it
}

// feedFast feeds the rig at up to 5× real time from a goroutine until the
// test ends; register it before the rig so the rig's FIFOs close first.
func feedFast(t *testing.T) func(a *audioRig) {
	stop, done := make(chan struct{}), make(chan struct{})
	var started bool
	t.Cleanup(func() {
		close(stop)
		if started {
			<-done
		}
	})
	return func(a *audioRig) {
		started = true
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(4 * time.Millisecond):
				}
				if a.feedErr(1) != nil {
					return
				}
			}
		}()
	}
}

// kill -9 in the middle of a call: the file decrypts, and every second up to
// the last fsynced chunk is there and equals the source.
func TestCrashKeepsFlushedAudio(t *testing.T) {
	start := feedFast(t)
	a := newAudioRig(t, false)
	spool := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), a.alsa.Env()...)
	cmd.Env = append(cmd.Env, crashChildEnv+"="+spool, crashKeyEnv+"="+a.keyID.Recipient().String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	start(a)

	const wantSynced = 4
	lines := bufio.NewScanner(out)
	synced := 0
	deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	for synced < wantSynced && lines.Scan() {
		line := lines.Text()
		if _, err := fmt.Sscanf(line, "synced %d", &synced); err != nil && line != "recording" {
			t.Fatalf("child: %s", line)
		}
	}
	deadline.Stop()
	if synced < wantSynced {
		t.Fatalf("child synced %d chunks before it ended; stderr:\n%s", synced, lastLines(stderr.String(), 20))
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL", werr)
	}

	audio := filepath.Join(spool, "call-crash.wav.age")
	var wav bytes.Buffer
	rep, err := artefact.Decrypt(audio, []age.Identity{a.keyID}, &wav)
	if err != nil {
		t.Fatal(err)
	}
	minData := int64(wantSynced*artefact.PlainChunk-artefact.WAVHeaderSize) / artefact.BytesPerFrame * artefact.BytesPerFrame
	if rep.Complete || rep.DataBytes < minData {
		t.Fatalf("decrypt after kill -9: complete=%v, %d data bytes, want at least %d (%d synced chunks)", rep.Complete, rep.DataBytes, minData, wantSynced)
	}
	data := wav.Bytes()[artefact.WAVHeaderSize:]
	for k := int64(0); k < rep.Frames; k++ {
		o := int16(uint16(data[4*k]) | uint16(data[4*k+1])<<8)
		if want := sampleAt(officerSeed, k); o != want || data[4*k+2] != 0 || data[4*k+3] != 0 {
			t.Fatalf("frame %d after the crash: %d, want %d", k, o, want)
		}
	}
	t.Logf("killed after %d fsynced chunks: recovered %v (%d frames), %d encrypted bytes lost in the cut chunk (%v)", synced, rep.Duration, rep.Frames, rep.LostBytes, rep.Cut)

	// The manifest written at the start is there and says it is incomplete.
	m, err := artefact.ReadManifest(filepath.Join(spool, "call-crash.json"))
	if err != nil || m.Complete {
		t.Fatalf("manifest after crash: %+v, %v", m, err)
	}
	if _, err := artefact.Verify(audio, filepath.Join(spool, "call-crash.json"), []age.Identity{a.keyID}); !errors.Is(err, ErrVerify) {
		t.Fatalf("Verify of a crashed recording: %v, want ErrVerify", err)
	}
}

// A full disk mid-call (a 1 MiB tmpfs): onFail gets ErrDiskFull and every
// complete chunk written before it decrypts and equals the source.
func TestDiskFull(t *testing.T) {
	start := feedFast(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		testrig.Need(t, "a tmpfs mount (root)", fmt.Errorf("%v: %s", err, out))
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	a := newAudioRig(t, false)
	r, err := New(Options{SpoolDir: dir, Recipients: []string{a.keyID.Recipient().String()}, OfficerDevice: "officer",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	failed := make(chan error, 1)
	rec, err := r.start(testCall("call-full", ""), func(err error) { failed <- err })
	if err != nil {
		t.Fatal(err)
	}
	start(a)
	var ferr error
	select {
	case ferr = <-failed:
	case <-time.After(30 * time.Second):
		t.Fatal("no onFail when the disk filled")
	}
	if !errors.Is(ferr, ErrDiskFull) {
		t.Fatalf("onFail(%v), want ErrDiskFull", ferr)
	}
	t.Logf("onFail: %v", ferr)
	if err := rec.Stop(app.RecordingEnd{}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Stop after disk full: %v", err)
	}
	var wav bytes.Buffer
	rep, err := artefact.Decrypt(filepath.Join(dir, "call-full.wav.age"), []age.Identity{a.keyID}, &wav)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Frames < artefact.SampleRate*5 {
		t.Fatalf("only %v recovered from a 1 MiB disk", rep.Duration)
	}
	data := wav.Bytes()[artefact.WAVHeaderSize:]
	for k := int64(0); k < rep.Frames; k++ {
		o := int16(uint16(data[4*k]) | uint16(data[4*k+1])<<8)
		if want := sampleAt(officerSeed, rec.startFrame+k); o != want {
			t.Fatalf("frame %d: %d, want %d", k, o, want)
		}
	}
	t.Logf("disk full: recovered %v, complete=%v", rep.Duration, rep.Complete)
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func newAudioRigKey(t testing.TB) string {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id.Recipient().String()
}
