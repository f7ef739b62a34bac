package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callguard/callguard/server"
)

// TestCollectorHasNoWorkspace: a collector's account reads nothing, so the
// workspace refuses its sign-in (audited), its one-time links, and the
// session of an account made a collector after it signed in.
func TestCollectorHasNoWorkspace(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("col", server.RoleCollector)
	b := r.browser()
	b.do("GET", "/signin", nil, nil)
	resp, body := b.do("POST", "/signin", url.Values{"csrf": {b.csrf}, "username": {"col"}, "password": {"password-col"}, "next": {"/"}}, nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "it has no workspace") {
		t.Fatalf("a collector's sign-in: %s", resp.Status)
	}
	refused := false
	for _, rec := range r.audit(server.AuditLoginFailed) {
		refused = refused || (rec.Target == "col" && strings.Contains(rec.Detail, "collector"))
	}
	if !refused {
		t.Fatal("the collector's sign-in was not audited as refused")
	}
	for _, path := range []string{"/", "/calls", "/audit"} {
		if resp, _ := b.do("GET", path, nil, nil); resp.StatusCode == http.StatusOK {
			t.Fatalf("%s opens without a session", path)
		}
	}

	col := &desktop{t: t, r: r, agent: "col", token: r.enrol("col")}
	if resp, link := col.link(); resp.StatusCode != http.StatusForbidden || link != "" {
		t.Fatalf("a collector's link: %s %q, want 403", resp.Status, link)
	}

	// A supervisor signed in, then made a collector: the session ends.
	r.user("sue", server.RoleSupervisor)
	sue := r.browser()
	sue.signIn("sue")
	if _, err := r.srv.Store().SetRole(context.Background(), "sue", server.RoleCollector); err != nil {
		t.Fatal(err)
	}
	resp, _ = sue.do("GET", "/calls", nil, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin") {
		t.Fatalf("the session of an account made a collector: %s %q", resp.Status, loc)
	}
}
