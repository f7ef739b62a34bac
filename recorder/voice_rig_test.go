package recorder

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/scoring"
	"github.com/callguard/callguard/vad"
)

// toneSpan is a sine in source frames [from, to).
type toneSpan struct{ from, to int64 }

// toneChannel is noise at -60 dBFS with sine tones at level dBFS over it.
func toneChannel(seed uint64, n int64, freq, level float64, tones []toneSpan) []int16 {
	rng := rand.New(rand.NewPCG(seed, 3))
	noise := 32768 * math.Pow(10, -60.0/20) / math.Sqrt2
	amp := 32768 * math.Pow(10, level/20)
	out := make([]int16, n)
	for i := range out {
		v := rng.NormFloat64() * noise
		for _, s := range tones {
			if int64(i) >= s.from && int64(i) < s.to {
				v += amp * math.Sin(2*math.Pi*freq*float64(i)/artefact.SampleRate)
			}
		}
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

// at is a source frame from seconds.
func at(s float64) int64 { return int64(math.Round(s * artefact.SampleRate)) }

// A synthetic call through the real recorder (ALSA file PCM → PortAudio →
// gate → masker → voice tee → WAV or Opus → age): the officer's tones on
// the left, the caller's on the right, overlapping twice, a 100 ms gap the
// hangover bridges, a 600 ms one it does not, a quiet -40 dBFS stretch, and
// a pause in the middle of one of the caller's tones. The manifest's
// timeline matches the truth within one 20 ms frame at every edge, nothing
// is voiced inside the pause, it covers the whole recording, and a
// manifest rewritten while the call went on carried it too.
func TestVoiceTimelineThroughTheRig(t *testing.T) {
	const n = 12 * artefact.SampleRate
	officerTones := []toneSpan{{at(1.003), at(3.0)}, {at(3.1), at(4.507)}, {at(6.011), at(7.99)}}
	callerTones := []toneSpan{{at(2.5), at(4.0)}, {at(4.6), at(5.2)}, {at(7.5), at(9.5)}, {at(10.013), at(11.0)}}
	officer := toneChannel(1, n, 300, -20, officerTones)
	caller := toneChannel(2, n, 530, -30, callerTones)
	// The quiet one: the caller's last tone at -40 dBFS.
	quiet := toneChannel(3, n, 530, -40, callerTones[3:])
	copy(caller[callerTones[3].from:], quiet[callerTones[3].from:])

	for _, c := range []struct {
		name string
		call app.RecordingCall
	}{{"wav", testCall("call-voice-wav", "")}, {"opus", opusCall("call-voice-opus", "")}} {
		t.Run(c.name, func(t *testing.T) {
			a := newAudioRig(t, true)
			r := a.recorder(t, "caller")
			rec, err := r.start(c.call, func(err error) { t.Errorf("onFail: %v", err) })
			if err != nil {
				t.Fatal(err)
			}
			start := a.fedFrames()
			done := a.feedPCM(officer, caller, 4*time.Millisecond)
			pauseAt, resumeAt := start+at(8.3), start+at(9.0)
			testrig.Eventually(t, 30*time.Second, func() bool { return r.captureFrames() >= pauseAt }, "capture did not reach the pause")
			if err := rec.Pause("payment"); err != nil {
				t.Fatal(err)
			}
			// The manifest rewritten at the pause carries the timeline so far.
			var mid *artefact.Manifest
			testrig.Eventually(t, 10*time.Second, func() bool {
				m, err := artefact.ReadManifest(rec.manifestPath)
				mid = m
				return err == nil && len(m.Pauses) == 1
			}, "the pause did not reach the manifest")
			if mid.Voice == nil || artefact.Frames(mid.Voice.Officer) < at(7.5)/BufferFrames {
				t.Fatalf("the manifest rewritten at the pause has the timeline %+v", mid.Voice)
			}
			testrig.Eventually(t, 30*time.Second, func() bool { return r.captureFrames() >= resumeAt }, "capture did not reach the resume")
			if err := rec.Resume(); err != nil {
				t.Fatal(err)
			}
			done()
			want := start + n
			testrig.Eventually(t, 20*time.Second, func() bool { return r.captureFrames() >= want }, "capture did not read the %d frames fed", want)
			testrig.Eventually(t, 20*time.Second, func() bool { return rec.written.Load() >= want-rec.startFrame }, "the writer did not take every buffer")
			if err := rec.Stop(app.RecordingEnd{Ended: time.Now(), Notice: app.NoticeAnnounced}); err != nil {
				t.Fatal(err)
			}
			m, err := artefact.ReadManifest(rec.manifestPath)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Pauses) != 1 || m.Pauses[0].EndMS == nil || m.Voice == nil {
				t.Fatalf("pauses %s, voice %v", pausesString(m), m.Voice)
			}
			off := rec.startFrame - start // source frame of the recording's first
			p0, p1 := artefact.MSToFrames(m.Pauses[0].StartMS), artefact.MSToFrames(*m.Pauses[0].EndMS)
			pauseTone := callerTones[2]
			if p0 <= pauseTone.from-off || p1 >= pauseTone.to-off {
				t.Fatalf("the pause %s is not inside the caller's tone at %.2f-%.2f s", pausesString(m), float64(pauseTone.from-off)/16000, float64(pauseTone.to-off)/16000)
			}
			var worst int64
			truths := map[string][]artefact.Span{}
			for _, ch := range []struct {
				name  string
				runs  []int32
				tones []toneSpan
			}{{"officer", m.Voice.Officer, officerTones}, {"caller", m.Voice.Caller, callerTones}} {
				if got := artefact.Frames(ch.runs) * BufferFrames; got != m.Frames {
					t.Errorf("%s: the timeline covers %d frames, the recording %d", ch.name, got, m.Frames)
				}
				spans, err := m.Voice.Spans(ch.runs)
				if err != nil {
					t.Fatal(err)
				}
				truth := voiceTruth(ch.tones, off, p0, p1)
				truths[ch.name] = truth
				if len(spans) != len(truth) {
					t.Fatalf("%s: voiced %v, truth %v (ms)", ch.name, spans, truth)
				}
				for i, s := range spans {
					if artefact.MSToFrames(s.FromMS) < p1 && artefact.MSToFrames(s.ToMS) > p0 {
						t.Errorf("%s: voiced %v inside the pause %s", ch.name, s, pausesString(m))
					}
					for _, e := range [][2]int64{{s.FromMS, truth[i].FromMS}, {s.ToMS, truth[i].ToMS}} {
						d := abs(e[0] - e[1])
						worst = max(worst, d)
						if d >= artefact.VoiceFrameMS {
							t.Errorf("%s: an edge at %d ms, the truth is %d ms", ch.name, e[0], e[1])
						}
					}
				}
				t.Logf("%s: voiced %v", ch.name, spans)
			}
			t.Logf("%s: %d ms recorded, pause %s, every edge within %d ms of the truth", c.name, m.DurationMS, pausesString(m), worst)
			measuresMatchTheTruth(t, m, truths["officer"], truths["caller"])
		})
	}
}

// voiceTruth is where a channel is voiced in milliseconds of the
// recording: its tones from source to recording frames (off is the source
// frame of the recording's first), gaps shorter than 200 ms bridged, the
// pause [p0, p1) cut out.
func voiceTruth(tones []toneSpan, off, p0, p1 int64) []artefact.Span {
	var merged []toneSpan
	for _, s := range tones {
		s = toneSpan{s.from - off, s.to - off}
		if k := len(merged); k > 0 && s.from-merged[k-1].to < at(0.2) {
			merged[k-1].to = s.to
			continue
		}
		merged = append(merged, s)
	}
	var out []artefact.Span
	ms := func(f int64) int64 { return int64(math.Round(float64(f) * 1000 / artefact.SampleRate)) }
	for _, s := range merged {
		for _, part := range []toneSpan{{s.from, min(s.to, p0)}, {max(s.from, p1), s.to}} {
			if part.to > part.from {
				out = append(out, artefact.Span{FromMS: ms(part.from), ToMS: ms(part.to)})
			}
		}
	}
	return out
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// espeak-ng speech over noise, the two parties overlapping, through the
// real recorder with a pause in the middle of the caller's words: the
// manifest's timeline is, frame for frame, what the detector makes of the
// source with the pause's frames skipped (the tee sees exactly what is
// stored, aligned to the recording's first frame, officer left); nothing
// is voiced in the pause, and most of each party's speech is voice.
func TestVoiceTimelineOfSpeechThroughTheRig(t *testing.T) {
	officerSays := opustest.Speech(t, "Thank you for calling the housing repairs line. Could I take your postcode, please?")
	callerSays := opustest.Speech(t, "Yes, it is twelve Station Road, and the boiler has not worked since Monday morning.")
	n := int64(len(officerSays) + len(callerSays)/2 + 2*artefact.SampleRate)
	officer := toneChannel(4, n, 0, -200, nil) // noise only
	caller := toneChannel(5, n, 0, -200, nil)
	mix := func(a, b int16) int16 { return int16(max(-32768, min(32767, int32(a)+int32(b)))) }
	for i, s := range officerSays {
		officer[artefact.SampleRate/2+i] = mix(officer[artefact.SampleRate/2+i], s)
	}
	callerFrom := artefact.SampleRate/2 + len(officerSays)/2 // overlapping the officer's second half
	for i, s := range callerSays {
		caller[callerFrom+i] = mix(caller[callerFrom+i], s)
	}
	a := newAudioRig(t, true)
	r := a.recorder(t, "caller")
	rec, err := r.start(testCall("call-voice-speech", ""), func(err error) { t.Errorf("onFail: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	start := a.fedFrames()
	done := a.feedPCM(officer, caller, 4*time.Millisecond)
	pauseAt := start + int64(callerFrom+len(callerSays)/2)
	testrig.Eventually(t, 30*time.Second, func() bool { return r.captureFrames() >= pauseAt }, "capture did not reach the pause")
	if err := rec.Pause("payment"); err != nil {
		t.Fatal(err)
	}
	testrig.Eventually(t, 30*time.Second, func() bool { return r.captureFrames() >= pauseAt+artefact.SampleRate }, "capture did not reach the resume")
	if err := rec.Resume(); err != nil {
		t.Fatal(err)
	}
	done()
	want := start + (n+BufferFrames-1)/BufferFrames*BufferFrames
	testrig.Eventually(t, 20*time.Second, func() bool { return r.captureFrames() >= want }, "capture did not read the %d frames fed", want)
	testrig.Eventually(t, 20*time.Second, func() bool { return rec.written.Load() >= want-rec.startFrame }, "the writer did not take every buffer")
	if err := rec.Stop(app.RecordingEnd{Ended: time.Now(), Notice: app.NoticeAnnounced}); err != nil {
		t.Fatal(err)
	}
	m, err := artefact.ReadManifest(rec.manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pauses) != 1 || m.Voice == nil || len(m.Redactions) != 0 {
		t.Fatalf("pauses %s, voice %v, redactions %+v", pausesString(m), m.Voice, m.Redactions)
	}
	p0, p1 := artefact.MSToFrames(m.Pauses[0].StartMS), artefact.MSToFrames(*m.Pauses[0].EndMS)
	off := rec.startFrame - start
	stereo := make([]byte, 4*m.Frames)
	for k := range m.Frames {
		if s := k + off; s >= 0 && s < n {
			binary.LittleEndian.PutUint16(stereo[4*k:], uint16(officer[s]))
			binary.LittleEndian.PutUint16(stereo[4*k+2:], uint16(caller[s]))
		}
	}
	tl, err := vad.NewTimeline(func(from, to int64) bool { return from < p1 && to > p0 })
	if err != nil {
		t.Fatal(err)
	}
	tl.Write(stereo)
	tl.Close()
	truth := tl.Voice()
	for _, ch := range []struct {
		name       string
		got, want  []int32
		from, said int64 // where the party's speech is, in recording frames
	}{
		{"officer", m.Voice.Officer, truth.Officer, artefact.SampleRate/2 - off, int64(len(officerSays))},
		{"caller", m.Voice.Caller, truth.Caller, int64(callerFrom) - off, int64(len(callerSays))},
	} {
		if !slices.Equal(ch.got, ch.want) {
			t.Errorf("%s: runs %v, the detector on the source gives %v", ch.name, ch.got, ch.want)
		}
		spans, err := m.Voice.Spans(ch.got)
		if err != nil {
			t.Fatal(err)
		}
		var voiced int64
		for _, s := range spans {
			if artefact.MSToFrames(s.FromMS) < p1 && artefact.MSToFrames(s.ToMS) > p0 {
				t.Errorf("%s: voiced %v inside the pause %s", ch.name, s, pausesString(m))
			}
			if from, to := artefact.MSToFrames(s.FromMS), artefact.MSToFrames(s.ToMS); to <= ch.from || from >= ch.from+ch.said {
				t.Errorf("%s: voiced %v, outside the words (%d-%d ms)", ch.name, s, artefact.FramesToMS(ch.from), artefact.FramesToMS(ch.from+ch.said))
			}
			voiced += artefact.MSToFrames(s.ToMS - s.FromMS)
		}
		heard := ch.said - max(0, min(p1, ch.from+ch.said)-max(p0, ch.from)) // less what the pause took
		if share := float64(voiced) / float64(heard); share < 0.6 || share > 1 {
			t.Errorf("%s: %.0f %% of the recorded speech voiced", ch.name, 100*share)
		}
		t.Logf("%s: %d stretches, %.1f s voiced of %.1f s of speech recorded", ch.name, len(spans), float64(voiced)/16000, float64(heard)/16000)
	}
	t.Logf("pause %s", pausesString(m))
}

// measuresMatchTheTruth scores the recorded manifest as the server does
// (server/scoring, from the timeline and the pauses, nothing decrypted) and
// holds each talk and silence measure to the same measure of the truth's
// spans, the pause contributing nothing: every edge is within one 20 ms
// frame, so a total over k stretches is within 2k frames (the frames that
// hold an edge come out voiced, so the errors add up rather than cancel).
func measuresMatchTheTruth(t *testing.T, m *artefact.Manifest, officer, caller []artefact.Span) {
	t.Helper()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	got := scoring.Compute(m, server.Call{ID: m.CallID, Agent: m.Agent}, nil, pol)
	end := artefact.Frames(m.Voice.Officer) * int64(m.Voice.FrameMS)
	pause := artefact.Span{FromMS: m.Pauses[0].StartMS, ToMS: *m.Pauses[0].EndMS}
	sum := func(ss []artefact.Span) (n int64) {
		for _, s := range ss {
			n += s.ToMS - s.FromMS
		}
		return n
	}
	// Overtalk and silence of the truth, millisecond by millisecond.
	var both, overtalks, longest, silence, silences int64
	for ms, wasBoth := int64(0), false; ms < end; ms++ {
		in := func(ss []artefact.Span) bool {
			for _, s := range ss {
				if ms >= s.FromMS && ms < s.ToMS {
					return true
				}
			}
			return false
		}
		o, c, p := in(officer), in(caller), ms >= pause.FromMS && ms < pause.ToMS
		if o && c {
			both++
			if !wasBoth {
				overtalks++
			}
		}
		wasBoth = o && c
		if !o && !c && !p {
			if silence == 0 {
				silences++
			}
			silence++
			longest = max(longest, silence)
		} else {
			silence = 0
		}
	}
	frames := func(stretches int) float64 { return float64(2*stretches*artefact.VoiceFrameMS) / 1000 }
	for _, w := range []struct {
		name  string
		truth float64
		tol   float64
	}{
		{policy.MeasureTalkOfficer, float64(sum(officer)) / 1000, frames(len(officer))},
		{policy.MeasureTalkCaller, float64(sum(caller)) / 1000, frames(len(caller))},
		{policy.MeasureOvertalk, float64(both) / 1000, frames(int(overtalks))},
		{policy.MeasureOvertalkCount, float64(overtalks), 0},
		{policy.MeasureLongestSilence, float64(longest) / 1000, frames(1)},
	} {
		g := got.Get(w.name)
		if !g.Measured || math.Abs(g.Value-w.truth) > w.tol {
			t.Errorf("%s: measured %v (%s), the truth is %.3f", w.name, g.Value, g.NotMeasured, w.truth)
			continue
		}
		t.Logf("%s: %.3f, the truth %.3f", w.name, g.Value, w.truth)
	}
	if g := got.Get(policy.MeasureSilencesOver); !g.Measured || g.Value != 0 {
		t.Errorf("silences over the threshold: %v (%s); the call has %d silences, none of 10 s", g.Value, g.NotMeasured, silences)
	}
}
