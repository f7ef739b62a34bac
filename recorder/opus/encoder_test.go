package opus_test

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
	"github.com/callguard/callguard/recorder/opus"
)

// The packet the encoder gives the manifest is libopus's own coding of
// silence in CELT mode, and the very packet the server builds without
// libopus.
func TestSilencePacketIsCELTSilence(t *testing.T) {
	t.Parallel()
	_, e := encode(t, make([]int16, 2*ms(100)))
	want, err := oggopus.CELTSilence(2, rate, 960)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.SilencePacket(); !bytes.Equal(got, want) {
		t.Fatalf("libopus codes silence as %x; CELTSilence gives %x", got, want)
	}
	if toc := oggopus.TOC(want[0]); toc.Mode() != oggopus.ModeCELT || !toc.Stereo() || toc.FrameSamples() != 960 {
		t.Fatalf("silence packet %v", toc)
	}
}

// dialogues are what espeak-ng reads as officer and caller: a card
// payment and a housing repairs call.
var dialogues = [][2]string{
	{officerSays, callerSays},
	{"Good morning, you are through to the housing repairs line, my name is Sam. How can I help?",
		"Hello. The boiler has stopped working again and there is water coming through the kitchen ceiling."},
	{"I am sorry to hear that. Can I take the first line of your address and your postcode, please?",
		"It is twelve Maes y Coed, Bangor, L L fifty seven, two T W."},
}

// turns puts officer and caller on their channels one after the other, as
// people take turns on a call.
func turns(officer, caller []int16) []int16 {
	return opustest.Stereo(append(slices.Clone(officer), make([]int16, len(caller))...), append(make([]int16, len(officer)), caller...))
}

// Known signals through the encoder, at the default bitrate, come back from
// opusdec and from the package's Decoder with the same length, aligned to
// the sample, and with every 100 ms window of sound following the source,
// channel by channel: an envelope correlation of at least 0.9 where the
// envelope has a shape (0.85 in the quiet tails of words, from -40 to
// -35 dBFS, some 20 dB under the speech), and the level within 6 dB.
// Measured with libopus 1.3.1 at 24 kbit/s: the worst window above
// -35 dBFS correlates 0.908, the worst tail 0.899 (at 32 kbit/s: 0.923 for
// both), the worst level is 4.2 dB low (a fricative).
func TestEncodedAudioMatchesItsSource(t *testing.T) {
	t.Parallel()
	type signal struct {
		name string
		pcm  []int16
	}
	sigs := []signal{{"tones, officer then caller", turns(
		opustest.Sox(t, "-n", "synth", "1.5", "sine", "440", "tremolo", "7", "90", "vol", "0.5"),
		opustest.Sox(t, "-n", "synth", "1.5", "sine", "300-2500", "tremolo", "4", "80", "vol", "0.3"))}}
	for i, d := range dialogues {
		sigs = append(sigs, signal{fmt.Sprintf("dialogue %d", i+1), turns(speech(t, d[0]), speech(t, d[1]))})
	}
	for _, sig := range sigs {
		t.Run(sig.name, func(t *testing.T) {
			t.Parallel()
			stream, _ := encode(t, sig.pcm)
			opustest.Info(t, stream)
			for name, got := range map[string][]int16{
				"opusdec": opustest.DecodeBytes(t, stream, rate),
				"Decoder": mustDecodeOwn(t, stream),
			} {
				if len(got) != len(sig.pcm) {
					t.Fatalf("%s: %d samples back for %d", name, len(got), len(sig.pcm))
				}
				for ch, who := range []string{"officer", "caller"} {
					src, dec := opustest.Channel(sig.pcm, ch), opustest.Channel(got, ch)
					// opusdec resamples from 48 kHz, which may shift by a sample.
					if lag := bestLag(src, dec, 40); lag != 0 && (name == "Decoder" || lag < -1 || lag > 1) && !strings.HasPrefix(sig.name, "tones") {
						t.Errorf("%s, %s: the decoded audio lags the source by %d samples", name, who, lag)
					}
					worst, tails, n := 1.0, 1.0, 0
					for _, w := range opustest.Envelopes(src, dec, rate) {
						if w.Level < -40 {
							continue // nothing recorded here to compare
						}
						n++
						if w.Shaped && w.Level >= -35 {
							worst = min(worst, w.Corr)
						} else if w.Shaped {
							tails = min(tails, w.Corr)
						}
						if w.Shaped && (w.Corr < 0.85 || w.Corr < 0.9 && w.Level >= -35) {
							t.Errorf("%s, %s: the window at %d ms correlates %.3f (level %.1f dBFS)", name, who, w.Start*1000/rate, w.Corr, w.Level)
						}
						if d := w.GotLevel - w.Level; d < -6 || d > 6 {
							t.Errorf("%s, %s: the window at %d ms is %.1f dB off", name, who, w.Start*1000/rate, d)
						}
					}
					if n < 10 {
						t.Fatalf("%s, %s: only %d windows of sound", name, who, n)
					}
					t.Logf("%s, %s: %d windows, worst envelope correlation %.3f (%.3f in quiet tails)", name, who, n, worst, tails)
				}
			}
			seconds := float64(len(sig.pcm)/2) / rate
			t.Logf("%d bytes for %.2f s: %.1f kbit/s", len(stream), seconds, float64(len(stream))*8/seconds/1000)
		})
	}
}

