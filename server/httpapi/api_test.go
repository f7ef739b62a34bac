package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/httpapi"
)

func TestMain(m *testing.M) { testrig.Main(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t   *testing.T
	srv *central.Server
	url string
	clk *clock
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the organisation's identity on the server.
func newEnvWith(t *testing.T, ids []age.Identity) *env {
	return newEnvOpts(t, central.Options{Identities: ids})
}

// newEnvWithRates is newEnv with a device allowance of requests a second
// and bursts of burst; 0 turns the allowances off.
func newEnvWithRates(t *testing.T, requests float64, burst int) *env {
	rates := httpapi.Rates{Requests: requests, RequestBurst: burst}
	if requests == 0 {
		rates.Requests = -1
	}
	return newEnvOpts(t, central.Options{Rates: rates})
}

// newEnvOpts starts a server with o on a fake clock.
func newEnvOpts(t *testing.T, o central.Options) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	o.DB, o.DataDir, o.Clock, o.BcryptCost = filepath.Join(dir, "cg.db"), filepath.Join(dir, "data"), clk.Now, 4
	o.Logger, o.Embedded = slog.New(slog.NewTextHandler(io.Discard, nil)), true
	srv, err := central.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Shutdown()
		hs.Close()
		srv.Close()
	})
	return &env{t: t, srv: srv, url: hs.URL, clk: clk}
}

// user adds an account with password "password-1234" and enrols a device.
func (e *env) user(name string, role server.Role) string {
	e.t.Helper()
	hash, err := auth.HashPassword("password-1234", 4)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.srv.Store().CreateUser(context.Background(), name, role, hash, false); err != nil {
		e.t.Fatal(err)
	}
	var enr server.Enrolment
	e.call("", "POST", "/api/v1/enroll", fmt.Sprintf(`{"username":%q,"password":"password-1234","device_name":"pc"}`, name), 200, &enr)
	if enr.Token == "" || enr.Role != role || enr.Agent != name {
		e.t.Fatalf("enrolment = %+v", enr)
	}
	return enr.Token
}

