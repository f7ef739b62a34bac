package recorder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/dtmf"
	"github.com/callguard/callguard/internal/testrig"
)

// dtmfKeys are the 16 keys by row and column, for the tests only: nothing in
// callguard turns a tone into a key.
const dtmfKeys = "123A456B789C*0#D"

var dtmfLow, dtmfHigh = [4]float64{697, 770, 852, 941}, [4]float64{1209, 1336, 1477, 1633}

// keyTone is one keypress: key, duration, level (dBFS of the pair's peak)
// and twist (dB, low group over high; negative is reverse twist).
type keyTone struct {
	key          byte
	dur          time.Duration
	level, twist float64
}

// keyed is mono 16 kHz audio made by sox, with where its tones are.
type keyed struct {
	pcm   []int16
	tones []dtmf.Interval
	list  []keyTone
}

// soxTones makes tones, each after a gap, and a last gap, with one sox run.
func soxTones(t testing.TB, tones []keyTone, gaps func(i int) time.Duration) keyed {
	t.Helper()
	sox := testrig.NeedCommand(t, "sox")
	out := filepath.Join(t.TempDir(), "tones.raw")
	args := []string{"-D", "-r", "16000", "-c", "2", "-n", "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", out}
	frames := func(d time.Duration) int64 { return int64(d) * 16000 / int64(time.Second) }
	secs := func(d time.Duration) string { return fmt.Sprintf("%.6f", d.Seconds()) }
	rng := rand.New(rand.NewPCG(uint64(len(tones)), 7))
	var k keyed
	var pos int64
	for i, tn := range tones {
		if i > 0 {
			args = append(args, ":")
		}
		g := gaps(i)
		args = append(args, "trim", "0", secs(g), ":")
		pos += frames(g)
		ki := strings.IndexByte(dtmfKeys, tn.key)
		total := math.Pow(10, tn.level/20)
		hi := total / (1 + math.Pow(10, tn.twist/20))
		args = append(args, "synth", "-n", secs(tn.dur),
			"sine", fmt.Sprint(dtmfLow[ki/4]), "0", fmt.Sprintf("%.1f", rng.Float64()*100),
			"sine", fmt.Sprint(dtmfHigh[ki%4]), "0", fmt.Sprintf("%.1f", rng.Float64()*100),
			"remix", fmt.Sprintf("1v%.6f,2v%.6f", total-hi, hi))
		k.tones = append(k.tones, dtmf.Interval{Start: pos, End: pos + frames(tn.dur)})
		pos += frames(tn.dur)
	}
	last := gaps(len(tones))
	args = append(args, ":", "trim", "0", secs(last))
	pos += frames(last)
	if b, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, b)
	}
	k.pcm = readPCM(t, out)
	k.list = tones
	if int64(len(k.pcm)) != pos {
		t.Fatalf("sox made %d samples, want %d", len(k.pcm), pos)
	}
	return k
}

func readPCM(t testing.TB, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

// espeakSpeech is n samples of espeak-ng speech at 16 kHz whose rms while
// speaking (20 ms windows above −50 dBFS) is dBFS, repeated if the text is
// shorter.
func espeakSpeech(t testing.TB, voice string, n int, dBFS float64) []int16 {
	t.Helper()
	espeak := testrig.NeedCommand(t, "espeak-ng")
	sox := testrig.NeedCommand(t, "sox")
	dir := t.TempDir()
	wav, raw := filepath.Join(dir, "speech.wav"), filepath.Join(dir, "speech.raw")
	text := "Thank you for calling the council. Could you give me the long number on the front of your card, " +
		"and the expiry date, please? I will read it back to you before we go on with the payment."
	if b, err := exec.Command(espeak, "-v", voice, "-s", "170", "-w", wav, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, b)
	}
	if b, err := exec.Command(sox, wav, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", raw).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, b)
	}
	src := readPCM(t, raw)
	var sum float64
	var active int
	for w := 0; w+320 <= len(src); w += 320 {
		var e float64
		for _, v := range src[w : w+320] {
			e += float64(v) * float64(v)
		}
		if math.Sqrt(e/320) > 32767*math.Pow(10, -50.0/20) {
			sum += e
			active += 320
		}
	}
	gain := math.Pow(10, dBFS/20) * 32767 / math.Sqrt(sum/float64(active))
	out := make([]int16, n)
	for i := range out {
		out[i] = clip(float64(src[i%len(src)]) * gain)
	}
	return out
}

