package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/callguard/callguard/server"
)

// breakAudit makes every insert into the audit log fail inside SQLite, as
// a full disk would; the returned func mends it.
func breakAudit(t *testing.T, r *rig) func() {
	t.Helper()
	db := r.srv.Store().DB()
	if _, err := db.Exec(`CREATE TRIGGER audit_refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	return func() { db.Exec(`DROP TRIGGER audit_refuse`) }
}

// TestNothingIsShownWhenTheAuditCannotBeWritten: a search, a call, a play
// and an export whose audit record cannot be written show nothing of the
// calls, and say why in words.
func TestNothingIsShownWhenTheAuditCannotBeWritten(t *testing.T) {
	r := newRig(t, "", nil)
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: day})
	olive.upload("c1", 1)
	r.user("dee", server.RoleDPO)
	b := r.browser()
	b.signIn("dee")
	_, page := b.do("GET", "/calls/c1", nil, nil)
	src := playSrc.FindStringSubmatch(page)[1]
	mend := breakAudit(t, r)
	for _, path := range []string{"/calls?number=07700900123", "/calls/c1", "/calls/export.csv?number=07700900123", src} {
		resp, body := b.do("GET", path, nil, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "The audit log cannot be written just now") ||
			strings.Contains(body, "900123") || strings.Contains(resp.Header.Get("Content-Type"), "audio") {
			t.Errorf("%s with the audit broken: %s %s", path, resp.Status, resp.Header.Get("Content-Type"))
		}
	}
	mend()
	if resp, _ := b.get(src, "bytes=0-"); resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("the play after the audit mended: %s", resp.Status)
	}
	if n := len(r.audit(server.AuditPlay)); n != 1 {
		t.Errorf("%d plays audited, want the one served", n)
	}
}

// TestADisabledAccountsSessionStops: disabling an account ends its open
// sessions at their next request; a role change applies at once.
func TestADisabledAccountsSessionStops(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("sue", server.RoleSupervisor)
	b := r.browser()
	b.signIn("sue")
	ctx := context.Background()
	if _, err := r.srv.Store().SetRole(ctx, "sue", server.RoleAgent); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after sue became an officer: %s, want 403", resp.Status)
	}
	if err := r.srv.Store().SetUserDisabled(ctx, "sue", true); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a disabled account's session: %s, want the sign-in page", resp.Status)
	}
}

// TestAnErasedNumberIsNotFound: after an erasure by number, a search for
// that number in any form finds nothing (the E.164 copy is erased with the
// number).
func TestAnErasedNumberIsNotFound(t *testing.T) {
	r := newRig(t, "", nil)
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: day})
	r.user("dee", server.RoleDPO)
	u, _, err := r.srv.Store().UserByName(context.Background(), "dee")
	if err != nil {
		t.Fatal(err)
	}
	b := r.browser()
	b.signIn("dee")
	if _, body := b.do("GET", "/calls?number=07700+900123", nil, nil); !strings.Contains(body, `href="/calls/c1"`) {
		t.Fatal("the call is not found before the erasure")
	}
	p := server.Principal{UserID: u.ID, Username: "dee", Role: server.RoleDPO}
	if _, err := r.srv.Protect().RequestErasure(context.Background(), p, "+447700900123", "test"); err != nil {
		t.Fatal(err)
	}
	if _, body := b.do("GET", "/calls?number=07700+900123", nil, nil); strings.Contains(body, `href="/calls/c1"`) || !strings.Contains(body, "No calls match") {
		t.Fatalf("the erased number is still found:\n%s", body)
	}
}
