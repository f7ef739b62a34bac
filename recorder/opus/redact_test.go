package opus_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
	"github.com/callguard/callguard/recorder/opus"
)

// A recording of the encoder, redacted on the server's side with the
// silence packet its manifest carries: the cuts decode to silence, every
// other packet is as it was.
func TestRedactARecording(t *testing.T) {
	t.Parallel()
	pcm := turns(speech(t, dialogues[0][0]), speech(t, dialogues[0][1]))
	stream, e := encode(t, pcm)
	cuts := []oggopus.Interval{{FromMS: 5210, ToMS: 9890}, {FromMS: 1000, ToMS: 1500}}
	var out bytes.Buffer
	res, err := oggopus.Redact(&out, bytes.NewReader(stream), cuts, e.SilencePacket())
	if err != nil {
		t.Fatal(err)
	}
	opustest.CheckRedaction(t, stream, out.Bytes(), cuts, res, func(samples int) []byte {
		if samples != 960 {
			t.Fatalf("a packet of %d samples", samples)
		}
		return e.SilencePacket()
	})
	// The package's Decoder renders the silenced stretches as exact zeros,
	// from one frame in.
	got := mustDecodeOwn(t, out.Bytes())
	for _, s := range res.Silenced {
		from, to := ms(int(s.FromMS)+20), ms(int(s.ToMS)-20)
		if p := opustest.Peak(got[2*from : 2*to]); p != 0 {
			t.Errorf("silenced %d–%d ms: peak %d", s.FromMS, s.ToMS, p)
		}
	}
}

// The attack: the caller reads a card number in the middle of what they
// say, and the number is cut. Two recordings that differ only in the
// number are redacted alike; whatever differs between the two results
// outside the silenced stretch owes itself to the number. Some of that is
// in any recording, redacted or not (the encoder's state carries on from
// what it coded), but a redaction must not add to it. It would: the packet
// after a cut is coded as the difference from a prediction out of the
// audio before it, and played after silence it sounds back the number's
// last pitch periods, loud (measured: a burst at -2 to -8 dBFS for 100 ms,
// depending on the number 16 to 38 dB more than the original recording);
// the packet after that still adds 12 to 14 dB. Redact replaces both (afterCut); what is left is within 6 dB of
// the original's (measured: 3.3 dB at worst), and never audibly louder
// than the original.
func TestRedactionLeavesNothingOfTheCutBesideIt(t *testing.T) {
	t.Parallel()
	before, after := speech(t, dialogues[1][1]), speech(t, dialogues[2][1])
	secretA, secretB := speech(t, callerSays), speech(t, "Seven seven seven, three one three one, eight eight two, six four six four.")
	n := min(len(secretA), len(secretB))
	officer := make([]int16, len(before)+n+len(after)) // the officer listens
	// The cut starts 3 ms into the number and ends 3 ms before its end,
	// off the 20 ms frame grid, while the caller goes on speaking.
	from := int64((len(before) + 48) * 1000 / rate)
	to := int64((len(before) + n - 48) * 1000 / rate)
	cuts := []oggopus.Interval{{FromMS: from, ToMS: to}}
	record := func(secret []int16) (original, redacted []int16, res oggopus.RedactResult) {
		stream, e := encode(t, opustest.Stereo(officer, slices.Concat(before, secret[:n], after)))
		var out bytes.Buffer
		res, err := oggopus.Redact(&out, bytes.NewReader(stream), cuts, e.SilencePacket())
		if err != nil {
			t.Fatal(err)
		}
		return opustest.Channel(mustDecodeOwn(t, stream), 1), opustest.Channel(mustDecodeOwn(t, out.Bytes()), 1), res
	}
	origA, redA, res := record(secretA)
	origB, redB, _ := record(secretB)
	diff := func(a, b []int16) float64 {
		d := make([]int16, len(a))
		for k := range d {
			d[k] = a[k] - b[k]
		}
		return opustest.DBFS(max(rmsOf(d), 0.5))
	}
	s := res.Silenced[0]
	if !slices.Equal(redA[:ms(int(s.FromMS))], origA[:ms(int(s.FromMS))]) {
		t.Errorf("the audio before the silenced stretch (%d ms) changed", s.FromMS)
	}
	worst := math.Inf(-1)
	for i := ms(int(s.ToMS)); i+ms(20) <= ms(int(s.ToMS))+ms(300); i += ms(20) {
		f := func(p []int16) []int16 { return p[i : i+ms(20)] }
		excess := diff(f(redA), f(redB)) - diff(f(origA), f(origB))
		level := opustest.DBFS(max(rmsOf(f(redA)), 0.5))
		louder := level - opustest.DBFS(max(rmsOf(f(origA)), 0.5))
		worst = max(worst, excess)
		if excess > 6 {
			t.Errorf("at %d ms, after the stretch silenced at %d–%d ms, the audio depends on the number %.1f dB more than in the original", i*1000/rate, s.FromMS, s.ToMS, excess)
		}
		if louder > 3 && level > -40 { // audibly louder
			t.Errorf("at %d ms, after the stretch silenced at %d–%d ms, the audio is %.1f dB louder than in the original", i*1000/rate, s.FromMS, s.ToMS, louder)
		}
	}
	t.Logf("cut %d–%d ms, silenced %d–%d ms: after it, what depends on the number is at worst %.1f dB more than in the original", from, to, s.FromMS, s.ToMS, worst)
}

