package uplink_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
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
	client := func(name string, role server.Role) *uplink.Client {
		hash, _ := auth.HashPassword("password-1234", 4)
		if _, err := srv.Store().CreateUser(ctx, name, role, hash, false); err != nil {
			t.Fatal(err)
		}
		enr, err := uplink.Enroll(ctx, hs.URL, name, "password-1234", name+"-pc")
		if err != nil {
			t.Fatal(err)
		}
		return uplink.New(uplink.Options{BaseURL: hs.URL, Token: static(enr.Token), Logger: quiet()})
	}
	dee, dan, sue := client("dee", server.RoleDPO), client("dan", server.RoleDPO), client("sue", server.RoleSupervisor)
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

	var q uplink.ReviewQueue
	waitFor(t, 10*time.Second, "the card flag redacted", func() bool {
		q, err = dee.Review(ctx, "all")
		return err == nil && len(q.Items) == 1 && q.Items[0].State == "auto-redacted"
	})
	if !q.ServerHasKey || q.Items[0].CallID != "c1" || q.Items[0].Remote != "+441632960555" {
		t.Fatalf("queue %+v", q)
	}
	var wav bytes.Buffer
	if err := dee.Play(ctx, "c1", &wav); err != nil {
		t.Fatal(err)
	}
	got := wav.Bytes()[44:]
	lo, hi := 500*64, 1500*64
	if !bytes.Equal(got[:lo], pcm[:lo]) || !bytes.Equal(got[hi:], pcm[hi:]) || !bytes.Equal(got[lo:hi], make([]byte, hi-lo)) {
		t.Fatal("played audio is not the recording with the card interval silenced")
	}
	if it, err := dee.Decide(ctx, q.Items[0].ID, uplink.Decision{Action: "confirm"}); err != nil || it.State != "done" {
		t.Fatalf("confirm: %+v %v", it, err)
	}
	mine, err := olive.MyFlags(ctx)
	if err != nil || len(mine) != 1 || mine[0].Outcome != "redacted" || mine[0].CallID != "c1" {
		t.Fatalf("my flags: %+v %v", mine, err)
	}
	if _, err := olive.Review(ctx, ""); !errors.Is(err, uplink.ErrForbidden) {
		t.Fatalf("an agent read the review queue: %v", err)
	}
	if _, err := olive.AuditSearch(ctx, uplink.AuditQuery{Call: "c1"}); !errors.Is(err, uplink.ErrForbidden) {
		t.Fatalf("an agent read the audit: %v", err)
	}
	if _, err := olive.PlaceHold(ctx, uplink.Hold{CallID: "c1", Reason: "complaint", Owner: "me"}); !errors.Is(err, uplink.ErrForbidden) {
		t.Fatalf("an agent placed a hold: %v", err)
	}

	// Holds, found by number and date.
	calls, err := dee.SearchCalls(ctx, uplink.CallQuery{Number: "960555", From: base.Add(-time.Minute), To: base.Add(2 * time.Hour)})
	if err != nil || len(calls) != 2 {
		t.Fatalf("search: %+v %v", calls, err)
	}
	review := base.AddDate(0, 1, 0)
	h, err := dee.PlaceHold(ctx, uplink.Hold{CallID: "c1", Reason: "complaint", Owner: "complaints team", ReviewAt: &review})
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
	recs, err := sue.AuditSearch(ctx, uplink.AuditQuery{Call: "c1", Action: "recording."})
	if err != nil || len(recs) < 2 || recs[len(recs)-1].Action != "recording.play" || recs[len(recs)-1].Actor != "dee" {
		t.Fatalf("audit: %+v %v", recs, err)
	}

	var bundle bytes.Buffer
	if err := dee.SubjectAccess(ctx, "+441632960555", "SAR-9", &bundle); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(bundle.Bytes()), int64(bundle.Len()))
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
	e, err := dee.RequestErasure(ctx, "+44 1632 960555", "SAR-9")
	if err != nil || e.State != "done" || e.Erased != 2 {
		t.Fatalf("erasure: %+v %v", e, err)
	}
	if err := dee.Play(ctx, "c1", &wav); !errors.Is(err, uplink.ErrGone) {
		t.Fatalf("play after erasure: %v", err)
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
