// Package centraltest runs a real central server for other packages' tests:
// SQLite (or the given database) on loopback, with a quick bcrypt cost, and
// enrols accounts the way a desktop does, over HTTP.
package centraltest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
)

// Start opens a central server with opts, serves it on a free loopback
// port and closes it when t ends. It returns the server's base URL and
// enrol, which creates user with role and returns a device token for it.
func Start(t testing.TB, opts central.Options) (base string, enrol func(user string, role server.Role) string) {
	t.Helper()
	_, base, enrol = StartServer(t, opts)
	return base, enrol
}

// StartServer is Start for a test that also reaches into the server (its
// store, to stand in for a person working in the web workspace).
func StartServer(t testing.TB, opts central.Options) (srv *central.Server, base string, enrol func(user string, role server.Role) string) {
	t.Helper()
	ctx := context.Background()
	opts.BcryptCost = 4
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := central.Open(ctx, opts)
	if err != nil {
		t.Fatalf("central server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	if base, err = srv.ServeLoopback("127.0.0.1:0"); err != nil {
		t.Fatalf("central server: %v", err)
	}
	return srv, base, func(user string, role server.Role) string {
		t.Helper()
		hash, err := auth.HashPassword("password-"+user, 4)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Store().CreateUser(ctx, user, role, hash, false); err != nil {
			t.Fatalf("create %s: %v", user, err)
		}
		return enrolOverHTTP(t, base, user, "password-"+user)
	}
}

// enrolOverHTTP enrols a device for user as the desktop does and returns
// its token.
func enrolOverHTTP(t testing.TB, base, user, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password, "device_name": user + "-pc"})
	resp, err := http.Post(base+"/api/v1/enroll", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("enrol %s: %v", user, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &e) != nil || e.Token == "" {
		t.Fatalf("enrol %s: %s: %s", user, resp.Status, b)
	}
	return e.Token
}
