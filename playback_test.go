package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/recorder/opus"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/central/centraltest"
	"github.com/callguard/callguard/ui"
)

// TestTheDPOListensThroughTheSpeakers: the dpo view's player fetches an
// Opus recording the server decrypts, decodes it with libopus in memory and
// plays it on the default output (ALSA's file PCM): what comes out is,
// sample for sample, the recording decoded; the server audits the play; a
// computer without an output says so in words.
func TestTheDPOListensThroughTheSpeakers(t *testing.T) {
	alsa := testrig.NewALSA(t, "mic")
	dir := t.TempDir()
	org, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	srv, base, enrol := centraltest.StartServer(t, central.Options{DB: filepath.Join(dir, "server.db"), DataDir: filepath.Join(dir, "data"),
		Identities: []age.Identity{org}})
	olive := enrol("olive", server.RoleAgent)
	deeToken := enrol("dee", server.RoleDPO)
	dee := uplink.New(uplink.Options{BaseURL: base, Token: func() (string, error) { return deeToken, nil }, Logger: slog.New(slog.DiscardHandler)})

	started := time.Now().UTC().Add(-time.Hour).Truncate(time.Second).Format(time.RFC3339)
	ended := time.Now().UTC().Add(-time.Hour + time.Minute).Truncate(time.Second).Format(time.RFC3339)
	postJSON(t, base+"/api/v1/events", olive, strings.NewReplacer("START", started, "END", ended).Replace(`{"events":[
		{"id":"p1","seq":1,"time":"START","type":"recording.state","call_id":"p1","state":"recording"},
		{"id":"p2","seq":2,"time":"END","type":"call.ended","call_id":"p1","call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":"+441632960555"},"started":"START","ended":"END","recorded":true}}]}`))
	stream, err := os.ReadFile(filepath.Join("artefact", "oggopus", "testdata", "speech.opus"))
	if err != nil {
		t.Fatal(err)
	}
	var enc bytes.Buffer
	w, err := artefact.NewOggWriter(&enc, org.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(stream)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sums := w.Sums()
	putBody(t, base+"/api/v1/recordings/p1/audio?offset=0", olive, enc.Bytes())
	m := artefact.Manifest{Version: artefact.ManifestVersion, CallID: "p1", Agent: "olive", Direction: "inbound", Recipients: []string{org.Recipient().String()},
		SampleRate: artefact.SampleRate, Channels: 2, Codec: artefact.CodecOpus, Bitrate: 24000, FrameMS: 20, Frames: 4952 * 16,
		DurationMS: 4952, AudioFile: "p1.opus.age", SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256,
		EncryptedBytes: sums.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}}
	raw, _ := json.Marshal(m)
	putBody(t, base+"/api/v1/recordings/p1/manifest", olive, raw)

	// What the speakers should give out: the recording decoded.
	d, err := opus.NewDecoder(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()

	var p ui.Player = listener{dee}
	if err := p.Play(context.Background(), "p1"); err != nil {
		t.Fatal(err)
	}
	played, err := alsa.Played()
	if err != nil {
		t.Fatal(err)
	}
	if len(played) < len(want) || !bytes.Equal(played[:len(want)], want) {
		t.Fatalf("played %d bytes, not the %d of the decoded recording", len(played), len(want))
	}
	t.Logf("played %.2f s of Opus", float64(len(want))/float64(artefact.SampleRate*artefact.BytesPerFrame))
	recs, err := srv.Store().SearchAudit(context.Background(), server.AuditFilter{Action: server.AuditPlay, Limit: 10})
	if err != nil || len(recs) != 1 || recs[0].Target != "p1" || recs[0].Actor != "dee" {
		t.Fatalf("the play's audit: %+v %v", recs, err)
	}

	// A WAV recording (made before Opus) plays the same way.
	postJSON(t, base+"/api/v1/events", olive, strings.NewReplacer("START", started, "END", ended).Replace(`{"events":[
		{"id":"w1","seq":3,"time":"START","type":"recording.state","call_id":"w1","state":"recording"},
		{"id":"w2","seq":4,"time":"END","type":"call.ended","call_id":"w1","call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":"+441632960555"},"started":"START","ended":"END","recorded":true}}]}`))
	pcm := make([]byte, artefact.SampleRate*artefact.BytesPerFrame/2) // half a second
	for i := 0; i < len(pcm); i += 2 {
		pcm[i], pcm[i+1] = byte(i*31), byte(i*7)|1
	}
	enc.Reset()
	ww, err := artefact.NewWriter(&enc, org.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	ww.Write(pcm)
	if err := ww.Close(); err != nil {
		t.Fatal(err)
	}
	ws := ww.Sums()
	putBody(t, base+"/api/v1/recordings/w1/audio?offset=0", olive, enc.Bytes())
	raw, _ = json.Marshal(artefact.Manifest{Version: 1, CallID: "w1", Agent: "olive", SampleRate: artefact.SampleRate, Channels: 2,
		Frames: int64(len(pcm) / artefact.BytesPerFrame), DataBytes: int64(len(pcm)), SHA256Plaintext: ws.PlaintextSHA256,
		SHA256Encrypted: ws.EncryptedSHA256, EncryptedBytes: ws.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}})
	putBody(t, base+"/api/v1/recordings/w1/manifest", olive, raw)
	if err := p.Play(context.Background(), "w1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := alsa.Played(); len(got) < len(pcm) || !bytes.Equal(got[:len(pcm)], pcm) {
		t.Fatalf("the WAV played %d bytes, not its %d", len(got), len(pcm))
	}

	// A call without a recording, and a computer without an output.
	if err := p.Play(context.Background(), "nothere"); err == nil {
		t.Fatal("a call without a recording played")
	}
	testrig.NoALSADevices(t)
	if err := p.Play(context.Background(), "p1"); !errors.Is(err, ui.ErrNoSpeakers) {
		t.Fatalf("with no output device: %v", err)
	}
}

func postJSON(t *testing.T, url, token, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	doOK(t, req)
}

func putBody(t *testing.T, url, token string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest("PUT", url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	doOK(t, req)
}

func doOK(t *testing.T, req *http.Request) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s %s", req.Method, req.URL.Path, resp.Status, b)
	}
}
