package web_test

import (
	"context"

	"filippo.io/age"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/httpapi"
	_ "github.com/callguard/callguard/server/store/pglisten" // PostgreSQL for the drivers' runs
)

func TestMain(m *testing.M) { testrig.Main(m) }

// httpapiNoLimits turns the API's per-device rates off (tests send fast).
var httpapiNoLimits = httpapi.Rates{Requests: -1}

// clock is a settable clock for the server, so tests move time on.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// rig is a real central server on loopback with the workspace.
type rig struct {
	t     testing.TB
	srv   *central.Server
	base  string
	clock *clock
	// id is the organisation's key the server plays recordings with.
	id *age.X25519Identity
}

// dbs are the databases the workspace's tests run on.
func dbs(t *testing.T) map[string]func() string {
	return map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "cg.db") },
		"postgres": func() string { return testrig.PostgreSQL(t) },
	}
}

// newRig starts a server on db ("" for SQLite in a temp dir). A nil clk
// uses the real clock.
func newRig(t testing.TB, db string, clk *clock, opts ...func(*central.Options)) *rig {
	t.Helper()
	dir := t.TempDir()
	if db == "" {
		db = "sqlite:" + filepath.Join(dir, "cg.db")
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	o := central.Options{DB: db, DataDir: filepath.Join(dir, "data"), Logger: slog.New(slog.DiscardHandler), BcryptCost: 4,
		Rates: httpapiNoLimits, Identities: []age.Identity{id}}
	if clk != nil {
		o.Clock = clk.Now
	}
	for _, f := range opts {
		f(&o)
	}
	srv, err := central.Open(context.Background(), o)
	if err != nil {
		t.Fatalf("central server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	base, err := srv.ServeLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, srv: srv, base: base, clock: clk, id: id}
}

// user creates an account with password "password-<name>".
func (r *rig) user(name string, role server.Role) {
	r.t.Helper()
	hash, err := auth.HashPassword("password-"+name, 4)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.srv.Store().CreateUser(context.Background(), name, role, hash, false); err != nil {
		r.t.Fatalf("create %s: %v", name, err)
	}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, as a browser's requests look to the server.
type browser struct {
	t    testing.TB
	r    *rig
	c    *http.Client
	csrf string
}

func (r *rig) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: r.t, r: r, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request like a same-origin page of the workspace would.
func (b *browser) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.r.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.r.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(out); m != nil {
		b.csrf = string(m[1])
	}
	// Compared as the text the person reads (html/template writes + as &#43;).
	return resp, html.UnescapeString(string(out))
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs in as name with its test password and fails the test
// unless the workspace takes it.
func (b *browser) signIn(name string) {
	b.t.Helper()
	b.do("GET", "/signin", nil, nil)
	resp, body := b.do("POST", "/signin", url.Values{"csrf": {b.csrf}, "username": {name}, "password": {"password-" + name}, "next": {"/"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign in as %s: %s\n%s", name, resp.Status, body)
	}
	// The first page the role may open, for the session's CSRF token.
	b.csrf = ""
	resp, _ = b.do("GET", "/", nil, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusSeeOther {
		b.do("GET", loc, nil, nil)
	}
	if b.csrf == "" {
		b.t.Fatalf("signed in as %s: no page with a form", name)
	}
}

// audit returns the audit records with action.
func (r *rig) audit(action string) []server.AuditRecord {
	r.t.Helper()
	recs, err := r.srv.Store().SearchAudit(context.Background(), server.AuditFilter{Action: action, Limit: 1000})
	if err != nil {
		r.t.Fatal(err)
	}
	return recs
}
