package uplink_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
)

// spoolRecording writes <id>.wav.age and <id>.json into the spool as the
// recorder does (the same artefact writer), and returns the PCM.
func spoolArtefact(t *testing.T, dir, id string, rcpt age.Recipient) []byte {
	t.Helper()
	pcm := make([]byte, 2*16000*4)
	for i := 0; i < len(pcm); i += 2 {
		binary.LittleEndian.PutUint16(pcm[i:], uint16(i*31)|1)
	}
	f, err := os.Create(filepath.Join(dir, id+".wav.age"))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := artefact.NewWriter(f, rcpt)
	w.Write(pcm)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s := w.Sums()
	m := artefact.Manifest{Version: 1, CallID: id, Agent: "olive", SampleRate: 16000, Channels: 2, Frames: int64(len(pcm) / 4), DataBytes: int64(len(pcm)),
		SHA256Plaintext: s.PlaintextSHA256, SHA256Encrypted: s.EncryptedSHA256, EncryptedBytes: s.EncryptedBytes, Complete: true}
	if err := artefact.WriteManifest(filepath.Join(dir, id+".json"), &m); err != nil {
		t.Fatal(err)
	}
	return pcm
}

// TestTheDPOsClient drives the data-protection routes with the client
// the desktop's dpo window uses, against a real server: the officer's card
// flag is redacted at once and the officer sees it; the dpo plays, reviews,
// holds (lifted by a second dpo), reads the audit and erases a number; the
// desktop then deletes its own copy of a recording the server deleted.
func TestTheDPOsClient(t *testing.T) {
	ctx := context.Background()
	id, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	srv, err := central.Open(ctx, central.Options{DB: filepath.Join(dir, "cg.db"), DataDir: filepath.Join(dir, "data"), Logger: quiet(),
		Embedded: true, BcryptCost: 4, Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Shutdown(); hs.Close(); srv.Close() })
	tok, err := srv.EnrollLocal(ctx, "olive", "olive-pc")
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	client := func(name string, role server.Role) *uplink.Client {
		hash, _ := auth.HashPassword("password-1234", 4)
		if _, err := srv.Store().CreateUser(ctx, name, role, hash, false); err != nil {
			t.Fatal(err)
		}
		enr, err := uplink.Enroll(ctx, hs.URL, name, "password-1234", name+"-pc")
		if err != nil {
			t.Fatal(err)
		}
		tokens[name] = enr.Token
		return uplink.New(uplink.Options{BaseURL: hs.URL, Token: static(enr.Token), Logger: quiet()})
	}
	// The routes the desktop's client has no method for (the web
	// workspace's), asked directly.
	fetch := func(method, path, token, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	dee, dan := client("dee", server.RoleDPO), client("dan", server.RoleDPO)
	client("sue", server.RoleSupervisor) // reads the audit below
	spool := t.TempDir()
	olive := uplink.New(uplink.Options{BaseURL: hs.URL, Token: static(tok), Logger: quiet()})

	// The officer's events: a call with a card flag, and a second call of
	// the same number whose recording is still on the desktop.
	post := func(body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", hs.URL+"/api/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("events: %d", resp.StatusCode)
		}
	}
	base := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	at := func(min int) string { return base.Add(time.Duration(min) * time.Minute).Format(time.RFC3339) }
	post(strings.NewReplacer("T65", at(65), "T60", at(60), "T5", at(5), "T1", at(1), "T0", at(0)).Replace(`{"events":[
		{"id":"d1","seq":1,"time":"T0","type":"call.ended","call_id":"c1","call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":"+441632960555"},"started":"T0","ended":"T5","recorded":true}},
		{"id":"d2","seq":2,"time":"T1","type":"flag","call_id":"c1","reason":"card","from_ms":500,"to_ms":1500},
		{"id":"d3","seq":3,"time":"T60","type":"call.ended","call_id":"c2","call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":"+441632960555"},"started":"T60","ended":"T65","recorded":true}}]}`))
	pcm := spoolArtefact(t, spool, "c1", id.Recipient())
	runClient(t, uplink.Options{BaseURL: hs.URL, Token: static(tok), SpoolDir: spool, PollEvery: 50 * time.Millisecond})
	waitFor(t, 10*time.Second, "c1 uploaded", func() bool {
		_, err := os.Stat(filepath.Join(spool, "c1.json"))
		return errors.Is(err, os.ErrNotExist)
	})

	var q server.ReviewQueue
	waitFor(t, 10*time.Second, "the card flag redacted", func() bool {
		q, err = dee.Review(ctx, "all")
		return err == nil && len(q.Items) == 1 && q.Items[0].State == "auto-redacted"
	})
	if !q.ServerHasKey || q.Items[0].CallID != "c1" || q.Items[0].Remote != "+441632960555" {
		t.Fatalf("queue %+v", q)
	}
	status, wav := fetch("GET", "/api/v1/recordings/c1/play", tokens["dee"], "")
	if status != http.StatusOK {
		t.Fatalf("play: %d %s", status, wav)
	}
	got := wav[44:]
	lo, hi := 500*64, 1500*64
	if !bytes.Equal(got[:lo], pcm[:lo]) || !bytes.Equal(got[hi:], pcm[hi:]) || !bytes.Equal(got[lo:hi], make([]byte, hi-lo)) {
		t.Fatal("played audio is not the recording with the card interval silenced")
	}
	if it, err := dee.Decide(ctx, q.Items[0].ID, server.Decision{Action: "confirm"}); err != nil || it.State != "done" {
		t.Fatalf("confirm: %+v %v", it, err)
	}
	mine, err := olive.MyFlags(ctx)
	if err != nil || len(mine) != 1 || mine[0].Outcome != "redacted" || mine[0].CallID != "c1" {
		t.Fatalf("my flags: %+v %v", mine, err)
	}
	if _, err := olive.Review(ctx, ""); !errors.Is(err, uplink.ErrForbidden) {
		t.Fatalf("an agent read the review queue: %v", err)
	}
	if status, _ := fetch("GET", "/api/v1/audit?call=c1", tok, ""); status != http.StatusForbidden {
		t.Fatalf("an agent read the audit: %d", status)
	}
	if _, err := olive.PlaceHold(ctx, server.Hold{CallID: "c1", Reason: "complaint", Owner: "me"}); !errors.Is(err, uplink.ErrForbidden) {
		t.Fatalf("an agent placed a hold: %v", err)
	}

	// Holds, found by number and date.
	q2 := url.Values{"number": {"960555"}, "from": {base.Add(-time.Minute).Format(time.RFC3339)}, "to": {base.Add(2 * time.Hour).Format(time.RFC3339)}}
	status, b := fetch("GET", "/api/v1/calls?"+q2.Encode(), tokens["dee"], "")
	var found struct{ Calls []struct{ ID string } }
	if json.Unmarshal(b, &found); status != http.StatusOK || len(found.Calls) != 2 {
		t.Fatalf("search: %d %s", status, b)
	}
	review := base.AddDate(0, 1, 0)
	h, err := dee.PlaceHold(ctx, server.Hold{CallID: "c1", Reason: "complaint", Owner: "complaints team", ReviewAt: &review})
	if err != nil || h.ID == 0 || h.Calls != 1 {
		t.Fatalf("place: %+v %v", h, err)
	}
	if _, lifted, err := dee.LiftHold(ctx, h.ID, "closed"); err != nil || lifted {
		t.Fatalf("first lift: %v %v", lifted, err)
	}
	if _, _, err := dee.LiftHold(ctx, h.ID, "closed"); !errors.Is(err, uplink.ErrConflict) {
		t.Fatalf("same dpo twice: %v", err)
	}
	if _, lifted, err := dan.LiftHold(ctx, h.ID, "agreed"); err != nil || !lifted {
		t.Fatalf("second dpo: %v %v", lifted, err)
	}
	holds, twoPerson, err := dee.Holds(ctx, true)
	if err != nil || len(holds) != 1 || holds[0].Lifted == nil || !twoPerson {
		t.Fatalf("holds: %+v %v %v", holds, twoPerson, err)
	}
	if _, err := dee.RetentionReport(ctx, 7); err != nil {
		t.Fatal(err)
	}
	status, b = fetch("GET", "/api/v1/audit?call=c1&action=recording.", tokens["sue"], "")
	var audit struct {
		Records []struct{ Action, Actor string }
	}
	json.Unmarshal(b, &audit)
	recs := audit.Records
	if status != http.StatusOK || len(recs) < 2 || recs[len(recs)-1].Action != "recording.play" || recs[len(recs)-1].Actor != "dee" {
		t.Fatalf("audit: %d %s", status, b)
	}

	status, bundle := fetch("GET", "/api/v1/subject-access?"+url.Values{"number": {"+441632960555"}, "reference": {"SAR-9"}}.Encode(), tokens["dee"], "")
	if status != http.StatusOK {
		t.Fatalf("subject access: %d %s", status, bundle)
	}
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	if !names["calls.json"] || !names["recordings/c1.wav"] || len(names) != 3 {
		t.Fatalf("bundle holds %v", names)
	}

	// Erasure of the number; the desktop's unsent copy of c2 goes too.
	status, b = fetch("POST", "/api/v1/erasures", tokens["dee"], `{"number":"+44 1632 960555","reference":"SAR-9"}`)
	var e struct {
		State  string
		Erased int
	}
	if json.Unmarshal(b, &e); status != http.StatusOK || e.State != "done" || e.Erased != 2 {
		t.Fatalf("erasure: %d %s", status, b)
	}
	if status, _ := fetch("GET", "/api/v1/recordings/c1/play", tokens["dee"], ""); status != http.StatusGone {
		t.Fatalf("play after erasure: %d", status)
	}
	spoolArtefact(t, spool, "c2", id.Recipient())
	// The audio goes first, then the manifest: wait for both.
	waitFor(t, 10*time.Second, "the desktop deletes the copy (audio and manifest) the server refuses", func() bool {
		_, err := os.Stat(filepath.Join(spool, "c2.wav.age"))
		_, err2 := os.Stat(filepath.Join(spool, "c2.json"))
		return errors.Is(err, os.ErrNotExist) && errors.Is(err2, os.ErrNotExist)
	})
	req, _ := http.NewRequest("GET", hs.URL+"/api/v1/recordings/c2", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct{ Status string }
	json.NewDecoder(resp.Body).Decode(&st)
	if st.Status != "deleted" {
		t.Fatalf("c2 on the server: %+v", st)
	}
}