// call makes a request and checks the status; it decodes a JSON reply into out.
func (e *env) call(token, method, path, body string, want int, out any) http.Header {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if resp.StatusCode >= 400 && method != "HEAD" {
		var eb struct{ Error string }
		if err := json.Unmarshal(b, &eb); err != nil || eb.Error == "" {
			e.t.Fatalf("%s %s: error reply is not {\"error\": …}: %s", method, path, b)
		}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.Header
}

func batch(agent string, seq0 int, n int, callID string) string {
	var evs []string
	for i := range n {
		evs = append(evs, fmt.Sprintf(`{"id":"%s-%d","seq":%d,"time":"2026-03-02T10:00:%02dZ","type":"recording.state","agent":%q,"call_id":%q,"state":"recording"}`,
			callID, seq0+i, seq0+i, i%60, agent, callID))
	}
	return `{"events":[` + strings.Join(evs, ",") + `]}`
}

func TestRolesOnEveryRoute(t *testing.T) {
	e := newEnv(t)
	tok := map[server.Role]string{}
	for _, r := range server.Roles {
		tok[r] = e.user("u-"+string(r), r)
	}
	hb := `{"at":"2026-03-02T09:00:00Z","state":"idle","since":"2026-03-02T09:00:00Z"}`
	routes := []struct {
		method, path, body string
		allowed            []server.Role
	}{
		{"GET", "/api/v1/me", "", server.Roles},
		// Only agents write calls: supervisors and dpos never do.
		{"POST", "/api/v1/events", batch("x", 1, 1, "c1"), []server.Role{server.RoleAgent}},
		{"POST", "/api/v1/heartbeat", hb, []server.Role{server.RoleAgent}},
		{"POST", "/api/v1/phone-recorder", `{"call_id":"c1","sip_call_id":"x@test","command":"stop"}`, []server.Role{server.RoleAgent}},
		{"GET", "/api/v1/phone-recordings?sip_call_id=x@test", "", []server.Role{server.RoleCollector}},
		{"GET", "/api/v1/calls", "", []server.Role{server.RoleAgent, server.RoleSupervisor, server.RoleDPO}},
		{"GET", "/api/v1/users", "", []server.Role{server.RoleAdmin}},
		{"GET", "/api/v1/devices", "", []server.Role{server.RoleAdmin}},
		{"GET", "/api/v1/recordings/none1", "", []server.Role{server.RoleAgent, server.RoleSupervisor, server.RoleDPO}},
		{"PUT", "/api/v1/recordings/noneROLE/manifest", `{"call_id":"noneROLE","complete":true,"sha256_encrypted":"` + strings.Repeat("0", 64) + `"}`, []server.Role{server.RoleAgent}},
		{"PUT", "/api/v1/recordings/noneROLE/audio?offset=0", `x`, []server.Role{server.RoleAgent}},
		{"HEAD", "/api/v1/recordings/noneROLE/audio", ``, []server.Role{server.RoleAgent}},
		{"POST", "/api/v1/users", `{"username":"newROLE","role":"agent","password":"password-5678"}`, []server.Role{server.RoleAdmin}},
		{"POST", "/api/v1/users/u-agent/role", `{"role":"agent"}`, []server.Role{server.RoleAdmin}},
		// Data protection: dpos review, hold and erase; supervisors and dpos
		// listen and read the audit; agents and admins do none of it.
		{"GET", "/api/v1/flags/mine", "", []server.Role{server.RoleAgent, server.RoleSupervisor}},
		{"GET", "/api/v1/scores/mine", "", []server.Role{server.RoleAgent}},
		{"POST", "/api/v1/scores/99/comments", `{"kind":"comment","text":"x"}`, []server.Role{server.RoleAgent, server.RoleSupervisor}},
		{"GET", "/api/v1/recordings/none1/play", "", []server.Role{server.RoleSupervisor, server.RoleDPO}},
		{"GET", "/api/v1/recordings/none1/audio", "", []server.Role{server.RoleSupervisor, server.RoleDPO}},
		{"GET", "/api/v1/review", "", []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/review/nope", "", []server.Role{server.RoleDPO}},
		{"POST", "/api/v1/review/nope/decide", `{"action":"keep","note":"x"}`, []server.Role{server.RoleDPO}},
		{"POST", "/api/v1/review/nope/approve", `{"approve":true}`, []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/holds", "", []server.Role{server.RoleDPO}},
		{"POST", "/api/v1/holds", `{"agent":"u-agent","reason":"complaint","owner":"ROLE"}`, []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/holds/1", "", []server.Role{server.RoleDPO}},
		{"POST", "/api/v1/holds/99/lift", `{"reason":"done"}`, []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/retention/report", "", []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/tombstones", "", []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/tombstones/nope", "", []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/erasures", "", []server.Role{server.RoleDPO}},
		{"POST", "/api/v1/erasures", `{"number":"+44 1632 960999"}`, []server.Role{server.RoleDPO}},
		{"POST", "/api/v1/erasures/99/approve", `{"approve":true}`, []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/subject-access?number=%2B441632960999", "", []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/audit", "", []server.Role{server.RoleSupervisor, server.RoleDPO}},
		{"POST", "/api/v1/audit/checkpoint", "", []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/audit/number?number=%2B441632960999", "", []server.Role{server.RoleDPO}},
		{"GET", "/api/v1/teams", "", []server.Role{server.RoleAdmin}},
		{"POST", "/api/v1/teams", `{"name":"tROLE"}`, []server.Role{server.RoleAdmin}},
		{"POST", "/api/v1/teams/tadmin/members", `{"username":"u-agent"}`, []server.Role{server.RoleAdmin}},
		{"DELETE", "/api/v1/teams/tadmin/members/u-agent", "", []server.Role{server.RoleAdmin}},
		{"POST", "/api/v1/devices/self/rotate", "", server.Roles},
	}
	for _, rt := range routes {
		for _, role := range server.Roles {
			allowed := role.In(rt.allowed...)
			path := strings.ReplaceAll(rt.path, "ROLE", string(role))
			body := strings.ReplaceAll(rt.body, "ROLE", string(role))
			req, _ := http.NewRequest(rt.method, e.url+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok[role])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if denied := resp.StatusCode == http.StatusForbidden; denied == allowed {
				t.Errorf("%s %s as %s: status %d (%s), allowed=%v", rt.method, rt.path, role, resp.StatusCode, b, allowed)
			}
		}
	}
	// The live board is for supervisors and dpos.
	for _, role := range []server.Role{server.RoleAgent, server.RoleAdmin} {
		e.call(tok[role], "GET", "/api/v1/live", "", 403, nil)
	}
	// Denials are audited: one by one, and past a few a minute for one
	// account, counted in a summary.
	e.clk.Add(time.Minute)
	e.srv.FlushAudit()
	recs, err := e.srv.Store().AuditLog(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, r := range recs {
		switch r.Action {
		case server.AuditAuthzDenied:
			denied++
		case server.AuditDenialsSuppressed:
			var d struct{ Suppressed int }
			json.Unmarshal([]byte(r.Detail), &d)
			denied += d.Suppressed
		}
	}
	if denied < 40 {
		t.Errorf("%d denials audited", denied)
	}
}

func TestAgentsReadOnlyTheirOwnCalls(t *testing.T) {
	e := newEnv(t)
	olive, pat, sup := e.user("olive", server.RoleAgent), e.user("pat", server.RoleAgent), e.user("sue", server.RoleSupervisor)
	e.call(olive, "POST", "/api/v1/events", batch("olive", 1, 2, "oc1"), 200, nil)
	e.call(pat, "POST", "/api/v1/events", batch("pat", 1, 2, "pc1"), 200, nil)
	var res struct{ Calls []server.Call }
	e.call(olive, "GET", "/api/v1/calls", "", 200, &res)
	if len(res.Calls) != 1 || res.Calls[0].ID != "oc1" {
		t.Fatalf("olive sees %+v", res.Calls)
	}
	e.call(olive, "GET", "/api/v1/calls?agent=pat", "", 403, nil)
	e.call(olive, "GET", "/api/v1/calls/pc1", "", 404, nil) // as if there were none
	e.call(olive, "GET", "/api/v1/calls/oc1", "", 200, nil)
	e.call(sup, "GET", "/api/v1/calls", "", 200, &res)
	if len(res.Calls) != 2 {
		t.Fatalf("supervisor sees %d calls", len(res.Calls))
	}
	e.call(sup, "GET", "/api/v1/calls?agent=pat&from=2026-03-02&to=2026-03-03T00:00:00Z", "", 200, &res)
	if len(res.Calls) != 1 || res.Calls[0].Agent != "pat" {
		t.Fatalf("supervisor filter: %+v", res.Calls)
	}
	e.call(sup, "GET", "/api/v1/calls?from=yesterday", "", 400, nil)
	e.call(sup, "GET", "/api/v1/calls?limit=-1", "", 400, nil)
	e.call(sup, "GET", "/api/v1/calls/nope", "", 404, nil)
}

func TestBadInputGetsClear4xx(t *testing.T) {
	e := newEnv(t)
	olive := e.user("olive", server.RoleAgent)
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"malformed JSON", "POST", "/api/v1/events", `{"events":[{`, 400},
		{"wrong shape", "POST", "/api/v1/events", `{"events":"lots"}`, 400},
		{"too many events", "POST", "/api/v1/events", `{"events":[` + strings.Repeat(`{},`, 1000) + `{}]}`, 400},
		{"oversized body", "POST", "/api/v1/events", `{"events":["` + strings.Repeat("x", 5<<20) + `"]}`, 413},
		{"bad heartbeat", "POST", "/api/v1/heartbeat", `{"at":"2026-03-02T09:00:00Z","state":"dancing"}`, 400},
		{"heartbeat not JSON", "POST", "/api/v1/heartbeat", `hello`, 400},
		{"bad call id", "PUT", "/api/v1/recordings/..%2Fetc/audio?offset=0", `x`, 400},
		{"chunk without offset", "PUT", "/api/v1/recordings/c1/audio", `x`, 400},
		{"manifest for another call", "PUT", "/api/v1/recordings/c1/manifest", `{"call_id":"c2","complete":true}`, 400},
		{"manifest without sha", "PUT", "/api/v1/recordings/c1/manifest", `{"call_id":"c1","complete":true}`, 400},
		{"unknown route", "GET", "/api/v1/nothing", ``, 404},
		{"wrong method", "DELETE", "/api/v1/events", ``, 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.url+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+olive)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, b)
			}
			{
				var eb struct{ Error string }
				if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
					t.Fatalf("not a JSON error: %s", b)
				}
			}
		})
	}
}

