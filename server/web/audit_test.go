package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// TestTheAuditPage: a dpo finds records by who, action (a prefix) and
// target, her search is audited; reversed dates are refused in words; the
// chain verifies from the page, and a record changed in the database
// (triggers dropped, as an attacker would) is found, at its number. A
// supervisor may not open the page.
func TestTheAuditPage(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, open(), nil)
			r.user("dee", server.RoleDPO)
			r.user("sue", server.RoleSupervisor)
			ctx := context.Background()
			st := r.srv.Store()
			for _, rec := range []server.AuditRecord{
				{Actor: "sue", Action: server.AuditPlay, Target: "call-aaa"},
				{Actor: "sue", Action: server.AuditDownload, Target: "call-aaa"},
				{Actor: "dee", Action: server.AuditHoldPlace, Target: "call-bbb"},
			} {
				if err := st.Audit(ctx, rec); err != nil {
					t.Fatal(err)
				}
			}
			b := r.browser()
			b.signIn("dee")
			for q, want := range map[string][]string{
				"actor=sue&action=recording.":               {server.AuditPlay, server.AuditDownload},
				"call=call-bbb":                             {server.AuditHoldPlace},
				"actor=sue&action=recording.play":           {server.AuditPlay},
				"actor=nobody-of-that-name&from=2000-01-01": nil,
			} {
				resp, body := b.do("GET", "/audit?"+q, nil, nil)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: %s", q, resp.Status)
				}
				rows := strings.Count(body, `<tr><td data-label="No.">`)
				if rows != len(want) {
					t.Errorf("%s: %d rows, want %v", q, rows, want)
				}
				for _, a := range want {
					if !strings.Contains(body, `<td data-label="Action">`+a+"</td>") {
						t.Errorf("%s: no %s row", q, a)
					}
				}
			}
			if n := len(r.audit(server.AuditSearch)); n != 4 {
				t.Errorf("%d searches audited, want 4", n)
			}
			resp, body := b.do("GET", "/audit?from=2026-03-02&to=2026-03-01", nil, nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "wrong way round") {
				t.Errorf("reversed dates: %s", resp.Status)
			}

			if _, err := st.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			resp, body = b.do("POST", "/audit/verify", url.Values{"csrf": {b.csrf}}, nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "The audit chain is whole") || !strings.Contains(body, "against the server's own key") {
				t.Fatalf("verify: %s\n%s", resp.Status, body)
			}
			if n := len(r.audit(server.AuditVerify)); n != 1 {
				t.Errorf("%d verifications audited, want 1", n)
			}

			dropTriggers(t, st)
			if _, err := st.DB().Exec(`UPDATE audit SET actor = 'someone-else' WHERE seq = 2`); err != nil {
				t.Fatal(err)
			}
			resp, body = b.do("POST", "/audit/verify", url.Values{"csrf": {b.csrf}}, nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "The audit chain is broken at record 2") {
				t.Fatalf("verify after tampering: %s\n%s", resp.Status, body)
			}

			sue := r.browser()
			sue.signIn("sue")
			if resp, _ := sue.do("GET", "/audit?actor=dee", nil, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("a supervisor opened the audit page: %s", resp.Status)
			}
		})
	}
}

// dropTriggers does what an attacker with the database would do first.
func dropTriggers(t *testing.T, st *store.Store) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_no_update`, `DROP TRIGGER audit_no_delete`}
	if st.Dialect() == store.PostgreSQL {
		stmts = []string{`DROP TRIGGER audit_no_change ON audit`}
	}
	for _, q := range stmts {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}
