package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
)

// newEnvSet is newEnv, not embedded, with its options changed by set.
func newEnvSet(t *testing.T, set func(o *central.Options)) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	o := central.Options{
		DB: filepath.Join(dir, "cg.db"), DataDir: filepath.Join(dir, "data"), Clock: clk.Now, BcryptCost: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AuditKeyFile: filepath.Join(dir, "audit-ed25519.pem"),
	}
	set(&o)
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

// enrol enrols an account that already exists and returns its token.
func (e *env) enrol(name string) string {
	e.t.Helper()
	var enr server.Enrolment
	e.call("", "POST", "/api/v1/enroll", fmt.Sprintf(`{"username":%q,"password":"password-5678"}`, name), 200, &enr)
	return enr.Token
}

// TestOneAdminCannotBeBothPeopleOfATwoPersonRule: an admin who creates two
// dpo accounts (or makes herself one) cannot have them approve each
// other's deletions, hold lifts or erasures; dpos set up independently can,
// and so can the admin's two once both have held their role for the
// policy's independence period.
func TestOneAdminCannotBeBothPeopleOfATwoPersonRule(t *testing.T) {
	t.Parallel()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	pol.Review.TwoPersonDeletion, pol.Review.TwoPersonHoldLift = true, true
	e := newEnvSet(t, func(o *central.Options) { o.Policy = pol })
	olive, adam := e.user("olive", server.RoleAgent), e.user("adam", server.RoleAdmin)
	e.call(olive, "POST", "/api/v1/events", `{"events":[
		{"id":"t1-1","seq":1,"time":"2026-03-02T09:00:00Z","type":"call.answered","call_id":"t1","call":{"direction":"inbound","remote":{"number":"+441632960777"},"started":"2026-03-02T09:00:00Z","answered":"2026-03-02T09:00:00Z","recorded":true}},
		{"id":"t1-2","seq":2,"time":"2026-03-02T09:00:02Z","type":"flag","call_id":"t1","reason":"health","note":"x"}]}`, 200, nil)
	e.call(olive, "PUT", "/api/v1/recordings/t1/audio?offset=0", "opaque", 200, nil)
	e.call(olive, "PUT", "/api/v1/recordings/t1/manifest", `{"call_id":"t1","complete":true,"sha256_encrypted":"`+sha("opaque")+`"}`, 200, nil)

	// Adam makes two dpos of his own.
	for _, name := range []string{"mal1", "mal2"} {
		e.call(adam, "POST", "/api/v1/users", `{"username":"`+name+`","role":"dpo","password":"password-5678"}`, 201, nil)
	}
	mal1, mal2 := e.enrol("mal1"), e.enrol("mal2")
	e.call(mal1, "POST", "/api/v1/review/t1-2/decide", `{"action":"delete","note":"gone"}`, 200, nil)
	var eb struct{ Error string }
	e.call(mal2, "POST", "/api/v1/review/t1-2/approve", `{"approve":true}`, 409, &eb)
	if !strings.Contains(eb.Error, "adam") || !strings.Contains(eb.Error, "independent") {
		t.Fatalf("refusal says %q", eb.Error)
	}
	var hold server.Hold
	e.call(mal1, "POST", "/api/v1/holds", `{"agent":"olive","reason":"complaint","owner":"x"}`, 201, &hold)
	lift := fmt.Sprintf("/api/v1/holds/%d/lift", hold.ID)
	e.call(mal1, "POST", lift, `{"reason":"done"}`, 200, nil)
	e.call(mal2, "POST", lift, `{"reason":"done"}`, 409, nil)
	var er server.Erasure
	e.call(mal1, "POST", "/api/v1/erasures", `{"number":"+441632960999"}`, 202, &er)
	e.call(mal2, "POST", fmt.Sprintf("/api/v1/erasures/%d/approve", er.ID), `{"approve":true}`, 409, nil)

	// Adam makes himself a dpo: he gave mal1 her role, so neither may
	// second the other.
	e.call(adam, "POST", "/api/v1/users/adam/role", `{"role":"dpo"}`, 200, nil)
	e.call(adam, "POST", "/api/v1/review/t1-2/approve", `{"approve":true}`, 409, nil)

	// A dpo that IT set up on the command line is independent of adam's.
	dee := e.user("dee", server.RoleDPO) // made in the store: no admin of the server made her
	e.call(dee, "POST", lift, `{"reason":"agreed"}`, 200, nil)

	// After the independence period both of adam's dpos have held their
	// role long enough for the others to have seen it in the audit.
	e.clk.Add(31 * 24 * time.Hour)
	e.call(mal2, "POST", fmt.Sprintf("/api/v1/erasures/%d/approve", er.ID), `{"approve":true}`, 200, nil)
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