// whiteNoise is n samples of Gaussian noise at rms dBFS.
func whiteNoise(n int, dBFS float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]int16, n)
	rms := math.Pow(10, dBFS/20) * 32767
	for i := range out {
		out[i] = clip(rng.NormFloat64() * rms)
	}
	return out
}

func clip(v float64) int16 { return int16(max(-32768, min(32767, math.Round(v)))) }

func mixInto(a, b []int16) []int16 {
	out := make([]int16, len(a))
	for i := range a {
		out[i] = clip(float64(a[i]) + float64(b[i]))
	}
	return out
}

// feedPCM feeds officer and caller (same length, padded to whole buffers)
// to the rig in lockstep from a goroutine, as fast as capture reads; the
// returned func waits until all is fed.
func (a *audioRig) feedPCM(officer, caller []int16, pace time.Duration) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(max(pace, time.Microsecond))
		defer tick.Stop()
		for off := 0; off < len(officer); off += BufferFrames {
			if pace > 0 {
				<-tick.C
			}
			end := min(off+BufferFrames, len(officer))
			o, c := make([]int16, BufferFrames), make([]int16, BufferFrames)
			copy(o, officer[off:end])
			copy(c, caller[off:end])
			if a.alsa.Input("officer").Feed(o) != nil || a.alsa.Input("caller").Feed(c) != nil {
				return
			}
			a.mu.Lock()
			a.fed += BufferFrames
			a.mu.Unlock()
		}
	}()
	return func() { <-done }
}