// When officer and caller speak at once, coupled stereo at 24 kbit/s gives
// the side signal few bits, and each voice leaks into the other's channel
// (libopus narrows the stereo image below 32 kbit/s). Measured with libopus
// 1.3.1 on two voices speaking throughout: 90 % and 95 % of the windows
// correlate at least 0.9, and where one speaker pauses the other is heard
// in their channel at -15 dB at worst (-18 dB at 32 kbit/s). This pins
// that down, so a change for the worse shows.
func TestDoubleTalk(t *testing.T) {
	t.Parallel()
	officer, caller := speech(t, officerSays), speech(t, callerSays)
	pcm := opustest.Stereo(officer, caller)
	stream, _ := encode(t, pcm)
	got := mustDecodeOwn(t, stream)
	n := len(pcm) / 2
	for ch, who := range []string{"officer", "caller"} {
		src, other, dec := opustest.Channel(pcm, ch), opustest.Channel(pcm, 1-ch), opustest.Channel(got, ch)
		good, all := 0, 0
		for _, w := range opustest.Envelopes(src, dec, rate) {
			if w.Level > -40 && w.Shaped {
				all++
				if w.Corr >= 0.9 {
					good++
				}
			}
		}
		if float64(good) < 0.85*float64(all) {
			t.Errorf("%s: %d of %d windows correlate at least 0.9", who, good, all)
		}
		worst := math.Inf(-1)
		for i := 0; i+320 <= n; i += 320 { // 20 ms frames where only the other speaks
			if opustest.DBFS(rmsOf(src[i:i+320])) < -50 && opustest.DBFS(rmsOf(other[i:i+320])) > -30 {
				worst = max(worst, opustest.DBFS(rmsOf(dec[i:i+320]))-opustest.DBFS(rmsOf(other[i:i+320])))
			}
		}
		if worst > -12 {
			t.Errorf("%s: the other voice is heard in this channel at %.1f dB", who, worst)
		}
		t.Logf("%s: %d of %d windows correlate at least 0.9; crosstalk at worst %.1f dB", who, good, all, worst)
	}
}

func rmsOf(p []int16) float64 {
	var s float64
	for _, v := range p {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(1, len(p))))
}

// bestLag returns the shift of got against want, within ±max samples,
// where they correlate best.
func bestLag(want, got []int16, maxLag int) int {
	best, lag := math.Inf(-1), 0
	for d := -maxLag; d <= maxLag; d++ {
		var c float64
		for i := maxLag; i+maxLag < len(want) && i+maxLag < len(got); i++ {
			c += float64(want[i]) * float64(got[i+d])
		}
		if c > best {
			best, lag = c, d
		}
	}
	return lag
}

