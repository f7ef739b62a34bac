package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
)

// login tries a password from the client address xff (sent as
// X-Forwarded-For when not empty) and returns the status.
func (e *env) login(user, password, xff string) int {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url+"/api/v1/enroll", strings.NewReader(`{"username":"`+user+`","password":"`+password+`"}`))
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Error(err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestConcurrentGuessesCannotRaceTheLimiter: 40 wrong passwords at once
// reach the password check no more often than one at a time would (3 free,
// the 4th starts the delay), and the guessing locks out the guessed
// account, not another user signing in from the same address.
func TestConcurrentGuessesCannotRaceTheLimiter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("adam", server.RoleAdmin)
	e.user("olive", server.RoleAgent)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		status = map[int]int{}
	)
	start := make(chan struct{})
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s := e.login("adam", "guess-guess-guess", "")
			mu.Lock()
			status[s]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if status[401] > 4 || status[401]+status[429] != 40 {
		t.Fatalf("40 concurrent guesses: %v; at most 4 may reach the password check", status)
	}
	recs, _ := e.srv.Store().SearchAudit(t.Context(), server.AuditFilter{Action: server.AuditLoginFailed, Limit: 100})
	if len(recs) != status[401] {
		t.Fatalf("%d failed logins audited, %d answered 401", len(recs), status[401])
	}
	// Another user at the same address signs in at once; adam stays locked.
	if s := e.login("olive", "password-1234", ""); s != 200 {
		t.Fatalf("olive from the guesser's address: %d", s)
	}
	if s := e.login("adam", "password-1234", ""); s != 429 {
		t.Fatalf("adam right after the guessing: %d, want 429", s)
	}
}

// TestAnAddressSprayingManyAccountsIsSlowed: one address guessing one
// password for many accounts is slowed down by its address.
func TestAnAddressSprayingManyAccountsIsSlowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("olive", server.RoleAgent)
	refused := 0
	for i := range 40 {
		if e.login("user"+strings.Repeat("x", i), "Summer2026!!", "") == 429 {
			refused++
		}
	}
	if refused < 15 {
		t.Fatalf("only %d of 40 sprayed guesses were refused", refused)
	}
}

// newEnvBehindProxy is newEnv with the test client as a trusted proxy.
func newEnvBehindProxy(t *testing.T, proxies ...string) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	var trusted []netip.Prefix
	for _, p := range proxies {
		trusted = append(trusted, netip.MustParsePrefix(p))
	}
	srv, err := central.Open(context.Background(), central.Options{
		DB: filepath.Join(dir, "cg.db"), Clock: clk.Now, BcryptCost: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustedProxies: trusted,
	})
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

func loginIPs(t *testing.T, e *env) []string {
	t.Helper()
	recs, _ := e.srv.Store().SearchAudit(t.Context(), server.AuditFilter{Action: "login", Limit: 100})
	var out []string
	for _, r := range recs {
		var d struct{ IP string }
		json.Unmarshal([]byte(r.Detail), &d)
		out = append(out, d.IP)
	}
	return out
}

// TestTrustedProxy: X-Forwarded-For is believed only from the trusted
// proxy; the audit records the real client, and a guesser behind the
// proxy does not lock out everyone else behind it.
func TestTrustedProxy(t *testing.T) {
	t.Parallel()
	t.Run("not trusted", func(t *testing.T) {
		t.Parallel()
		e := newEnvBehindProxy(t)
		e.user("olive", server.RoleAgent)
		e.login("olive", "password-1234", "203.0.113.9")
		if ips := loginIPs(t, e); len(ips) != 2 || ips[1] != "127.0.0.1" {
			t.Fatalf("a forged X-Forwarded-For was believed: %v", ips)
		}
	})
	t.Run("trusted", func(t *testing.T) {
		t.Parallel()
		e := newEnvBehindProxy(t, "127.0.0.1/32")
		e.user("olive", server.RoleAgent)
		e.user("sue", server.RoleSupervisor)
		// The client forged the first entry; the proxy appended the real one.
		if s := e.login("olive", "password-1234", "10.9.9.9, 203.0.113.7"); s != 200 {
			t.Fatalf("login through the proxy: %d", s)
		}
		if ips := loginIPs(t, e); ips[len(ips)-1] != "203.0.113.7" {
			t.Fatalf("audited client addresses %v, want the proxy's last entry 203.0.113.7", ips)
		}
		for i := range 30 {
			e.login("user"+strings.Repeat("y", i), "guess-guess", "203.0.113.66")
		}
		if s := e.login("sue", "password-1234", "203.0.113.8"); s != 200 {
			t.Fatalf("sue behind the same proxy as a guesser: %d", s)
		}
		if s := e.login("user", "guess-guess", "203.0.113.66"); s != 429 {
			t.Fatalf("the guesser behind the proxy: %d, want 429", s)
		}
	})
}
