package artefact_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
)

// signal is a known stereo PCM16 signal: every sample is a hash of its
// position and channel, never zero, so silence and copies are both seen.
func signal(frames int) []byte {
	b := make([]byte, frames*artefact.BytesPerFrame)
	for i := range frames {
		for ch := range 2 {
			v := uint16((uint32(i)*2654435761+uint32(ch)*40503)>>16) | 1
			binary.LittleEndian.PutUint16(b[i*4+ch*2:], v)
		}
	}
	return b
}

type keys struct {
	id  *age.X25519Identity
	rcp []age.Recipient
}

func newKeys(t testing.TB) keys {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return keys{id: id, rcp: []age.Recipient{id.Recipient()}}
}

// record writes pcm as a recording with the artefact writer (the one the
// recorder uses) and returns the path of the .wav.age and its sums.
func record(t testing.TB, dir string, k keys, pcm []byte, chunk int) (string, artefact.Sums) {
	t.Helper()
	path := filepath.Join(dir, "c1.wav.age")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := artefact.NewWriter(f, k.rcp...)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(pcm); off += chunk {
		if _, err := w.Write(pcm[off:min(off+chunk, len(pcm))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.DataBytes() != int64(len(pcm)) {
		t.Fatalf("DataBytes %d, wrote %d", w.DataBytes(), len(pcm))
	}
	return path, w.Sums()
}

func decrypt(t testing.TB, path string, k keys) ([]byte, artefact.DecryptReport) {
	t.Helper()
	var out bytes.Buffer
	rep, err := artefact.Decrypt(path, []age.Identity{k.id}, &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), rep
}

func TestWriterAndDecryptRoundTrip(t *testing.T) {
	k := newKeys(t)
	pcm := signal(3*artefact.SampleRate + 7) // 3 s and a bit: several age chunks
	path, sums := record(t, t.TempDir(), k, pcm, 1280)
	wav, rep := decrypt(t, path, k)
	if !rep.Complete || rep.DataBytes != int64(len(pcm)) || rep.PlaintextSHA256 != sums.PlaintextSHA256 {
		t.Fatalf("report %+v, sums %+v", rep, sums)
	}
	if !bytes.Equal(wav[:artefact.WAVHeaderSize], artefact.WAVHeader(int64(len(pcm)))) || !bytes.Equal(wav[artefact.WAVHeaderSize:], pcm) {
		t.Fatal("decrypted WAV differs from what was written")
	}
	fi, _ := os.Stat(path)
	if fi.Size() != sums.EncryptedBytes {
		t.Fatalf("file %d bytes, sums say %d", fi.Size(), sums.EncryptedBytes)
	}
}

// TestRedactSilencesExactlyTheInterval decrypts before and after: inside
// the interval both channels are digital zero, everything else (the
// header included) is byte-identical, and the file is re-encrypted.
func TestRedactSilencesExactlyTheInterval(t *testing.T) {
	k, org := newKeys(t), newKeys(t)
	dir := t.TempDir()
	pcm := signal(10 * artefact.SampleRate) // 10 s
	path, sums := record(t, dir, k, pcm, 640)
	before, _ := decrypt(t, path, k)

	src, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var enc bytes.Buffer
	cuts := []artefact.Interval{{FromMS: 2500, ToMS: 4000}, {FromMS: 3900, ToMS: 4500}, {FromMS: 9990, ToMS: 60_000}}
	// Re-encrypted to the organisation's recipients, which need not be the
	// ones it was made for.
	res, err := artefact.Redact(src, []age.Identity{k.id}, org.rcp, cuts, &enc)
	if err != nil {
		t.Fatal(err)
	}
	if res.BeforePlaintextSHA256 != sums.PlaintextSHA256 || !res.SourceComplete || res.DataBytes != int64(len(pcm)) {
		t.Fatalf("result %+v", res)
	}
	if res.EncryptedBytes != int64(enc.Len()) || res.EncryptedSHA256 == sums.EncryptedSHA256 || res.PlaintextSHA256 == sums.PlaintextSHA256 {
		t.Fatalf("new sums %+v, old %+v", res.Sums, sums)
	}
	out := filepath.Join(dir, "redacted.wav.age")
	if err := os.WriteFile(out, enc.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := artefact.Decrypt(out, []age.Identity{k.id}, new(bytes.Buffer)); err == nil {
		t.Fatal("the redacted file still opens with the old key: it was not re-encrypted to the new recipients")
	}
	after, rep := decrypt(t, out, org)
	if rep.PlaintextSHA256 != res.PlaintextSHA256 || len(after) != len(before) {
		t.Fatalf("after: %d bytes (before %d), report %+v", len(after), len(before), rep)
	}
	inside := func(frame int64) bool {
		ms := frame * 1000 / artefact.SampleRate
		return ms >= 2500 && ms < 4500 || ms >= 9990
	}
	silenced := int64(0)
	for i := int64(0); i < int64(len(pcm))/4; i++ {
		off := artefact.WAVHeaderSize + i*4
		a, b := before[off:off+4], after[off:off+4]
		if inside(i) {
			if !bytes.Equal(b, []byte{0, 0, 0, 0}) {
				t.Fatalf("frame %d (%d ms) is inside the interval but holds % x", i, i/16, b)
			}
			silenced += 4
		} else if !bytes.Equal(a, b) {
			t.Fatalf("frame %d (%d ms) is outside the interval but changed: % x → % x", i, i/16, a, b)
		}
	}
	if !bytes.Equal(before[:artefact.WAVHeaderSize], after[:artefact.WAVHeaderSize]) {
		t.Fatal("the header changed")
	}
	if res.SilencedBytes != silenced {
		t.Fatalf("SilencedBytes %d, counted %d", res.SilencedBytes, silenced)
	}
}

// A recording cut short by a crash is redacted as far as it authenticates
// and comes out as a complete file.
func TestRedactInterruptedRecording(t *testing.T) {
	k := newKeys(t)
	dir := t.TempDir()
	pcm := signal(5 * artefact.SampleRate)
	path, _ := record(t, dir, k, pcm, 640)
	b, _ := os.ReadFile(path)
	cut := filepath.Join(dir, "cut.wav.age")
	os.WriteFile(cut, b[:len(b)-30_000], 0o600) // as if the last chunks never reached the disk
	_, rep := decrypt(t, cut, k)
	if rep.Complete {
		t.Fatal("the cut file decrypts as complete")
	}
	src, _ := os.Open(cut)
	defer src.Close()
	var enc bytes.Buffer
	res, err := artefact.Redact(src, []age.Identity{k.id}, k.rcp, []artefact.Interval{{FromMS: 0, ToMS: 1000}}, &enc)
	if err != nil {
		t.Fatal(err)
	}
	if res.SourceComplete || res.DataBytes <= 0 || res.DataBytes >= int64(len(pcm)) {
		t.Fatalf("result %+v", res)
	}
	out := filepath.Join(dir, "out.wav.age")
	os.WriteFile(out, enc.Bytes(), 0o600)
	wav, rep2 := decrypt(t, out, k)
	if !rep2.Complete || !bytes.Equal(wav[artefact.WAVHeaderSize+16000*4:], pcm[16000*4:rep2.DataBytes]) {
		t.Fatalf("redacted cut file: %+v", rep2)
	}
}

func TestRedactRefusesBadIntervalsAndWrongKeys(t *testing.T) {
	k := newKeys(t)
	path, _ := record(t, t.TempDir(), k, signal(1000), 640)
	for _, iv := range []artefact.Interval{{FromMS: -1, ToMS: 10}, {FromMS: 10, ToMS: 10}, {FromMS: 20, ToMS: 10}} {
		src, _ := os.Open(path)
		_, err := artefact.Redact(src, []age.Identity{k.id}, k.rcp, []artefact.Interval{iv}, new(bytes.Buffer))
		src.Close()
		if !errors.Is(err, artefact.ErrBadInterval) {
			t.Errorf("%+v: %v", iv, err)
		}
	}
	src, _ := os.Open(path)
	defer src.Close()
	other := newKeys(t)
	if _, err := artefact.Redact(src, []age.Identity{other.id}, k.rcp, []artefact.Interval{{FromMS: 0, ToMS: 10}}, new(bytes.Buffer)); err == nil {
		t.Fatal("redacted with the wrong key")
	}
}

func TestRecordRedactionKeepsUnknownFields(t *testing.T) {
	raw := []byte(`{"call_id":"c1","frames":10,"sha256_plaintext":"old","future_field":{"x":1},"redactions":[{"from_ms":1,"to_ms":2,"reason":"card","by":"auto","at":"2026-03-02T10:00:00Z","sha256_plaintext_before":"a","sha256_encrypted_before":"b"}]}`)
	r := artefact.Redaction{FromMS: 5, ToMS: 9, Reason: "health", By: "dee", At: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), SHA256PlaintextBefore: "old"}
	out, err := artefact.RecordRedaction(raw, r, artefact.RedactResult{Sums: artefact.Sums{PlaintextSHA256: "new", EncryptedSHA256: "enc", EncryptedBytes: 99}, DataBytes: 16000 * 4})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(out, &got)
	if got["future_field"] == nil || got["sha256_plaintext"] != "new" || got["frames"] != float64(16000) || got["duration_ms"] != float64(1000) {
		t.Fatalf("manifest %s", out)
	}
	m, err := artefact.ParseManifest(out)
	if err != nil || len(m.Redactions) != 2 || m.Redactions[1].By != "dee" || m.EncryptedBytes != 99 {
		t.Fatalf("parsed %+v %v", m, err)
	}
}

// BenchmarkRedact10Minutes redacts a 10-minute recording (38 MB of audio).
func BenchmarkRedact10Minutes(b *testing.B) {
	k := newKeys(b)
	path, _ := record(b, b.TempDir(), k, signal(10*60*artefact.SampleRate), 64<<10)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	for b.Loop() {
		src, _ := os.Open(path)
		if _, err := artefact.Redact(src, []age.Identity{k.id}, k.rcp, []artefact.Interval{{FromMS: 60_000, ToMS: 120_000}}, discard{}); err != nil {
			b.Fatal(err)
		}
		src.Close()
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// A manifest of version 1 (no redaction kinds) still reads and verifies
// against its recording; a version 2 manifest's dtmf redactions (made by
// the recorder, with no Before hashes) are kept, with their kind, when the
// server records a redaction of its own.
func TestManifestVersionsAndDTMFRedactions(t *testing.T) {
	k := newKeys(t)
	dir := t.TempDir()
	pcm := signal(artefact.SampleRate)
	path, sums := record(t, dir, k, pcm, 1280)
	v1 := map[string]any{
		"version": 1, "recorder": "callguard-recorder/1", "call_id": "c1", "audio_file": "c1.wav.age",
		"sample_rate": 16000, "channels": 2, "frames": artefact.SampleRate, "complete": true,
		"sha256_plaintext": sums.PlaintextSHA256, "sha256_encrypted": sums.EncryptedSHA256, "encrypted_bytes": sums.EncryptedBytes,
		"redactions": []map[string]any{{"from_ms": 1, "to_ms": 2, "reason": "card", "by": "auto", "at": "2026-03-02T10:00:00Z",
			"sha256_plaintext_before": "a", "sha256_encrypted_before": "b"}},
	}
	b, _ := json.Marshal(v1)
	mpath := filepath.Join(dir, "c1.json")
	if err := os.WriteFile(mpath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := artefact.Verify(path, mpath, []age.Identity{k.id})
	if err != nil || rep.Manifest.Version != 1 || rep.Manifest.Redactions[0].Kind != "" {
		t.Fatalf("version 1 manifest: %v %v %+v", err, rep.Problems, rep.Manifest)
	}

	v2 := []byte(`{"version":2,"call_id":"c1","redactions":[{"kind":"dtmf","from_ms":1200,"to_ms":1420,"reason":"keypad tones","by":"recorder","at":"2026-03-02T10:00:01Z"}]}`)
	out, err := artefact.RecordRedaction(v2, artefact.Redaction{Kind: artefact.RedactionKindReview, FromMS: 0, ToMS: 900, Reason: "card", By: "auto", SHA256PlaintextBefore: "p", SHA256EncryptedBefore: "e"},
		artefact.RedactResult{Sums: sums, DataBytes: int64(len(pcm))})
	if err != nil {
		t.Fatal(err)
	}
	m, err := artefact.ParseManifest(out)
	if err != nil || len(m.Redactions) != 2 || m.Redactions[0].Kind != artefact.RedactionKindDTMF || m.Redactions[0].SHA256EncryptedBefore != "" ||
		m.Redactions[1].Kind != artefact.RedactionKindReview {
		t.Fatalf("after a server redaction: %s %v", out, err)
	}
	if bytes.Contains(out, []byte(`"sha256_plaintext_before": ""`)) {
		t.Errorf("a dtmf redaction got empty Before hashes: %s", out)
	}
}
