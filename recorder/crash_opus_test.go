package recorder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
	"github.com/callguard/callguard/recorder/opus"
)

// kill -9 in the middle of an Opus call: the file decrypts to the Ogg
// pages of every sealed age chunk (64 KiB, about 21 s at 24 kbit/s), which
// libopus and opusdec decode to the officer's signal at its level, second
// by second; what was in the chunk still open is lost.
func TestCrashKeepsSealedOpusAudio(t *testing.T) {
	start := feedFast(t)
	a := newAudioRig(t, false)
	spool := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), a.alsa.Env()...)
	cmd.Env = append(cmd.Env, crashChildEnv+"="+spool, crashKeyEnv+"="+a.keyID.Recipient().String(), crashCodecEnv+"="+artefact.CodecOpus)
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

	const wantSynced = 2
	lines := bufio.NewScanner(out)
	synced := 0
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
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
	cmd.Wait()
	fed := a.fedFrames()

	audio := filepath.Join(spool, "call-crash.opus.age")
	var ogg bytes.Buffer
	rep, err := artefact.Decrypt(audio, []age.Identity{a.keyID}, &ogg)
	if err != nil {
		t.Fatal(err)
	}
	// The open chunk never reached the disk: age holds it until it is
	// full, so the file ends where the last sealed chunk does.
	if rep.Complete || rep.Codec != artefact.CodecOpus {
		t.Fatalf("decrypt after kill -9: %+v", rep)
	}
	// Two sealed chunks of 24 kbit/s hold at least 40 s.
	if rep.Frames < 40*artefact.SampleRate || rep.Frames > fed {
		t.Fatalf("recovered %v of the %v fed", rep.Duration, time.Duration(fed)*time.Second/artefact.SampleRate)
	}

	d, err := opus.NewDecoder(bytes.NewReader(ogg.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var pcm bytes.Buffer
	if _, err := pcm.ReadFrom(d); !errors.Is(err, oggopus.ErrTruncated) {
		t.Fatalf("the recovered stream ends with %v, want ErrTruncated (no end page)", err)
	}
	got := opustest.Channel(bytesToPCM(pcm.Bytes()), 0)
	if n := int64(len(got)); n < rep.Frames || n > rep.Frames+16 {
		t.Fatalf("libopus decodes %d frames, Decrypt reports %d", n, rep.Frames)
	}
	if n := int64(len(opustest.DecodeBytes(t, ogg.Bytes(), 16000)) / 2); n < rep.Frames-1 || n > rep.Frames+17 {
		t.Errorf("opusdec decodes %d frames, Decrypt reports %d", n, rep.Frames)
	}
	// Each second is the source's signal at about its level (the rig's
	// signal is white noise, whose top octave SILK at 24 kbit/s gives up:
	// about 4 dB).
	src := signal(officerSeed, 0, len(got))
	for s := 0; (s+1)*artefact.SampleRate <= len(got); s++ {
		w, g := src[s*artefact.SampleRate:(s+1)*artefact.SampleRate], got[s*artefact.SampleRate:(s+1)*artefact.SampleRate]
		if diff := math.Abs(level(w) - level(g)); diff > 6 {
			t.Fatalf("second %d: the recovered audio is %.1f dB off the source's level (%.1f, %.1f dBFS)", s, diff, level(w), level(g))
		}
	}
	// SILK's stereo coding lets some of it into the right channel, far
	// under it.
	if o, c := level(got), level(opustest.Channel(bytesToPCM(pcm.Bytes()), 1)); o-c < 10 {
		t.Fatalf("the caller's channel has no input but is at %.1f dBFS, the officer's at %.1f", c, o)
	}
	t.Logf("killed after %d fsynced chunks, %v fed: recovered %v of Opus (%d encrypted bytes past the last sealed chunk)",
		synced, time.Duration(fed)*time.Second/artefact.SampleRate, rep.Duration, rep.LostBytes)
}

// bytesToPCM reads PCM16 little-endian.
func bytesToPCM(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
	}
	return out
}

// level is the RMS of p in dBFS.
func level(p []int16) float64 {
	var s float64
	for _, v := range p {
		s += float64(v) * float64(v)
	}
	return opustest.DBFS(math.Sqrt(s / float64(max(1, len(p)))))
}
