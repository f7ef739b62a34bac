package web_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
)

// desktop is an agent's enrolled desktop that sends its events over the
// real API, as app/uplink does.
type desktop struct {
	t     testing.TB
	r     *rig
	agent string
	token string
	seq   uint64
}

// desktop creates the agent account and enrols a device for it over HTTP.
func (r *rig) desktop(agent string) *desktop {
	r.t.Helper()
	r.user(agent, server.RoleAgent)
	return &desktop{t: r.t, r: r, agent: agent, token: r.enrol(agent)}
}

// enrol enrols a device for name (password "password-<name>") and returns
// its token.
func (r *rig) enrol(name string) string {
	r.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": name, "password": "password-" + name, "device_name": name + "-pc"})
	resp, err := http.Post(r.base+"/api/v1/enroll", "application/json", bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var e server.Enrolment
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Token == "" {
		r.t.Fatalf("enrol %s: %s %v", name, resp.Status, err)
	}
	return e.Token
}

// api sends a request to the JSON API with the desktop's token.
func (d *desktop) api(method, path string, body any) (*http.Response, []byte) {
	d.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.r.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// send posts events, numbering them.
func (d *desktop) send(evs ...server.Event) {
	d.t.Helper()
	for i := range evs {
		d.seq++
		evs[i].Seq = d.seq
		evs[i].Agent = d.agent
		if evs[i].ID == "" {
			evs[i].ID = fmt.Sprintf("%032x", uint64(time.Now().UnixNano())+d.seq)
		}
	}
	resp, body := d.api("POST", "/api/v1/events", map[string]any{"events": evs})
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("events: %s %s", resp.Status, body)
	}
}

// callSpec is a call a desktop sends.
type callSpec struct {
	id, remote string
	start      time.Time
	outbound   bool
	flag       string // a flag reason, or none
	// pause: paused for payment from 30 s to 90 s.
	pause bool
	// keypad: keypad tones silenced in the recording at 15.2–16.1 s of it,
	// reported at 22 s of the call.
	keypad bool
}

// call sends a whole call: ringing, answered at 5 s, recording, the pause,
// the notice, the flag, ended at 120 s.
func (d *desktop) call(c callSpec) {
	d.t.Helper()
	at := func(s int) time.Time { return c.start.Add(time.Duration(s) * time.Second) }
	dir := "inbound"
	if c.outbound {
		dir = "outbound"
	}
	ec := func(answered, ended *time.Time) *server.EventCall {
		return &server.EventCall{Direction: dir, Local: server.Party{Number: "2001"}, Remote: server.Party{Number: c.remote},
			Started: c.start, Answered: answered, Ended: ended, Recorded: answered != nil}
	}
	a, e := at(5), at(120)
	evs := []server.Event{
		{Type: server.EventCallRinging, CallID: c.id, Call: ec(nil, nil), Time: at(0)},
		{Type: server.EventCallAnswered, CallID: c.id, Call: ec(&a, nil), Time: at(5)},
		{Type: server.EventNotice, CallID: c.id, Outcome: "announced", Time: at(6)},
		{Type: server.EventRecordingState, CallID: c.id, State: "recording", Time: at(6)},
	}
	if c.pause {
		evs = append(evs,
			server.Event{Type: server.EventRecordingState, CallID: c.id, State: "paused", Reason: "payment", Time: at(30)},
			server.Event{Type: server.EventRecordingState, CallID: c.id, State: "recording", Time: at(90)})
	}
	if c.keypad {
		from, to := int64(15200), int64(16100)
		evs = append(evs, server.Event{Type: server.EventKeypadMasked, CallID: c.id, FromMS: &from, ToMS: &to, Time: at(22)})
	}
	if c.flag != "" {
		evs = append(evs, server.Event{Type: server.EventFlag, CallID: c.id, Reason: c.flag, Note: "test", Time: at(100)})
	}
	evs = append(evs, server.Event{Type: server.EventCallEnded, CallID: c.id, Call: ec(&a, &e), Time: at(120)})
	d.send(evs...)
}

// upload sends seconds of a known signal as the call's recording, as the
// desktop's uploader does (encrypted to the organisation's key), and
// returns the WAV the server should play.
func (d *desktop) upload(callID string, seconds int) []byte {
	d.t.Helper()
	pcm := make([]byte, seconds*artefact.SampleRate*artefact.BytesPerFrame)
	for i := 0; i < len(pcm); i += 2 {
		binary.LittleEndian.PutUint16(pcm[i:], uint16(i*7919)|1)
	}
	var buf bytes.Buffer
	w, err := artefact.NewWriter(&buf, d.r.id.Recipient())
	if err != nil {
		d.t.Fatal(err)
	}
	w.Write(pcm)
	if err := w.Close(); err != nil {
		d.t.Fatal(err)
	}
	sums := w.Sums()
	m := artefact.Manifest{Version: 1, CallID: callID, Agent: d.agent, Direction: "inbound", Recipients: []string{d.r.id.Recipient().String()},
		SampleRate: artefact.SampleRate, Channels: 2, Frames: int64(len(pcm) / artefact.BytesPerFrame), DataBytes: int64(len(pcm)),
		DurationMS: int64(seconds * 1000), SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256,
		EncryptedBytes: sums.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}}
	d.put(callID, buf.Bytes(), m)
	return append(artefact.WAVHeader(int64(len(pcm))), pcm...)
}

// uploadOpus sends a recording in Opus, as the recorder writes it since
// issue 18 (opusenc's 4.95 s of speech, 16 kHz stereo at 24 kbit/s), and
// returns the Ogg Opus stream the server should play.
func (d *desktop) uploadOpus(callID string) []byte {
	d.t.Helper()
	stream, err := os.ReadFile(filepath.Join("..", "..", "artefact", "oggopus", "testdata", "speech.opus"))
	if err != nil {
		d.t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := artefact.NewOggWriter(&buf, d.r.id.Recipient())
	if err != nil {
		d.t.Fatal(err)
	}
	w.Write(stream)
	if err := w.Close(); err != nil {
		d.t.Fatal(err)
	}
	sums := w.Sums()
	m := artefact.Manifest{Version: artefact.ManifestVersion, CallID: callID, Agent: d.agent, Direction: "inbound", Recipients: []string{d.r.id.Recipient().String()},
		SampleRate: artefact.SampleRate, Channels: 2, Codec: artefact.CodecOpus, Bitrate: 24000, FrameMS: 20, Frames: 4952 * 16,
		DurationMS: 4952, SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256,
		EncryptedBytes: sums.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}}
	d.put(callID, buf.Bytes(), m)
	return stream
}

// put uploads an encrypted recording and its manifest as the uploader does.
func (d *desktop) put(callID string, audio []byte, m artefact.Manifest) {
	d.t.Helper()
	req, _ := http.NewRequest("PUT", d.r.base+"/api/v1/recordings/"+callID+"/audio?offset=0", bytes.NewReader(audio))
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("upload %s: %s", callID, resp.Status)
	}
	if resp, body := d.api("PUT", "/api/v1/recordings/"+callID+"/manifest", m); resp.StatusCode != http.StatusOK {
		d.t.Fatalf("manifest %s: %s %s", callID, resp.Status, body)
	}
}