func TestTokensUnknownRevokedAndDisabled(t *testing.T) {
	e := newEnv(t)
	olive := e.user("olive", server.RoleAgent)
	admin := e.user("root", server.RoleAdmin)
	e.call("", "GET", "/api/v1/me", "", 401, nil)
	e.call("not-a-token", "GET", "/api/v1/me", "", 401, nil)
	forged, _ := auth.NewToken()
	e.call(forged, "GET", "/api/v1/me", "", 401, nil)

	var me struct {
		DeviceID string `json:"device_id"`
	}
	e.call(olive, "GET", "/api/v1/me", "", 200, &me)
	e.call(admin, "POST", "/api/v1/devices/"+me.DeviceID+"/revoke", "", 200, nil)
	var eb struct{ Error string }
	e.call(olive, "GET", "/api/v1/me", "", 401, &eb)
	if !strings.Contains(eb.Error, "revoked") {
		t.Fatalf("replayed revoked token: %q", eb.Error)
	}
	e.call(admin, "POST", "/api/v1/devices/nope/revoke", "", 404, nil)

	pat := e.user("pat", server.RoleAgent)
	e.call(admin, "POST", "/api/v1/users/pat/disable", "", 200, nil)
	e.call(pat, "GET", "/api/v1/me", "", 403, &eb)
	if !strings.Contains(eb.Error, "disabled") {
		t.Fatalf("disabled account: %q", eb.Error)
	}
	e.call("", "POST", "/api/v1/enroll", `{"username":"pat","password":"password-1234"}`, 403, nil)
}