// Paused stretches (zeros on both channels, as the recorder's gate makes
// them) decode to exact digital silence, but for one frame at each edge,
// and cost next to nothing.
func TestPausesDecodeToExactSilence(t *testing.T) {
	t.Parallel()
	officer, caller := speech(t, officerSays), speech(t, callerSays)
	talk := opustest.Stereo(officer, caller)
	// Pauses in whole 20 ms buffers from the start, as the gate makes them,
	// and one that is not, which may cost a frame more.
	type pause struct{ from, to, slack int }
	// A recording that starts paused is silent from its first sample.
	pauses := []pause{{0, ms(400), 0}, {ms(1000), ms(2500), ms(20)}, {ms(3000), ms(3300), ms(20)}, {ms(3807), ms(4413), ms(40)}}
	pcm := slices.Clone(talk[:2*ms(5000)])
	for _, p := range pauses {
		clear(pcm[2*p.from : 2*p.to])
	}
	stream, e := encode(t, pcm)
	for name, got := range map[string][]int16{
		"opusdec": opustest.DecodeBytes(t, stream, rate),
		"Decoder": mustDecodeOwn(t, stream),
	} {
		if len(got) != len(pcm) {
			t.Fatalf("%s: %d samples back for %d", name, len(got), len(pcm))
		}
		for _, p := range pauses {
			from, to := p.from+p.slack, p.to-ms(20)
			for i := 2 * from; i < 2*to; i++ {
				if got[i] != 0 {
					t.Fatalf("%s: pause %d–%d ms: sample %d at %.1f ms is %d, not zero",
						name, p.from*1000/rate, p.to*1000/rate, i%2, float64(i/2)*1000/rate, got[i])
				}
			}
		}
	}
	_, ps := opustest.MustReadPackets(t, stream)
	silent := 0
	for _, p := range ps {
		if bytes.Equal(p.Data, e.SilencePacket()) {
			silent++
		}
	}
	// 0.4 s + 1.5 s + 0.3 s + 0.6 s of pause: 140 frames, less the first of
	// each but the first.
	if silent < 136 {
		t.Errorf("%d silence packets in 2.4 s of pauses", silent)
	}
}

func TestEncoderOptions(t *testing.T) {
	t.Parallel()
	pcm := opustest.Stereo(speech(t, officerSays), speech(t, callerSays))
	sizes := map[int]int{}
	for _, bps := range []int{opus.DefaultBitrate, 32000, 48000} {
		stream, e := encode(t, pcm, opus.WithBitrate(bps))
		if e.Bitrate() != bps {
			t.Fatalf("Bitrate() = %d, want %d", e.Bitrate(), bps)
		}
		sizes[bps] = len(stream)
		kbps := float64(len(stream)) * 8 / (float64(len(pcm)/2) / rate) / 1000
		t.Logf("%d bit/s: %d bytes, %.1f kbit/s", bps, len(stream), kbps)
		if kbps > float64(bps)/1000*1.1 {
			t.Errorf("at %d bit/s the stream takes %.1f kbit/s", bps, kbps)
		}
	}
	if !(sizes[opus.DefaultBitrate] < sizes[32000] && sizes[32000] < sizes[48000]) {
		t.Errorf("sizes do not grow with the bitrate: %v", sizes)
	}
	for _, bad := range []int{0, 16000, 500000} {
		if _, err := opus.NewEncoder(&bytes.Buffer{}, opus.WithBitrate(bad)); err == nil {
			t.Errorf("an encoder at %d bit/s", bad)
		}
	}
	stream, e := encode(t, pcm[:2*ms(500)], opus.WithComments("CALLGUARD_CALL=3f2a"))
	r, err := oggopus.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Tags().Get("callguard_call"); v != "3f2a" {
		t.Errorf("comment CALLGUARD_CALL = %q", v)
	}
	if h := r.Head(); h.PreSkip != e.PreSkip() || h.Channels != 2 || h.InputRate != rate {
		t.Errorf("head %+v, pre-skip %d", h, e.PreSkip())
	}
	if _, err := e.Write([]byte{0, 0}); err != opus.ErrEncoderClosed {
		t.Errorf("Write after Close: %v", err)
	}
	if err := e.Flush(); err != opus.ErrEncoderClosed {
		t.Errorf("Flush after Close: %v", err)
	}
}

// The Decoder reads streams of other encoders too: opusenc's (hybrid,
// fullband, at 48 kHz inside) comes out as opusdec gives it at 16 kHz.
func TestDecoderReadsOpusencStreams(t *testing.T) {
	t.Parallel()
	stream := readTestdata(t)
	own := mustDecodeOwn(t, stream)
	ref := opustest.DecodeBytes(t, stream, rate)
	if len(own) != len(ref) {
		t.Fatalf("Decoder gives %d samples, opusdec %d", len(own), len(ref))
	}
	for ch := range 2 {
		for _, w := range opustest.Envelopes(opustest.Channel(ref, ch), opustest.Channel(own, ch), rate) {
			if w.Level > -40 && w.Corr < 0.9 {
				t.Errorf("channel %d, window at %d ms: correlation %.3f", ch, w.Start*1000/rate, w.Corr)
			}
		}
	}
}