// recordPCM records officer and caller through the real recorder (ALSA file
// PCM, PortAudio, gate, masker, age) as one call and returns the decrypted
// stereo audio, the manifest, and the source frame of the recording's first
// frame (a fresh rig's capture counts frames as they were fed).
func recordPCM(t *testing.T, a *audioRig, r *Recorder, id string, officer, caller []int16, call func(*app.RecordingCall)) ([]int16, *artefact.Manifest, int64) {
	t.Helper()
	rc := testCall(id, "")
	if call != nil {
		call(&rc)
	}
	rec, err := r.start(rc, func(err error) { t.Errorf("onFail: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	start := a.fedFrames()
	fed := make(chan struct{})
	go func() { a.feedPCM(officer, caller, 4*time.Millisecond)(); close(fed) }()
	select {
	case <-fed:
	case <-rec.done:
		t.Fatalf("the recording stopped by itself while being fed: %v", rec.result)
	}
	want := start + int64((len(officer)+BufferFrames-1)/BufferFrames*BufferFrames)
	testrig.Eventually(t, 20*time.Second, func() bool { return r.captureFrames() >= want }, "capture did not read the %d frames fed", want)
	testrig.Eventually(t, 20*time.Second, func() bool { return rec.written.Load() >= want-rec.startFrame }, "the writer did not take every buffer")
	if err := rec.Stop(app.RecordingEnd{Ended: time.Now(), Notice: app.NoticeAnnounced}); err != nil {
		t.Fatal(err)
	}
	out, m := decryptStereo(t, a.keyID, rec)
	return out, m, rec.startFrame - start
}

func decryptStereo(t *testing.T, id *age.X25519Identity, rec *Recording) ([]int16, *artefact.Manifest) {
	t.Helper()
	m, err := artefact.ReadManifest(rec.manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	if vr, err := artefact.Verify(rec.audioPath, rec.manifestPath, []age.Identity{id}); err != nil {
		t.Fatalf("verify: %v %v", err, vr.Problems)
	}
	var wav bytes.Buffer
	if _, err := artefact.Decrypt(rec.audioPath, []age.Identity{id}, &wav); err != nil {
		t.Fatal(err)
	}
	data := wav.Bytes()[artefact.WAVHeaderSize:]
	out := make([]int16, len(data)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return out, m
}

func channelOf(stereo []int16, c int) []int16 {
	out := make([]int16, len(stereo)/2)
	for i := range out {
		out[i] = stereo[2*i+c]
	}
	return out
}

// multimon decodes mono 16 kHz audio with multimon-ng and returns the keys
// it heard.
func multimon(t *testing.T, pcm []int16) string {
	t.Helper()
	mm := testrig.NeedCommand(t, "multimon-ng")
	sox := testrig.NeedCommand(t, "sox")
	dir := t.TempDir()
	raw, wav := filepath.Join(dir, "a.raw"), filepath.Join(dir, "a.wav")
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if err := os.WriteFile(raw, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sox, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", raw, wav).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	out, err := exec.Command(mm, "-q", "-c", "-a", "DTMF", "-t", "wav", wav).CombinedOutput()
	if err != nil {
		t.Fatalf("multimon-ng: %v: %s", err, out)
	}
	var heard strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		if k, ok := strings.CutPrefix(strings.TrimSpace(line), "DTMF: "); ok {
			heard.WriteString(k)
		}
	}
	return heard.String()
}

// allKeypresses is every key at 40, 50, 70, 100 and 200 ms, at levels from
// −25 to −3 dBFS and twists of +8, 0 and −4 dB in turn.
func allKeypresses() []keyTone {
	levels := []float64{-25, -21, -17, -13, -9, -6, -3}
	var ts []keyTone
	i := 0
	for _, d := range []time.Duration{40, 50, 70, 100, 200} {
		for k := range dtmfKeys {
			ts = append(ts, keyTone{key: dtmfKeys[k], dur: d * time.Millisecond, level: levels[i%len(levels)], twist: []float64{8, 0, -4}[i%3]})
			i++
		}
	}
	return ts
}

// Keypad tones fed through the real recorder (ALSA file PCM, PortAudio, the
// gate, the masker, age): all 16 keys at 40 to 200 ms and −25 to −3 dBFS
// with Q.24's twist, alone; 16 keys with speech under them on the same
// channel and speech on the other; with white noise; and on the officer's
// channel (the softphone's beep through the headset). In every decrypted
// recording not one sample of a tone survives on either channel, no
// redaction lies where no tone was, neither
// the detector nor multimon-ng hears a tone, every tone lies inside a
// manifest redaction of kind dtmf, and everything outside those
// redactions is the source bit for bit.
func TestKeypadTonesNeverReachTheRecording(t *testing.T) {
	gap := func(seed uint64) func(int) time.Duration {
		rng := rand.New(rand.NewPCG(seed, 9))
		return func(i int) time.Duration { return time.Duration(60+rng.IntN(191)) * time.Millisecond }
	}
	sixteen := func(d time.Duration, level float64) []keyTone {
		var ts []keyTone
		for k := range dtmfKeys {
			ts = append(ts, keyTone{key: dtmfKeys[k], dur: d, level: level, twist: []float64{8, 0, -4}[k%3]})
		}
		return ts
	}
	cases := []struct {
		name      string
		tones     []keyTone
		toneCh    int     // 0 officer, 1 caller
		under     string  // "speech" or "noise" under the tones, 15 dB below them
		otherTalk bool    // speech on the other channel
		otherdB   float64 // its level
	}{
		{name: "every key, duration, level and twist alone", tones: allKeypresses(), toneCh: 1},
		{name: "speech under the tones and on the other channel", tones: sixteen(70*time.Millisecond, -10), toneCh: 1, under: "speech", otherTalk: true, otherdB: -20},
		{name: "white noise under the tones", tones: sixteen(50*time.Millisecond, -12), toneCh: 1, under: "noise"},
		{name: "tones on the officer's channel", tones: sixteen(100*time.Millisecond, -15), toneCh: 0, otherTalk: true, otherdB: -22},
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newAudioRig(t, true)
			r := a.recorder(t, "caller")
			k := soxTones(t, tc.tones, gap(uint64(ci)))
			n := len(k.pcm)
			toneCh := k.pcm
			switch tc.under {
			case "speech":
				// Tones of −10 dBFS peak are −16 dBFS rms; speech 15 dB below.
				toneCh = mixInto(k.pcm, espeakSpeech(t, "en-gb+f3", n, -31))
			case "noise":
				// Tones of −12 dBFS peak are −18 dBFS rms; noise 15 dB below.
				toneCh = mixInto(k.pcm, whiteNoise(n, -33, uint64(ci)))
			}
			other := make([]int16, n)
			if tc.otherTalk {
				other = espeakSpeech(t, "en-gb-scotland+m3", n, tc.otherdB)
			}
			officer, caller := other, toneCh
			if tc.toneCh == 0 {
				officer, caller = toneCh, other
			}
			out, m, off := recordPCM(t, a, r, fmt.Sprintf("call-keys-%d", ci), officer, caller, nil)
			src := func(f int64, c int) int16 {
				s := f + off
				if s < 0 || s >= int64(n) {
					return 0
				}
				if c == 0 {
					return officer[s]
				}
				return caller[s]
			}
			var reds []artefact.Redaction
			for _, rd := range m.Redactions {
				if rd.Kind != artefact.RedactionKindDTMF || rd.By != "recorder" || rd.SHA256EncryptedBefore != "" {
					t.Errorf("redaction %+v: not the recorder's dtmf kind", rd)
				}
				reds = append(reds, rd)
			}
			if m.Version != artefact.ManifestVersion {
				t.Errorf("manifest version %d, want %d", m.Version, artefact.ManifestVersion)
			}
			inRed := func(f int64) bool {
				ms := float64(f) * 1000 / artefact.SampleRate
				return slices.ContainsFunc(reds, func(rd artefact.Redaction) bool { return ms >= float64(rd.FromMS) && ms < float64(rd.ToMS) })
			}
			frames := int64(len(out) / 2)
			for f := int64(0); f < frames; f++ {
				o, c := out[2*f], out[2*f+1]
				if inRed(f) {
					if o != 0 || c != 0 {
						t.Fatalf("frame %d is inside a dtmf redaction but holds (%d, %d)", f, o, c)
					}
				} else if o != src(f, 0) || c != src(f, 1) {
					t.Fatalf("frame %d is outside every redaction but is (%d, %d), source (%d, %d)", f, o, c, src(f, 0), src(f, 1))
				}
			}
			for i, iv := range k.tones {
				for s := iv.Start; s < iv.End; s++ {
					if !inRed(s - off) {
						tn := tc.tones[i]
						t.Fatalf("tone %d (%v at %.0f dBFS, twist %+.0f dB): frame %d is in no redaction", i, tn.dur, tn.level, tn.twist, s-iv.Start)
					}
				}
			}
			// And no redaction without a tone in it: speech and noise are
			// never masked.
			for _, rd := range reds {
				from, to := artefact.MSToFrames(rd.FromMS)+off, artefact.MSToFrames(rd.ToMS)+off
				if !slices.ContainsFunc(k.tones, func(iv dtmf.Interval) bool { return iv.Start < to && iv.End > from }) {
					t.Errorf("redaction %d-%d ms holds no tone: a false mask", rd.FromMS, rd.ToMS)
				}
			}
			for c := 0; c < 2; c++ {
				ch := channelOf(out, c)
				if got, err := dtmf.Detect(ch, artefact.SampleRate); err != nil || len(got) > 0 {
					t.Errorf("channel %d: the detector hears %d tones in the recording (%v)", c, len(got), err)
				}
				if got := multimon(t, ch); got != "" {
					t.Errorf("channel %d: multimon-ng decodes %d keys in the recording", c, len(got))
				}
			}
			// The decoders do hear the tones in what was fed: the test signal
			// is one they decode.
			fed := caller
			if tc.toneCh == 0 {
				fed = officer
			}
			heard, _ := dtmf.Detect(fed, artefact.SampleRate)
			before := multimon(t, fed)
			if len(heard) != len(k.tones) || (tc.under == "" && len(before) < len(k.tones)/2) {
				t.Errorf("before recording: the detector hears %d of %d tones, multimon-ng %d", len(heard), len(k.tones), len(before))
			}
			t.Logf("%d tones (%v of audio): %d dtmf redactions; before recording the detector heard %d, multimon-ng %d; after, neither hears any",
				len(k.tones), time.Duration(n)*time.Second/16000, len(reds), len(heard), len(before))
		})
	}
}

// feedKeyed feeds buffers [from, from+n) of pcm to the caller input (the
// officer's is silent) and waits until the capture has read them and begun
// its next read, as feedAndWait does.
func feedKeyed(t *testing.T, a *audioRig, r *Recorder, pcm []int16, from, n int) {
	t.Helper()
	for b := from; b < from+n; b++ {
		c := make([]int16, BufferFrames)
		if b*BufferFrames < len(pcm) {
			copy(c, pcm[b*BufferFrames:min((b+1)*BufferFrames, len(pcm))])
		}
		if err := a.alsa.Input("officer").Feed(make([]int16, BufferFrames)); err != nil {
			t.Fatal(err)
		}
		if err := a.alsa.Input("caller").Feed(c); err != nil {
			t.Fatal(err)
		}
		a.mu.Lock()
		a.fed += BufferFrames
		a.mu.Unlock()
	}
	want := a.fedFrames()
	testrig.Eventually(t, 5*time.Second, func() bool { return r.captureFrames() >= want }, "capture did not read the %d frames fed", want)
	testrig.Eventually(t, 5*time.Second, func() bool { return r.captureReads() == want/BufferFrames+1 }, "capture did not begin its next read")
}

// The masker holds back 60 ms of what it writes, never of what the gate
// does: pausing and resuming while the caller is keying (a pause in the
// middle of a tone, a resume in the middle of another) still puts each
// boundary exactly at the buffer being read when the command came, Pause
// returns at once, the paused stretch is digital silence, and the pieces of
// tones the gate left are silenced too.
func TestPauseWhileKeyingStillCutsWithinOneBuffer(t *testing.T) {
	a := newAudioRig(t, true)
	r := a.recorder(t, "caller")
	var ts []keyTone
	for k := range dtmfKeys {
		ts = append(ts, keyTone{key: dtmfKeys[k], dur: 100 * time.Millisecond, level: -12})
	}
	k := soxTones(t, ts, func(int) time.Duration { return 110 * time.Millisecond })
	rec, err := r.start(testCall("call-keying", ""), func(err error) { t.Errorf("onFail: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	// Tone i sounds from 110+210i ms for 100 ms: the pause at 800 ms
	// (buffer 40) cuts tone 3 (740-840 ms) in two, the resume at 1460 ms
	// leaves the last 10 ms of tone 6 (1370-1470 ms).
	feedKeyed(t, a, r, k.pcm, 0, 40)
	var cmds []command
	var took []time.Duration
	t0 := time.Now()
	cmds = append(cmds, do(t, r, func() error { return rec.Pause("payment") }, true))
	took = append(took, time.Since(t0))
	feedKeyed(t, a, r, k.pcm, 40, 32)
	t0 = time.Now()
	cmds = append(cmds, do(t, r, rec.Resume, false))
	took = append(took, time.Since(t0))
	total := (len(k.pcm) + BufferFrames - 1) / BufferFrames
	feedKeyed(t, a, r, k.pcm, 72, total-72)
	if err := rec.Stop(app.RecordingEnd{Ended: time.Now()}); err != nil {
		t.Fatal(err)
	}
	checkBoundaries(t, rec, cmds)
	for i, b := range rec.boundaries {
		want := cmds[i].before
		if !b.paused {
			want += BufferFrames
		}
		if got := rec.startFrame + b.pos; got != want {
			t.Errorf("boundary %d (paused=%v) at frame %d, want %d: the masker moved the gate", i, b.paused, got, want)
		}
	}
	out, m := decryptStereo(t, a.keyID, rec)
	if len(m.Pauses) != 1 || m.Pauses[0].StartMS != 800 || *m.Pauses[0].EndMS != 1460 {
		t.Fatalf("pauses %s, want payment@800ms-1.46s", pausesString(m))
	}
	for f := int64(800 * 16); f < 1460*16; f++ {
		if out[2*f] != 0 || out[2*f+1] != 0 {
			t.Fatalf("frame %d inside the pause holds (%d, %d)", f, out[2*f], out[2*f+1])
		}
	}
	for c := 0; c < 2; c++ {
		if got, _ := dtmf.Detect(channelOf(out, c), artefact.SampleRate); len(got) > 0 {
			t.Errorf("channel %d: the detector hears %d tones", c, len(got))
		}
		if got := multimon(t, channelOf(out, c)); got != "" {
			t.Errorf("channel %d: multimon-ng decodes %d keys", c, len(got))
		}
	}
	t.Logf("Pause returned in %v, Resume in %v; boundaries at the buffer being read; %d dtmf redactions, pauses %s", took[0], took[1], len(m.Redactions), pausesString(m))
}

// A recording that stops by itself (the device stalls) while a tone is in
// the masker's 60 ms hold-back: what the masker held is still written, the
// tone silenced to the end, and the file holds every frame captured.
func TestKeypadToneHeldBackIsWrittenWhenTheDeviceIsLost(t *testing.T) {
	a := newAudioRig(t, true)
	r := a.recorder(t, "caller")
	r.stall = 500 * time.Millisecond
	k := soxTones(t, []keyTone{{key: '7', dur: 200 * time.Millisecond, level: -10}}, func(i int) time.Duration {
		if i == 0 {
			return 500 * time.Millisecond
		}
		return 20 * time.Millisecond // the tone ends 20 ms before the last frame
	})
	failed := make(chan error, 1)
	rec, err := r.start(testCall("call-lost-keying", ""), func(err error) { failed <- err })
	if err != nil {
		t.Fatal(err)
	}
	n := len(k.pcm) / BufferFrames
	feedKeyed(t, a, r, k.pcm, 0, n)
	select {
	case err := <-failed:
		if !errors.Is(err, ErrDeviceLost) {
			t.Fatalf("onFail(%v), want ErrDeviceLost", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no onFail after the device stalled")
	}
	out, m := decryptStereo(t, a.keyID, rec)
	if m.Frames != int64(n*BufferFrames) || int64(len(out)/2) != m.Frames {
		t.Fatalf("%d frames in the file, manifest %d, %d captured", len(out)/2, m.Frames, n*BufferFrames)
	}
	tone := k.tones[0]
	for f := tone.Start; f < m.Frames; f++ {
		if out[2*f] != 0 || out[2*f+1] != 0 {
			t.Fatalf("frame %d (%d ms after the tone began) survived", f, (f-tone.Start)/16)
		}
	}
	for f := int64(0); f < tone.Start-int64(dtmf.DefaultGuard/time.Millisecond)*16-64; f++ {
		if out[2*f+1] != k.pcm[f] {
			t.Fatalf("frame %d before the tone changed", f)
		}
	}
	if len(m.Redactions) != 1 || m.Redactions[0].ToMS != artefact.FramesToMS(m.Frames) {
		t.Fatalf("redactions %+v, want one to the end (%d ms)", m.Redactions, artefact.FramesToMS(m.Frames))
	}
	a.feed(1) // unblock the stuck read so the capture goroutine ends
}