// A recording as the recorder writes it, in an age segment a second, and
// redacted by the server's artefact.Redact (age decryption of the segments,
// packet replacement, one age stream out): the cuts decode to silence with
// opusdec, every packet outside them is byte for byte as it was, and the
// plaintext is what oggopus.Redact makes of the stream alone.
func TestRedactASegmentedRecording(t *testing.T) {
	t.Parallel()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	pcm := opustest.Bytes(turns(speech(t, dialogues[0][0]), speech(t, dialogues[0][1])))
	dir := t.TempDir()
	audio := filepath.Join(dir, "c1"+artefact.OpusExt)
	f, err := os.Create(audio)
	if err != nil {
		t.Fatal(err)
	}
	aw, err := artefact.NewOggWriter(f, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	e, err := opus.NewEncoder(aw)
	if err != nil {
		t.Fatal(err)
	}
	second := 4 * rate
	for off := 0; off < len(pcm); off += second {
		if _, err := e.Write(pcm[off:min(off+second, len(pcm))]); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := aw.Cut(); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if aw.Segments() < len(pcm)/second {
		t.Fatalf("%d segments for %d s", aw.Segments(), len(pcm)/second)
	}

	src, err := os.Open(audio)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var red bytes.Buffer
	acuts := []artefact.Interval{{FromMS: 1000, ToMS: 1500}, {FromMS: 2980, ToMS: 6020}} // across segment ends
	res, err := artefact.Redact(src, []age.Identity{id}, []age.Recipient{id.Recipient()}, acuts, &red)
	if err != nil || !res.SourceComplete {
		t.Fatalf("redact: %+v %v", res, err)
	}
	redPath := filepath.Join(dir, "red"+artefact.OpusExt)
	if err := os.WriteFile(redPath, red.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var orig, got bytes.Buffer
	if rep, err := artefact.Decrypt(audio, []age.Identity{id}, &orig); err != nil || !rep.Complete || rep.Segments != aw.Segments() {
		t.Fatalf("decrypt the recording: %+v %v", rep, err)
	}
	if rep, err := artefact.Decrypt(redPath, []age.Identity{id}, &got); err != nil || !rep.Complete {
		t.Fatalf("decrypt the redacted recording: %+v %v", rep, err)
	}
	cuts := []oggopus.Interval{{FromMS: 1000, ToMS: 1500}, {FromMS: 2980, ToMS: 6020}}
	var want bytes.Buffer
	ores, err := oggopus.Redact(&want, bytes.NewReader(orig.Bytes()), cuts, e.SilencePacket())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatal("the redacted segmented recording differs from the redaction of its stream")
	}
	opustest.CheckRedaction(t, orig.Bytes(), got.Bytes(), cuts, ores, func(samples int) []byte { return e.SilencePacket() })
}