func TestFailedLoginsAreSlowedDown(t *testing.T) {
	e := newEnv(t)
	e.user("olive", server.RoleAgent)
	for range 3 {
		e.call("", "POST", "/api/v1/enroll", `{"username":"olive","password":"guess-guess"}`, 401, nil)
	}
	e.call("", "POST", "/api/v1/enroll", `{"username":"olive","password":"guess-guess"}`, 401, nil) // 4th: now 1 s lockout
	h := e.call("", "POST", "/api/v1/enroll", `{"username":"olive","password":"password-1234"}`, 429, nil)
	if h.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	e.clk.Add(2 * time.Second)
	e.call("", "POST", "/api/v1/enroll", `{"username":"olive","password":"password-1234"}`, 200, nil)
	e.call("", "POST", "/api/v1/enroll", `{"username":"nobody","password":"password-1234"}`, 401, nil)
	e.call("", "POST", "/api/v1/enroll", `{"username":"olive"}`, 400, nil)
	recs, _ := e.srv.Store().AuditLog(context.Background(), 0, 100)
	var logins, failed int
	for _, r := range recs {
		switch r.Action {
		case server.AuditLogin:
			logins++
		case server.AuditLoginFailed:
			failed++
		}
	}
	if failed != 5 || logins != 2 {
		t.Fatalf("audit: %d logins, %d failures", logins, failed)
	}
	if _, err := e.srv.Store().Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if seq, err := e.srv.Store().VerifyAudit(context.Background()); err != nil {
		t.Fatalf("audit chain broken at %d: %v", seq, err)
	}
}

func TestResendIsHarmless(t *testing.T) {
	e := newEnv(t)
	olive := e.user("olive", server.RoleAgent)
	var r1, r2 struct {
		Accepted, Duplicate int
		AckedSeq            uint64 `json:"acked_seq"`
	}
	e.call(olive, "POST", "/api/v1/events", batch("olive", 1, 50, "c1"), 200, &r1)
	e.call(olive, "POST", "/api/v1/events", batch("olive", 1, 60, "c1"), 200, &r2)
	if r1.Accepted != 50 || r1.AckedSeq != 50 || r2.Accepted != 10 || r2.Duplicate != 50 || r2.AckedSeq != 60 {
		t.Fatalf("replies %+v %+v", r1, r2)
	}
}

