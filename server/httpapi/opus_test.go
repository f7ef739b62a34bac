package httpapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
)

// An Opus recording plays over the API as the Ogg Opus stream it holds,
// served as audio/ogg with a .opus name, beside a WAV one served as before.
func TestOpusRecordingPlaysOverHTTP(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	e := newEnvWith(t, []age.Identity{id})
	olive, dee := e.user("olive", server.RoleAgent), e.user("dee", server.RoleDPO)
	events := `{"events":[
		{"id":"o1-1","seq":1,"time":"2026-03-02T09:00:00Z","type":"call.answered","call_id":"o1","call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":"+441632960123"},"started":"2026-03-02T09:00:00Z","answered":"2026-03-02T09:00:00Z","recorded":true}},
		{"id":"o1-2","seq":2,"time":"2026-03-02T09:00:00Z","type":"recording.state","call_id":"o1","state":"recording"}]}`
	e.call(olive, "POST", "/api/v1/events", events, 200, nil)
	stream, err := os.ReadFile(filepath.Join("..", "..", "artefact", "oggopus", "testdata", "speech.opus"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := artefact.NewOggWriter(&buf, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(stream)
	w.Close()
	sums := w.Sums()
	manifest, _ := json.Marshal(map[string]any{"version": 3, "call_id": "o1", "complete": true, "codec": "opus", "bitrate": 24000, "frame_ms": 20,
		"sha256_encrypted": sums.EncryptedSHA256, "sha256_plaintext": sums.PlaintextSHA256, "recipients": []string{id.Recipient().String()},
		"frames": 4952 * 16, "audio_file": "o1.opus.age"})
	e.call(olive, "PUT", "/api/v1/recordings/o1/audio?offset=0", buf.String(), 200, nil)
	e.call(olive, "PUT", "/api/v1/recordings/o1/manifest", string(manifest), 200, nil)

	status, h, got := e.raw(dee, "GET", "/api/v1/recordings/o1/play", "")
	if status != 200 || h.Get("Content-Type") != "audio/ogg" || h.Get("Content-Disposition") != `inline; filename="o1.opus"` || !bytes.Equal(got, stream) {
		t.Fatalf("play: %d %v, %d bytes (the stream has %d)", status, h, len(got), len(stream))
	}
}
