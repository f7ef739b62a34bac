package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/callguard/callguard/server"
)

// TestEveryPageRefusesTheRolesNotInItsRow walks the one table of pages and
// actions: each role opens every page it is not listed for and gets the
// 403 page, audited. An agent gets no supervisor or dpo page at all.
func TestEveryPageRefusesTheRolesNotInItsRow(t *testing.T) {
	r := newRig(t, "", nil)
	pages := r.srv.Web().Pages()
	if len(pages) == 0 {
		t.Fatal("no pages")
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, role := range server.Roles {
		if role == server.RoleCollector {
			continue // it cannot sign in at all (TestCollectorHasNoWorkspace)
		}
		name := "u-" + string(role)
		r.user(name, role)
		b := r.browser()
		b.signIn(name)
		refused := 0
		for _, p := range pages {
			method, path, _ := strings.Cut(p.Pattern, " ")
			path = param.ReplaceAllString(path, "0123456789abcdef0123456789abcdef")
			path = strings.TrimSuffix(path, "{$}")
			allowed := role.In(p.Roles...)
			if role == server.RoleAgent && allowed {
				t.Errorf("%s is open to agents: the workspace has no page for them", p.Pattern)
			}
			if allowed {
				continue
			}
			var form url.Values
			if method != "GET" {
				form = url.Values{"csrf": {b.csrf}}
			}
			resp, body := b.do(method, path, form, nil)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not open to your role") {
				t.Errorf("%s opens %s %s: %s, want 403 with words", role, method, path, resp.Status)
			}
			if p.Nav != "" && strings.Contains(body, `href="`+p.NavPath+`"`) {
				t.Errorf("%s's menu links to %s", role, p.NavPath)
			}
			refused++
		}
		denied := 0
		for _, rec := range r.audit(server.AuditAuthzDenied) {
			if rec.Actor == name {
				denied++
			}
		}
		if denied != min(refused, server.AuditDenialsPerMinute) && denied != refused {
			t.Errorf("%s: %d refusals audited, want %d", role, denied, refused)
		}
	}
}
