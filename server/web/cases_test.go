package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
)

// sarStart is the tests' "now": Tuesday 10 March 2026, 09:00 in London.
var sarStart = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// sarRig is a server with the organisation's key and, for the subject
// 07700 900123, three recorded calls in February (one with a card-payment
// pause), one in January and one of another number.
type sarRig struct {
	*rig
	id    *age.X25519Identity
	agent server.Principal
	calls []string // the server's ids of the February calls, oldest first
}

func newSARRig(t testing.TB, db string) *sarRig {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: sarStart}
	r := &sarRig{rig: newRig(t, db, clk, func(o *central.Options) { o.Identities = []age.Identity{id} }), id: id}
	r.user("dora", server.RoleDPO)
	r.user("dan", server.RoleDPO)
	r.agent = r.device("olive", server.RoleAgent)
	feb := func(day, hour int) time.Time { return time.Date(2026, 2, day, hour, 0, 0, 0, time.UTC) }
	for i, c := range []struct {
		id, remote string
		start      time.Time
		pause      bool
	}{
		{"feb-1", "+447700900123", feb(2, 10), true},
		{"feb-2", "+44 (0)7700 900123", feb(15, 14), false}, // as a phone system may write it
		{"feb-3", "+447700900123", feb(27, 16), false},
		{"jan-1", "+447700900123", time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC), false},
		{"other", "+441632960555", feb(3, 11), false},
	} {
		r.ingest(c.id, c.remote, c.start, c.pause)
		r.upload(c.id, i)
		if strings.HasPrefix(c.id, "feb-") {
			call, err := r.srv.Store().SearchCalls(context.Background(), server.CallFilter{From: c.start, To: c.start.Add(time.Second)})
			if err != nil || len(call) != 1 {
				t.Fatalf("call %s: %v, %v", c.id, call, err)
			}
			r.calls = append(r.calls, call[0].ID)
		}
	}
	return r
}

// device creates an account with role and one device, as the store
// authenticates it.
func (r *sarRig) device(name string, role server.Role) server.Principal {
	r.t.Helper()
	ctx := context.Background()
	st := r.srv.Store()
	u, err := st.CreateUser(ctx, name, role, "", false)
	if err != nil {
		r.t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	if err := st.CreateDevice(ctx, auth.NewID(), u.ID, name+"-pc", hash); err != nil {
		r.t.Fatal(err)
	}
	p, err := st.Authenticate(ctx, auth.HashToken(tok))
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

var sarSeq uint64

// ingest stores the events the desktop's core sends for a 60 s call,
// with a card-payment pause from 10 s to 25 s when pause.
func (r *sarRig) ingest(id, remote string, start time.Time, pause bool) {
	r.t.Helper()
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	a, end := at(0), at(60)
	ec := func(ended *time.Time) *server.EventCall {
		return &server.EventCall{Direction: "inbound", Local: server.Party{Number: "2001"}, Remote: server.Party{Number: remote},
			Started: start, Answered: &a, Ended: ended, Recorded: true}
	}
	evs := []server.Event{
		{Type: server.EventCallAnswered, Call: ec(nil), Time: at(0)},
		{Type: server.EventRecordingState, State: "recording", Time: at(0)},
	}
	if pause {
		evs = append(evs, server.Event{Type: server.EventRecordingState, State: "paused", Reason: "payment", Time: at(10)},
			server.Event{Type: server.EventRecordingState, State: "recording", Time: at(25)})
	}
	evs = append(evs, server.Event{Type: server.EventCallEnded, Call: ec(&end), Time: end})
	for i := range evs {
		sarSeq++
		evs[i].ID, evs[i].Seq, evs[i].CallID, evs[i].Agent = fmt.Sprintf("%s-e%d", id, i), sarSeq, id, r.agent.Username
	}
	r.clock.mu.Lock()
	now := r.clock.t
	r.clock.t = start
	r.clock.mu.Unlock()
	defer func() { r.clock.mu.Lock(); r.clock.t = now; r.clock.mu.Unlock() }()
	if _, err := r.srv.Store().Ingest(context.Background(), r.agent, evs); err != nil {
		r.t.Fatal(err)
	}
}

// upload stores 2 s of a known signal as the call's recording, encrypted to
// the organisation's key by the recorder's writer.
func (r *sarRig) upload(id string, salt int) {
	r.t.Helper()
	ctx := context.Background()
	pcm := make([]byte, 2*artefact.SampleRate*artefact.BytesPerFrame)
	for i := 0; i < len(pcm)/2; i++ {
		binary.LittleEndian.PutUint16(pcm[i*2:], uint16(uint32(i+salt*977)*2654435761>>16)|1)
	}
	var buf bytes.Buffer
	w, err := artefact.NewWriter(&buf, r.id.Recipient())
	if err != nil {
		r.t.Fatal(err)
	}
	w.Write(pcm)
	if err := w.Close(); err != nil {
		r.t.Fatal(err)
	}
	sums := w.Sums()
	m := artefact.Manifest{Version: 1, CallID: id, Agent: r.agent.Username, Direction: "inbound", Recipients: []string{r.id.Recipient().String()},
		SampleRate: 16000, Channels: 2, Frames: int64(len(pcm) / 4), DataBytes: int64(len(pcm)), DurationMS: 2000,
		SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256, EncryptedBytes: sums.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}}
	manifest, _ := json.Marshal(m)
	rec, err := r.srv.Store().ClaimRecording(ctx, r.agent, id)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.srv.Blobs().Append(rec.CallID, 0, bytes.NewReader(buf.Bytes())); err != nil {
		r.t.Fatal(err)
	}
	size, err := r.srv.Blobs().Finish(rec.CallID, sums.EncryptedSHA256, manifest)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.srv.Store().StoreRecording(ctx, rec.CallID, size, sums.EncryptedSHA256, manifest); err != nil {
		r.t.Fatal(err)
	}
}

// download GETs path as the signed-in browser and returns the body's bytes
// as sent (do reads a page as text).
func (b *browser) download(path string) (*http.Response, []byte) {
	b.t.Helper()
	resp, err := b.c.Get(b.r.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	return resp, body
}

var sumLine = regexp.MustCompile(`^([0-9a-f]{64})  ([A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?)$`)

// checkBundle opens a bundle, checks every file against SHA256SUMS (and
// that it names them all) and returns the index's rows without its header.
func checkBundle(t *testing.T, b []byte) (files map[string][]byte, rows [][]string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the bundle is not a zip (%d bytes): %v", len(b), err)
	}
	files = map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(files["SHA256SUMS"])), "\n") {
		m := sumLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("SHA256SUMS line %q is not sha256sum's format with a safe name", line)
		}
		sum := sha256.Sum256(files[m[2]])
		if _, ok := files[m[2]]; !ok || hex.EncodeToString(sum[:]) != m[1] {
			t.Errorf("%s does not match SHA256SUMS", m[2])
		}
		listed[m[2]] = true
	}
	for name := range files {
		if name != "SHA256SUMS" && !listed[name] {
			t.Errorf("%s is not in SHA256SUMS", name)
		}
	}
	all, err := csv.NewReader(bytes.NewReader(files["index.csv"])).ReadAll()
	if err != nil || len(all) == 0 {
		t.Fatalf("index.csv: %v", err)
	}
	return files, all[1:]
}

