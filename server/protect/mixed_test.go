package protect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
)

// opusRecording encrypts a real Ogg Opus stream (opusenc's 5 s of speech,
// 16 kHz stereo at 24 kbit/s, as the recorder writes it) to the
// organisation's key, with a version 3 manifest, as a desktop uploads it.
func (e *env) opusRecording(callID string) (audio, manifest, stream []byte) {
	e.t.Helper()
	stream, err := os.ReadFile(filepath.Join("..", "..", "artefact", "oggopus", "testdata", "speech.opus"))
	if err != nil {
		e.t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := artefact.NewOggWriter(&buf, e.id.Recipient())
	if err != nil {
		e.t.Fatal(err)
	}
	w.Write(stream)
	if err := w.Close(); err != nil {
		e.t.Fatal(err)
	}
	tmp := filepath.Join(e.t.TempDir(), callID+artefact.OpusExt)
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		e.t.Fatal(err)
	}
	rep, err := artefact.Decrypt(tmp, []age.Identity{e.id}, new(bytes.Buffer))
	if err != nil {
		e.t.Fatal(err)
	}
	sums := w.Sums()
	m := artefact.Manifest{Version: artefact.ManifestVersion, CallID: callID, Agent: "olive", Direction: "inbound",
		Recipients: []string{e.id.Recipient().String()}, AudioFile: callID + artefact.OpusExt,
		SampleRate: 16000, Channels: 2, Codec: artefact.CodecOpus, Bitrate: 24000, FrameMS: 20,
		Frames: rep.Frames, DurationMS: artefact.FramesToMS(rep.Frames),
		SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256, EncryptedBytes: sums.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}}
	m.Remote.Number = "+441632960123"
	mb, _ := json.Marshal(m)
	return buf.Bytes(), mb, stream
}

// TestAServerWithWAVAndOpusRecordings: a server holding recordings made
// before Opus (WAV) and after verifies, plays, redacts and expires both, and
// the redaction of the Opus one silences its interval for opusdec (below
// -60 dBFS, one 20 ms frame allowed at each edge) while every packet outside
// it stays byte for byte as it was.
func TestAServerWithWAVAndOpusRecordings(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, d.url(t), nil)
			e.ingest(call{id: "wav1", start: t0, flags: []flag{{reason: "card", from: 1000, to: 2500}}})
			e.ingest(call{id: "opus1", start: t0, flags: []flag{{reason: "card", from: 1000, to: 2500}}})
			wavAudio, wavMan, _ := e.recording("wav1", 4)
			e.upload("wav1", wavAudio, wavMan)
			opusAudio, opusMan, stream := e.opusRecording("opus1")
			e.upload("opus1", opusAudio, opusMan)
			wavBefore := e.decrypt("wav1")

			// The card flags redact both at once.
			if n, err := e.svc.Work(ctx); err != nil || n != 2 {
				t.Fatalf("Work = %d, %v", n, err)
			}
			for _, id := range []string{"wav1", "opus1"} {
				if rep, err := artefact.Verify(e.blobs.AudioPath(id), e.blobs.ManifestPath(id), []age.Identity{e.id}); err != nil {
					t.Fatalf("%s after its redaction: %v %v", id, err, rep.Problems)
				}
			}
			var wavOut, opusOut bytes.Buffer
			if _, err := e.svc.Play(ctx, "wav1", &wavOut, nil); err != nil {
				t.Fatal(err)
			}
			checkSilenced(t, wavBefore, wavOut.Bytes(), 1000, 2500)
			if _, err := e.svc.Play(ctx, "opus1", &opusOut, nil); err != nil {
				t.Fatal(err)
			}
			red := opusOut.Bytes()
			if ct, _ := artefact.MediaType(red); ct != "audio/ogg" {
				t.Fatalf("the Opus recording plays as %s", ct)
			}

			// The manifest records the stretch, keeps the codec and the
			// length.
			rec, err := e.st.Recording(ctx, "opus1")
			if err != nil {
				t.Fatal(err)
			}
			m, err := artefact.ParseManifest(rec.Manifest)
			if err != nil {
				t.Fatal(err)
			}
			var orig artefact.Manifest
			json.Unmarshal(opusMan, &orig)
			if m.Codec != artefact.CodecOpus || m.Frames != orig.Frames || m.DataBytes != 0 || len(m.Redactions) != 1 ||
				m.Redactions[0].FromMS != 1000 || m.Redactions[0].ToMS != 2500 || m.Redactions[0].SHA256PlaintextBefore != orig.SHA256Plaintext {
				t.Fatalf("manifest after the redaction: codec %q, %d frames (was %d), data %d, redactions %+v", m.Codec, m.Frames, orig.Frames, m.DataBytes, m.Redactions)
			}

			// opusdec: the interval is silence; packets outside unchanged.
			pcm := opustest.DecodeBytes(t, red, 16000)
			lo, hi := (1000+20)*16*2, (2500-20)*16*2
			if p := opustest.Peak(pcm[lo:hi]); opustest.DBFS(float64(max(p, 1))) > -60 {
				t.Fatalf("the redacted stretch peaks at %d (%.1f dBFS) in opusdec's decoding", p, opustest.DBFS(float64(p)))
			}
			if p := opustest.Peak(opustest.DecodeBytes(t, stream, 16000)[lo:hi]); p < 1000 {
				t.Fatalf("the source is quiet there too (peak %d): the test proves nothing", p)
			}
			_, before := opustest.MustReadPackets(t, stream)
			_, after := opustest.MustReadPackets(t, red)
			if len(before) != len(after) {
				t.Fatalf("%d packets after the redaction, %d before", len(after), len(before))
			}
			var changed int
			for i := range before {
				startMS, endMS := before[i].Start/48, (before[i].Start+int64(before[i].Samples))/48
				if bytes.Equal(before[i].Data, after[i].Data) {
					continue
				}
				changed++
				// Replaced: the packets over the stretch, the one before
				// (the encoder's look-ahead) and two after (oggopus.Redact).
				if endMS <= 1000-40 || startMS >= 2500+60 {
					t.Fatalf("packet %d (%d-%d ms), outside the stretch, changed", i, startMS, endMS)
				}
				if err := oggopus.CheckSilence(after[i].Data); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
			}
			if changed < 1500/20 {
				t.Fatalf("only %d packets replaced", changed)
			}

			// Retention deletes both when their day comes.
			e.clk.Set(t0.AddDate(1, 0, 0))
			if rep := e.expire(); rep.Deleted != 2 {
				t.Fatalf("expiry deleted %d calls, want both", rep.Deleted)
			}
			for _, id := range []string{"wav1", "opus1"} {
				if _, err := os.Stat(e.blobs.AudioPath(id)); !os.IsNotExist(err) {
					t.Fatalf("%s's audio is still on disk: %v", id, err)
				}
				if _, err := e.svc.Play(ctx, id, new(bytes.Buffer), nil); err == nil {
					t.Fatalf("%s still plays after expiry", id)
				}
			}
		})
	}
}
