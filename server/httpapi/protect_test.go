package httpapi_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
)

// raw makes a request and returns the status, headers and body.
func (e *env) raw(token, method, path, body string) (int, http.Header, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// recordingFor encrypts 3 s of a known signal with the artefact writer.
func recordingFor(t *testing.T, callID string, id *age.X25519Identity) (audio, manifest, pcm []byte) {
	t.Helper()
	pcm = make([]byte, 3*16000*4)
	for i := 0; i < len(pcm); i += 2 {
		binary.LittleEndian.PutUint16(pcm[i:], uint16(i*7919)|1)
	}
	var buf bytes.Buffer
	w, err := artefact.NewWriter(&buf, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(pcm)
	w.Close()
	sums := w.Sums()
	manifest, _ = json.Marshal(map[string]any{"call_id": callID, "complete": true, "sha256_encrypted": sums.EncryptedSHA256,
		"sha256_plaintext": sums.PlaintextSHA256, "recipients": []string{id.Recipient().String()}, "frames": 3 * 16000, "data_bytes": len(pcm)})
	return buf.Bytes(), manifest, pcm
}

// TestDataProtectionOverHTTP goes through the routes as the desktops and a
// dpo would: an officer flags card details and a health remark, the
// recording is uploaded, the card interval is silenced at once, the dpo
// plays and downloads (audited apart), decides, places and lifts a hold
// with a second dpo, and erases a number; agents are kept out throughout.
func TestDataProtectionOverHTTP(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	e := newEnvWith(t, []age.Identity{id})
	olive, sue, dee, dan := e.user("olive", server.RoleAgent), e.user("sue", server.RoleSupervisor), e.user("dee", server.RoleDPO), e.user("dan", server.RoleDPO)
	events := `{"events":[
		{"id":"c1-1","seq":1,"time":"2026-03-02T09:00:00Z","type":"call.answered","call_id":"c1","call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":"+441632960123","name":"A Caller"},"started":"2026-03-02T09:00:00Z","answered":"2026-03-02T09:00:00Z","recorded":true}},
		{"id":"c1-2","seq":2,"time":"2026-03-02T09:00:00Z","type":"recording.state","call_id":"c1","state":"recording"},
		{"id":"c1-3","seq":3,"time":"2026-03-02T09:00:02Z","type":"flag","call_id":"c1","reason":"card","from_ms":1000,"to_ms":2000},
		{"id":"c1-4","seq":4,"time":"2026-03-02T09:00:03Z","type":"flag","call_id":"c1","reason":"health","note":"diagnosis"}]}`
	e.call(olive, "POST", "/api/v1/events", events, 200, nil)
	audio, manifest, pcm := recordingFor(t, "c1", id)
	e.call(olive, "PUT", "/api/v1/recordings/c1/audio?offset=0", string(audio), 200, nil)
	e.call(olive, "PUT", "/api/v1/recordings/c1/manifest", string(manifest), 200, nil)

	// The card interval is silenced at once (the worker was kicked).
	var q struct {
		Items        []server.ReviewItem
		ServerHasKey bool `json:"server_has_key"`
	}
	testrig.Eventually(t, 10*time.Second, func() bool {
		e.call(dee, "GET", "/api/v1/review?state=all", "", 200, &q)
		for _, it := range q.Items {
			if it.ID == "c1-3" {
				return it.State == server.ReviewAutoRedacted
			}
		}
		return false
	}, "the card flag was not redacted")
	if !q.ServerHasKey || len(q.Items) != 2 {
		t.Fatalf("queue: %+v", q)
	}
	status, h, wav := e.raw(dee, "GET", "/api/v1/recordings/c1/play", "")
	if status != 200 || h.Get("Content-Type") != "audio/wav" || len(wav) != 44+len(pcm) {
		t.Fatalf("play: %d %v %d bytes", status, h, len(wav))
	}
	data := wav[44:]
	lo, hi := 1000*16*4, 2000*16*4
	if !bytes.Equal(data[:lo], pcm[:lo]) || !bytes.Equal(data[hi:], pcm[hi:]) || !bytes.Equal(data[lo:hi], make([]byte, hi-lo)) {
		t.Fatal("played audio: the card interval is not silence, or the rest changed")
	}
	status, h, enc := e.raw(sue, "GET", "/api/v1/recordings/c1/audio", "")
	sum := sha256.Sum256(enc)
	if status != 200 || h.Get("X-Content-SHA256") != hex.EncodeToString(sum[:]) || bytes.Equal(enc, audio) {
		t.Fatalf("download: %d, sha %s", status, h.Get("X-Content-SHA256"))
	}
	for _, path := range []string{"/api/v1/recordings/c1/play", "/api/v1/recordings/c1/audio", "/api/v1/review", "/api/v1/audit?call=c1", "/api/v1/holds"} {
		if status, _, _ := e.raw(olive, "GET", path, ""); status != 403 {
			t.Errorf("agent GET %s: %d", path, status)
		}
	}
	if status, _, _ := e.raw(olive, "POST", "/api/v1/holds", `{"call_id":"c1","reason":"complaint","owner":"me"}`); status != 403 {
		t.Errorf("agent placed a hold: %d", status)
	}

	// The officer sees outcomes, never the dpo's reason.
	e.call(dee, "POST", "/api/v1/review/c1-4/decide", `{"action":"keep","note":"SECRET-REASON complaint pending"}`, 200, nil)
	e.call(dee, "POST", "/api/v1/review/c1-3/decide", `{"action":"confirm"}`, 200, nil)
	status, _, mine := e.raw(olive, "GET", "/api/v1/flags/mine", "")
	if status != 200 || !strings.Contains(string(mine), `"outcome":"redacted"`) || !strings.Contains(string(mine), `"outcome":"kept"`) || strings.Contains(string(mine), "SECRET") {
		t.Fatalf("my flags: %d %s", status, mine)
	}

	// The audit tells play from download, and supervisors can search it.
	var audit struct{ Records []server.AuditRecord }
	e.call(sue, "GET", "/api/v1/audit?call=c1", "", 200, &audit)
	seen := map[string]string{}
	for _, r := range audit.Records {
		seen[r.Action] = r.Actor
	}
	if seen[server.AuditPlay] != "dee" || seen[server.AuditDownload] != "sue" || seen[server.AuditRedact] != "auto" || seen[server.AuditReviewDecide] != "dee" {
		t.Fatalf("audit of c1: %v", seen)
	}
	e.call(dee, "GET", "/api/v1/audit?user=sue&action=recording.", "", 200, &audit)
	if len(audit.Records) != 1 || audit.Records[0].Action != server.AuditDownload {
		t.Fatalf("sue's recording actions: %+v", audit.Records)
	}

	// Holds: two dpos to lift.
	var hold server.Hold
	e.call(dee, "POST", "/api/v1/holds", `{"call_id":"c1","reason":"complaint","owner":"complaints","review_at":"2026-04-01T00:00:00Z"}`, 201, &hold)
	e.call(dee, "POST", "/api/v1/holds", `{"call_id":"c1","reason":"gossip","owner":"x"}`, 400, nil)
	var lift struct{ Lifted bool }
	e.call(dee, "POST", fmt.Sprintf("/api/v1/holds/%d/lift", hold.ID), `{"reason":"closed"}`, 200, &lift)
	if lift.Lifted {
		t.Fatal("one dpo lifted a hold")
	}
	e.call(dee, "POST", fmt.Sprintf("/api/v1/holds/%d/lift", hold.ID), `{"reason":"closed"}`, 409, nil)
	e.call(dan, "POST", fmt.Sprintf("/api/v1/holds/%d/lift", hold.ID), `{"reason":"agreed"}`, 200, &lift)
	if !lift.Lifted {
		t.Fatal("the second dpo did not lift the hold")
	}
	var rep server.RetentionReport
	e.call(dee, "GET", "/api/v1/retention/report?days=400", "", 200, &rep)
	if rep.DueCount != 1 || rep.Due[0].CallID != "c1" {
		t.Fatalf("report %+v", rep)
	}

	// A subject-access bundle: the calls and the recordings as played.
	status, h, bundle := e.raw(dee, "GET", "/api/v1/subject-access?number=%2B44%201632%20960123&reference=SAR-6", "")
	if status != 200 || h.Get("Content-Type") != "application/zip" {
		t.Fatalf("subject access: %d %s", status, bundle)
	}
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	var bundled []server.Call
	if err := json.Unmarshal(files["calls.json"], &bundled); err != nil || len(bundled) != 1 || bundled[0].ID != "c1" || !bytes.Equal(files["recordings/c1.wav"], wav) {
		t.Fatalf("bundle: %d calls, %v; files %v", len(bundled), err, len(files))
	}
	e.call(dee, "GET", "/api/v1/audit?action=subject-access.export", "", 200, &audit)
	if len(audit.Records) != 1 || !strings.Contains(audit.Records[0].Detail, `"calls":["c1"]`) || strings.Contains(audit.Records[0].Detail, "960123") {
		t.Fatalf("subject access audit: %+v", audit.Records)
	}

	// Erasure of the caller's number: the recording goes for good.
	var er server.Erasure
	e.call(dee, "POST", "/api/v1/erasures", `{"number":"+44 1632 960123","reference":"SAR-7"}`, 200, &er)
	if er.State != server.ErasureDone || er.Erased != 1 {
		t.Fatalf("erasure %+v", er)
	}
	e.call(dee, "GET", "/api/v1/recordings/c1/play", "", 410, nil)
	e.call(sue, "GET", "/api/v1/recordings/c1/audio", "", 410, nil)
	var ts server.Tombstone
	e.call(dee, "GET", "/api/v1/tombstones/c1", "", 200, &ts)
	if ts.Cause != server.CauseErasure || ts.SHA256Recording != hex.EncodeToString(sum[:]) {
		t.Fatalf("tombstone %+v", ts)
	}
	// The desktop that still has a copy is told to drop it.
	var st struct{ Status string }
	e.call(olive, "GET", "/api/v1/recordings/c1", "", 200, &st)
	e.call(olive, "PUT", "/api/v1/recordings/c1/audio?offset=0", "x", 410, nil)
	if st.Status != "deleted" {
		t.Fatalf("status after erasure: %q", st.Status)
	}
	var cp server.AuditCheckpoint
	e.call(dee, "POST", "/api/v1/audit/checkpoint", "", 200, &cp)
	if cp.Seq == 0 || cp.Signature == "" {
		t.Fatalf("checkpoint %+v", cp)
	}
	if seq, err := e.srv.Store().VerifyAudit(t.Context()); err != nil {
		t.Fatalf("audit broken at %d: %v", seq, err)
	}
}

// Without the organisation's identity the server cannot play or redact,
// says so clearly, and still hands out the encrypted file.
func TestWithoutTheKeyPlayIs503AndDownloadWorks(t *testing.T) {
	e := newEnv(t)
	id, _ := age.GenerateX25519Identity()
	olive, dee := e.user("olive", server.RoleAgent), e.user("dee", server.RoleDPO)
	audio, manifest, _ := recordingFor(t, "c2", id)
	e.call(olive, "PUT", "/api/v1/recordings/c2/audio?offset=0", string(audio), 200, nil)
	e.call(olive, "PUT", "/api/v1/recordings/c2/manifest", string(manifest), 200, nil)
	var eb struct{ Error string }
	e.call(dee, "GET", "/api/v1/recordings/c2/play", "", 503, &eb)
	if !strings.Contains(eb.Error, "--identity") {
		t.Fatalf("503 says %q", eb.Error)
	}
	status, _, b := e.raw(dee, "GET", "/api/v1/recordings/c2/audio", "")
	if status != 200 || !bytes.Equal(b, audio) {
		t.Fatalf("download without the key: %d", status)
	}
}

// TestCheckpointOfAnEmptyAuditLogIs409: before anything was audited there
// is nothing to sign; the dpo is told so (409), not "internal error".
func TestCheckpointOfAnEmptyAuditLogIs409(t *testing.T) {
	e := newEnv(t)
	// A device made in the store, not enrolled: enrolment is audited.
	ctx := t.Context()
	u, err := e.srv.Store().CreateUser(ctx, "dee", server.RoleDPO, "", false)
	if err != nil {
		t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	if err := e.srv.Store().CreateDevice(ctx, auth.NewID(), u.ID, "pc", hash); err != nil {
		t.Fatal(err)
	}
	var eb struct{ Error string }
	e.call(tok, "POST", "/api/v1/audit/checkpoint", "", 409, &eb)
	if !strings.Contains(eb.Error, "empty") {
		t.Fatalf("409 says %q", eb.Error)
	}
	if cps, err := e.srv.Store().Checkpoints(ctx); err != nil || len(cps) != 0 {
		t.Fatalf("checkpoints: %+v %v", cps, err)
	}
}

// TestUploadsToACallBeingDeletedAre410: once a call's deletion has begun
// (a pending tombstone, before its files are removed), the desktop is told
// the recording is deleted, so it drops its copy, and its chunks and
// manifest are refused as gone rather than stored anew.
func TestUploadsToACallBeingDeletedAre410(t *testing.T) {
	// Two years pass: the device's token must outlive them.
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	pol.DeviceTokenDays = 3 * 365
	e := newEnvSet(t, func(o *central.Options) { o.Policy = pol })
	ctx := t.Context()
	olive := e.user("olive", server.RoleAgent)
	// A recording whose call's events never came: retention sweeps it.
	e.call(olive, "PUT", "/api/v1/recordings/c7/audio?offset=0", "first-chunk", 200, nil)
	e.call(olive, "PUT", "/api/v1/recordings/c8/audio?offset=0", "first-chunk", 200, nil)
	e.clk.Add(2 * 365 * 24 * time.Hour)
	cands, err := e.srv.Store().ExpiryCandidates(ctx, e.clk.Now(), 10)
	if err != nil || len(cands) != 2 {
		t.Fatalf("candidates %+v %v", cands, err)
	}
	if _, err := e.srv.Store().BeginDeletions(ctx, cands[:1], server.CauseRetention, "", "retention", nil); err != nil {
		t.Fatal(err)
	}
	gone, open := cands[0].CallID, cands[1].CallID
	var st struct{ Status string }
	e.call(olive, "GET", "/api/v1/recordings/"+gone, "", 200, &st)
	if st.Status != "deleted" {
		t.Fatalf("status of a call being deleted: %q", st.Status)
	}
	e.call(olive, "PUT", "/api/v1/recordings/"+gone+"/audio?offset=11", "second-chunk", 410, nil)
	e.call(olive, "PUT", "/api/v1/recordings/"+gone+"/manifest", fmt.Sprintf(`{"call_id":%q,"complete":true,"sha256_encrypted":%q}`, gone, strings.Repeat("0", 64)), 410, nil)
	e.call(olive, "GET", "/api/v1/recordings/"+open, "", 200, &st)
	if st.Status != "uploading" {
		t.Fatalf("status of another call: %q", st.Status)
	}
	e.call(olive, "PUT", "/api/v1/recordings/"+open+"/audio?offset=11", "second-chunk", 200, nil)
}

// TestCardDetailsAreNeitherPlayedNorDownloadedBeforeTheyAreSilenced: on a
// server without the organisation key a card flag cannot be redacted, so
// the recording is neither downloaded nor bundled for a subject access
// request; the refusal and the review item say why.
func TestCardDetailsAreNeitherPlayedNorDownloadedBeforeTheyAreSilenced(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _ := age.GenerateX25519Identity()
	olive, sue, dee := e.user("olive", server.RoleAgent), e.user("sue", server.RoleSupervisor), e.user("dee", server.RoleDPO)
	e.call(olive, "POST", "/api/v1/events", `{"events":[
		{"id":"k1-1","seq":1,"time":"2026-03-02T09:00:00Z","type":"call.answered","call_id":"k1","call":{"direction":"inbound","remote":{"number":"+441632960555"},"started":"2026-03-02T09:00:00Z","answered":"2026-03-02T09:00:00Z","recorded":true}},
		{"id":"k1-2","seq":2,"time":"2026-03-02T09:00:02Z","type":"flag","call_id":"k1","reason":"card","from_ms":1000,"to_ms":2000}]}`, 200, nil)
	audio, manifest, _ := recordingFor(t, "k1", id)
	e.call(olive, "PUT", "/api/v1/recordings/k1/audio?offset=0", string(audio), 200, nil)
	e.call(olive, "PUT", "/api/v1/recordings/k1/manifest", string(manifest), 200, nil)
	testrig.Eventually(t, 5*time.Second, func() bool {
		var it server.ReviewItem
		e.call(dee, "GET", "/api/v1/review/k1-2", "", 200, &it)
		return it.Pending == server.PendingNoKey
	}, "the card item never said it waits for the key")
	for _, who := range []string{sue, dee} {
		status, _, b := e.raw(who, "GET", "/api/v1/recordings/k1/audio", "")
		if status != 409 || bytes.Contains(b, audio[:64]) || !strings.Contains(string(b), "k1-2") || !strings.Contains(string(b), "--identity") {
			t.Fatalf("download of unredacted card details: %d %.300s", status, b)
		}
	}
	status, _, bundle := e.raw(dee, "GET", "/api/v1/subject-access?number=%2B441632960555", "")
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if status != 200 || err != nil {
		t.Fatalf("subject access: %d %v", status, err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); strings.Contains(got, "k1.wav") || !strings.Contains(got, "recordings/k1.withheld.txt") {
		t.Fatalf("bundle holds %s", got)
	}
	var audit struct{ Records []server.AuditRecord }
	e.call(dee, "GET", "/api/v1/audit?call=k1&action=recording.download", "", 200, &audit)
	if len(audit.Records) != 2 || !strings.Contains(audit.Records[0].Detail, "refused") {
		t.Fatalf("refused downloads audited as %+v", audit.Records)
	}
}

// A review state the server does not know is refused in words, not answered
// with an empty queue that looks like nothing to do.
func TestAnUnknownReviewStateIsRefused(t *testing.T) {
	e := newEnv(t)
	dee := e.user("dee", server.RoleDPO)
	for state, want := range map[string]int{"open,awaiting-approval": 200, "all": 200, "opne": 400, "open,": 400} {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/review?state="+url.QueryEscape(state), nil)
		req.Header.Set("Authorization", "Bearer "+dee)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || want == 400 && !strings.Contains(string(b), "unknown review state") {
			t.Errorf("state=%s: %d %s, want %d", state, resp.StatusCode, b, want)
		}
	}
}