// TestSubjectAccessPagesOverHTTP: a dpo opens a case (bad input first,
// refused in words), sees the calls it finds, extends it (refusals
// first), downloads the bundle, and moves it on; a stale form is refused.
// On SQLite and PostgreSQL.
func TestSubjectAccessPagesOverHTTP(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			r := newSARRig(t, open())
			b := r.browser()
			b.signIn("dora")
			resp, body := b.do("GET", "/cases", nil, nil)
			if resp.StatusCode != 200 || !strings.Contains(body, "No subject-access requests yet") {
				t.Fatalf("GET /cases: %s\n%s", resp.Status, body)
			}
			bad := url.Values{"csrf": {b.csrf}, "requester_name": {"Ann Caller"}, "requester_contact": {"12 High Street"},
				"identity_method": {"passport seen"}, "identity_checked_by": {"dora"}, "received": {"2026-03-11"},
				"numbers": {"07700 900123\n0770 ABC"}, "from": {"2026-02-28"}, "to": {"2026-02-01"}}
			resp, body = b.do("POST", "/cases", bad, nil)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("bad case: %s", resp.Status)
			}
			for _, want := range []string{"in the future", "reversed", "is not a phone number", `value="Ann Caller"`} {
				if !strings.Contains(body, want) {
					t.Errorf("the refused form lacks %q", want)
				}
			}
			if strings.Contains(body, "invalid input") || strings.Contains(body, "goroutine") {
				t.Errorf("the refused form shows the program's words:\n%s", body)
			}
			good := url.Values{"csrf": {b.csrf}, "requester_name": {"Ann Caller"}, "requester_contact": {"12 High Street"},
				"identity_method": {"passport seen"}, "identity_checked_by": {"dora"}, "received": {"2026-03-10"},
				"numbers": {"07700 900123"}, "from": {"2026-02-01"}, "to": {"2026-02-28"}, "reference": {"SAR-7"}}
			resp, _ = b.do("POST", "/cases", good, nil)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/cases/\d+$`).MatchString(loc) {
				t.Fatalf("open: %s → %q", resp.Status, loc)
			}
			resp, body = b.do("GET", loc, nil, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("case page: %s", resp.Status)
			}
			for _, want := range []string{"due in 31 days", "Fri 10 April 2026", "2 Feb 2026 10:00:00", "27 Feb 2026 16:00:00", "Card payment", "Download the bundle"} {
				if !strings.Contains(body, want) {
					t.Errorf("the case page lacks %q", want)
				}
			}
			if strings.Contains(body, "20 Jan 2026") || strings.Count(body, `<tr><td data-label="Started">`) != 3 {
				t.Errorf("the case page shows other calls than the three of February")
			}
			version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(body)[1]
			for _, x := range []struct{ deadline, reason, want string }{
				{"2026-03-01", "complex", "is in the past"},
				{"2026-05-10", "", "needs a reason"},
				{"2026-07-10", "complex", "more than two further months"},
				{"10/05/2026", "complex", "is not a date"},
			} {
				resp, body = b.do("POST", loc+"/extend", url.Values{"csrf": {b.csrf}, "version": {version}, "deadline": {x.deadline}, "reason": {x.reason}}, nil)
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, x.want) {
					t.Errorf("extend to %s (%q): %s, want 400 saying %q", x.deadline, x.reason, resp.Status, x.want)
				}
			}
			resp, _ = b.do("POST", loc+"/extend", url.Values{"csrf": {b.csrf}, "version": {version}, "deadline": {"2026-05-11"}, "reason": {"complex: two numbers"}}, nil)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("extend: %s", resp.Status)
			}
			// The same form again (another dpo's tab): refused, not applied twice.
			resp, body = b.do("POST", loc+"/status", url.Values{"csrf": {b.csrf}, "version": {version}, "status": {"sent"}}, nil)
			if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "changed by someone else") {
				t.Errorf("a stale form: %s", resp.Status)
			}
			resp, _ = b.do("POST", loc+"/extend", url.Values{"version": {version}, "deadline": {"2026-05-12"}, "reason": {"x"}}, nil)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("extend without the CSRF token: %s", resp.Status)
			}

			resp, zipped := b.download(loc + "/bundle")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
				!regexp.MustCompile(`^attachment; filename="subject-access-\d+\.zip"$`).MatchString(resp.Header.Get("Content-Disposition")) {
				t.Fatalf("bundle: %s %v", resp.Status, resp.Header)
			}
			files, rows := checkBundle(t, zipped)
			if len(rows) != 3 || rows[0][2] != "2026-02-02 10:00:00" || rows[0][6] != "10:00:10–10:00:25 (15 s) paused: Card payment" ||
				rows[2][2] != "2026-02-27 16:00:00" || rows[1][5] != "Officer 1" {
				t.Errorf("index rows %q", rows)
			}
			for i, row := range rows {
				if row[8] != r.calls[i] || len(files[row[1]]) < 44+2*16000*4 || row[7] != "included" {
					t.Errorf("row %d (%v): not call %s's recording", i, row, r.calls[i])
				}
			}
			if got := len(r.audit(server.AuditSARRecording)); got != 3 {
				t.Errorf("%d recordings audited into the bundle, want 3", got)
			}

			_, body = b.do("GET", loc, nil, nil)
			version = regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(body)[1]
			resp, _ = b.do("POST", loc+"/status", url.Values{"csrf": {b.csrf}, "version": {version}, "status": {"sent"}, "note": {"posted"}}, nil)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("send: %s", resp.Status)
			}
			_, body = b.do("GET", "/cases", nil, nil)
			if !strings.Contains(body, ">sent<") || !strings.Contains(body, "SAR-7") {
				t.Errorf("the list after sending:\n%s", body)
			}
			resp, body = b.do("GET", "/cases/999999", nil, nil)
			if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "subject-access case 999999") {
				t.Errorf("a missing case: %s", resp.Status)
			}
			resp, _ = b.do("GET", "/cases/..%2f..%2fetc/bundle", nil, nil)
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
				t.Errorf("a traversal in the case id: %s", resp.Status)
			}
		})
	}
}

// TestTheCaseListPutsOverdueFirstWithACountdown: overdue, due today,
// due tomorrow and due in days, in that order, in words.
func TestTheCaseListPutsOverdueFirstWithACountdown(t *testing.T) {
	r := newSARRig(t, "")
	b := r.browser()
	b.signIn("dora")
	for _, received := range []string{"2026-02-11", "2026-02-07", "2026-03-01", "2026-02-10"} {
		resp, _ := b.do("POST", "/cases", url.Values{"csrf": {b.csrf}, "requester_name": {"R " + received}, "requester_contact": {"x"},
			"identity_method": {"passport"}, "identity_checked_by": {"dora"}, "received": {received}, "numbers": {"07700 900123"}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("open %s: %s", received, resp.Status)
		}
	}
	_, body := b.do("GET", "/cases", nil, nil)
	got := regexp.MustCompile(`class="tag [a-z]* countdown">([^<]+)<`).FindAllStringSubmatch(body, -1)
	var words []string
	for _, m := range got {
		words = append(words, m[1])
	}
	// Received 7 Feb: due 9 March (7 March is a Saturday), a day overdue on 10 March.
	want := []string{"1 day overdue", "due today", "due tomorrow", "due in 22 days"}
	if strings.Join(words, ", ") != strings.Join(want, ", ") {
		t.Errorf("countdowns %q, want %q", words, want)
	}
}