func TestResumableUpload(t *testing.T) {
	e := newEnv(t)
	olive, pat, sup := e.user("olive", server.RoleAgent), e.user("pat", server.RoleAgent), e.user("sue", server.RoleSupervisor)
	data := bytes.Repeat([]byte{1, 2, 3, 4, 5}, 20000)
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	putTo := func(id, tok string, off int, chunk []byte, want int) http.Header {
		return e.call(tok, "PUT", fmt.Sprintf("/api/v1/recordings/%s/audio?offset=%d", id, off), string(chunk), want, nil)
	}
	put := func(tok string, off int, chunk []byte, want int) http.Header {
		return putTo("rc1", tok, off, chunk, want)
	}
	put(olive, 0, data[:30000], 200)
	h := put(olive, 0, data[:30000], 409) // resent after a lost reply
	if h.Get("Upload-Offset") != "30000" {
		t.Fatalf("Upload-Offset = %q", h.Get("Upload-Offset"))
	}
	// Pat's desktop using the same id uploads into a recording of pat's
	// own: olive's is untouched.
	put(pat, 30000, data[30000:], 409)
	put(pat, 0, data[:10], 200)
	h = e.call(olive, "HEAD", "/api/v1/recordings/rc1/audio", "", 200, nil)
	if h.Get("Upload-Offset") != "30000" || h.Get("Upload-Complete") != "false" {
		t.Fatalf("HEAD: %v", h)
	}
	put(olive, 30000, data[30000:], 200)
	manifest := fmt.Sprintf(`{"call_id":"rc1","complete":true,"sha256_encrypted":%q,"extra":{"kept":true}}`, strings.Repeat("ab", 32))
	e.call(olive, "PUT", "/api/v1/recordings/rc1/manifest", manifest, 409, nil) // wrong sha: discarded
	var st struct {
		Status string
		Size   int64
	}
	e.call(olive, "GET", "/api/v1/recordings/rc1", "", 200, &st)
	if st.Size != 0 {
		t.Fatalf("after a checksum mismatch the upload restarts: %+v", st)
	}
	put(olive, 0, data, 200)
	// A version 2 manifest with the recorder's keypad-tone redactions.
	manifest = fmt.Sprintf(`{"version":2,"call_id":"rc1","complete":true,"sha256_encrypted":%q,"extra":{"kept":true},
		"redactions":[{"kind":"dtmf","from_ms":1200,"to_ms":1420,"reason":"keypad tones","by":"recorder","at":"2026-03-02T10:00:01Z"}]}`, hexSum)
	e.call(olive, "PUT", "/api/v1/recordings/rc1/manifest", manifest, 200, &st)
	if st.Status != "stored" || st.Size != int64(len(data)) {
		t.Fatalf("stored: %+v", st)
	}
	e.call(olive, "PUT", "/api/v1/recordings/rc1/manifest", manifest, 200, nil) // resent: same answer
	var shown struct {
		Status     string
		Redactions []struct {
			Kind   string
			FromMS int64 `json:"from_ms"`
		}
	}
	e.call(sup, "GET", "/api/v1/recordings/rc1", "", 200, &shown)
	if shown.Status != "stored" || len(shown.Redactions) != 1 || shown.Redactions[0].Kind != "dtmf" || shown.Redactions[0].FromMS != 1200 {
		t.Fatalf("supervisor sees %+v", shown)
	}
	rec, err := e.srv.Store().Recording(context.Background(), "rc1")
	if err != nil || !strings.Contains(string(rec.Manifest), `"kept":true`) || rec.SHA256 != hexSum {
		t.Fatalf("stored manifest: %s, %v", rec.Manifest, err)
	}
	// An incomplete (crashed) recording goes up with the client's sha256.
	putTo("rc2", olive, 0, data[:100], 200)
	req, _ := http.NewRequest("PUT", e.url+"/api/v1/recordings/rc2/manifest", strings.NewReader(`{"call_id":"rc2","complete":false}`))
	req.Header.Set("Authorization", "Bearer "+olive)
	s2 := sha256.Sum256(data[:100])
	req.Header.Set("Upload-SHA256", hex.EncodeToString(s2[:]))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("incomplete manifest with Upload-SHA256: %d", resp.StatusCode)
	}
	e.call(olive, "GET", "/api/v1/recordings/rc2", "", 200, &st)
	if st.Status != "stored" || st.Size != 100 {
		t.Fatalf("rc2: %+v", st)
	}
}

func TestLiveBoardStreams(t *testing.T) {
	e := newEnv(t)
	olive, sup := e.user("olive", server.RoleAgent), e.user("sue", server.RoleSupervisor)
	e.call(olive, "POST", "/api/v1/heartbeat", `{"at":"2026-03-02T09:00:00Z","state":"recording","since":"2026-03-02T08:59:00Z","call":{"id":"c1","direction":"inbound","remote":"+441632960123","started":"2026-03-02T08:59:00Z"}}`, 200, nil)

	req, _ := http.NewRequest("GET", e.url+"/api/v1/live", nil)
	req.Header.Set("Authorization", "Bearer "+sup)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	msgs := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				msgs <- d
			}
		}
		close(msgs)
	}()
	next := func() string {
		select {
		case m := <-msgs:
			return m
		case <-time.After(5 * time.Second):
			t.Fatal("no SSE message")
			return ""
		}
	}
	snap := next()
	if !strings.Contains(snap, `"agent":"olive"`) || !strings.Contains(snap, "••••••••••123") || strings.Contains(snap, "+441632960123") {
		t.Fatalf("snapshot: %s", snap)
	}
	e.call(olive, "POST", "/api/v1/events", `{"events":[{"id":"p1","seq":1,"time":"2026-03-02T09:00:01Z","type":"recording.state","agent":"olive","call_id":"c1","state":"paused","reason":"payment"}]}`, 200, nil)
	if m := next(); !strings.Contains(m, `"state":"paused"`) || !strings.Contains(m, `"reason_label":"Card payment"`) {
		t.Fatalf("update: %s", m)
	}
	e.clk.Add(4 * time.Minute) // past payment's remind_after (3m)
	e.srv.Board().Reevaluate()
	if m := next(); !strings.Contains(m, `"kind":"pause-long"`) {
		t.Fatalf("pause alert: %s", m)
	}
}
