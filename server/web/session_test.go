package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

func TestSignInShowsOnlyTheRolesPages(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("sue", server.RoleSupervisor)
	b := r.browser()
	resp, _ := b.do("GET", "/calls", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=%2Fcalls") {
		t.Fatalf("a page without a session: %s → %q, want the sign-in page", resp.Status, resp.Header.Get("Location"))
	}
	b.signIn("sue")
	resp, body := b.do("GET", "/calls", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/calls" aria-current="page"`) || !strings.Contains(body, "sue") {
		t.Fatalf("calls page after sign-in: %s\n%s", resp.Status, body)
	}
	if got := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(got, "default-src 'self'") {
		t.Errorf("CSP = %q", got)
	}
	if len(r.audit(server.AuditLogin)) != 1 {
		t.Errorf("sign-in audited %d times, want 1", len(r.audit(server.AuditLogin)))
	}
}

func TestSessionCookie(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("sue", server.RoleSupervisor)
	for _, tc := range []struct {
		name, host string
		secure     bool
		cookie     string
	}{
		{"loopback without TLS", "", false, "callguard-session"},
		// Behind a TLS proxy the Host is the site's name: Secure, __Host-.
		{"a site's name", "workspace.example.org", true, "__Host-callguard-session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := r.browser()
			hdr := map[string]string{}
			if tc.host != "" {
				hdr["Host"] = tc.host
			}
			get, _ := http.NewRequest("GET", r.base+"/signin", nil)
			if tc.host != "" {
				get.Host = tc.host
			}
			resp, err := b.c.Do(get)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var signin *http.Cookie
			for _, c := range resp.Cookies() {
				signin = c
			}
			if signin == nil {
				t.Fatal("no sign-in cookie")
			}
			form := url.Values{"csrf": {signin.Value}, "username": {"sue"}, "password": {"password-sue"}}
			post, _ := http.NewRequest("POST", r.base+"/signin", strings.NewReader(form.Encode()))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			post.AddCookie(signin)
			if tc.host != "" {
				post.Host = tc.host
			}
			resp, err = b.c.Do(post)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var sess *http.Cookie
			for _, c := range resp.Cookies() {
				if strings.HasSuffix(c.Name, "callguard-session") {
					sess = c
				}
			}
			if resp.StatusCode != http.StatusSeeOther || sess == nil {
				t.Fatalf("sign-in: %s, cookies %v", resp.Status, resp.Cookies())
			}
			if sess.Name != tc.cookie || sess.Secure != tc.secure || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" || sess.Domain != "" {
				t.Errorf("session cookie %+v: want %s, Secure %v, HttpOnly, SameSite=Strict, Path=/, no Domain", sess, tc.cookie, tc.secure)
			}
		})
	}
}

func TestSessionAfterSignOutIsRefused(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("sue", server.RoleSupervisor)
	b := r.browser()
	b.signIn("sue")
	u, _ := url.Parse(r.base)
	stolen := b.c.Jar.Cookies(u)
	resp, _ := b.do("POST", "/signout", url.Values{"csrf": {b.csrf}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?why=signed-out" {
		t.Fatalf("sign out: %s → %s", resp.Status, resp.Header.Get("Location"))
	}
	// The cookie as it was before sign-out, replayed (copied, or from a
	// browser that ignored the deletion).
	replay := r.browser()
	replay.c.Jar.SetCookies(u, stolen)
	resp, _ = replay.do("GET", "/calls", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Fatalf("the signed-out session's cookie: %s, want the sign-in page", resp.Status)
	}
	if n := len(r.audit(server.AuditLogout)); n != 1 {
		t.Errorf("%d logout records, want 1", n)
	}
}

func TestSessionExpires(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	r := newRig(t, "", clk)
	r.user("sue", server.RoleSupervisor)

	idle := r.browser()
	idle.signIn("sue")
	clk.Add(29 * time.Minute)
	if resp, _ := idle.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after 29 min idle: %s, want the page", resp.Status)
	}
	clk.Add(29 * time.Minute) // 29 min after the last request
	if resp, _ := idle.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("29 min after the last request: %s, want the page (activity moves the idle expiry on)", resp.Status)
	}
	clk.Add(31 * time.Minute)
	if resp, _ := idle.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("31 min idle: %s, want the sign-in page", resp.Status)
	}

	busy := r.browser()
	busy.signIn("sue")
	for range 12*3 - 1 { // a request every 20 min for 11 h 40 min
		clk.Add(20 * time.Minute)
		if resp, _ := busy.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("busy session at %v: %s", clk.Now(), resp.Status)
		}
	}
	clk.Add(20 * time.Minute) // 12 h after sign-in
	if resp, _ := busy.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("12 h after sign-in: %s, want the sign-in page (absolute expiry)", resp.Status)
	}
}

func TestFormWithoutCSRFTokenIsRefused(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("sue", server.RoleSupervisor)
	b := r.browser()
	b.signIn("sue")
	for name, form := range map[string]url.Values{
		"no token":    {},
		"wrong token": {"csrf": {"x" + b.csrf[1:]}},
		"empty token": {"csrf": {""}},
	} {
		resp, body := b.do("POST", "/signout", form, nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not sent from this workspace") {
			t.Errorf("%s: %s, want 403 with words", name, resp.Status)
		}
	}
	if resp, _ := b.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session after refused sign-outs: %s, want it still signed in", resp.Status)
	}
	// The sign-in form too: no token, or one not matching its cookie.
	other := r.browser()
	other.do("GET", "/signin", nil, nil)
	resp, _ := other.do("POST", "/signin", url.Values{"csrf": {"forged"}, "username": {"sue"}, "password": {"password-sue"}}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with a forged token: %s, want 403", resp.Status)
	}
}

func TestFormFromAnotherOriginIsRefused(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("sue", server.RoleSupervisor)
	b := r.browser()
	b.signIn("sue")
	for name, hdr := range map[string]map[string]string{
		"Origin of another site":       {"Origin": "https://evil.example"},
		"Origin with another port":     {"Origin": "http://127.0.0.1:1"},
		"Origin with another scheme":   {"Origin": strings.Replace(r.base, "http:", "https:", 1)},
		"Sec-Fetch-Site cross-site":    {"Sec-Fetch-Site": "cross-site", "Origin": ""},
		"Sec-Fetch-Site same-site":     {"Sec-Fetch-Site": "same-site", "Origin": ""},
		"null Origin (sandboxed page)": {"Origin": "null"},
	} {
		resp, _ := b.do("POST", "/signout", url.Values{"csrf": {b.csrf}}, hdr)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s, want 403", name, resp.Status)
		}
	}
	if resp, _ := b.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after refused cross-origin posts: %s, want still signed in", resp.Status)
	}
}

func TestCookieOfAnotherServerIsRefused(t *testing.T) {
	a, other := newRig(t, "", nil), newRig(t, "", nil)
	a.user("sue", server.RoleSupervisor)
	other.user("sue", server.RoleSupervisor)
	b := other.browser()
	b.signIn("sue")
	ou, _ := url.Parse(other.base)
	au, _ := url.Parse(a.base)
	cookies := b.c.Jar.Cookies(ou)
	if len(cookies) == 0 {
		t.Fatal("no cookie")
	}
	thief := a.browser()
	thief.c.Jar.SetCookies(au, cookies)
	if resp, _ := thief.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("another server's session cookie: %s, want the sign-in page", resp.Status)
	}
	// A made-up cookie of the right shape.
	fake := a.browser()
	fake.c.Jar.SetCookies(au, []*http.Cookie{{Name: "callguard-session", Value: strings.Repeat("A", 43)}})
	if resp, _ := fake.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a made-up cookie: %s, want the sign-in page", resp.Status)
	}
}

func TestWrongPasswordsAreSlowedDownWithTheAPI(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("sue", server.RoleSupervisor)
	b := r.browser()
	for i := range 3 {
		b.do("GET", "/signin", nil, nil)
		resp, body := b.do("POST", "/signin", url.Values{"csrf": {b.csrf}, "username": {"sue"}, "password": {"wrong-password"}}, nil)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong username or password") {
			t.Fatalf("wrong password %d: %s", i, resp.Status)
		}
	}
	// The fourth try, over the API, is slowed down by the same limiter.
	resp, err := http.Post(r.base+"/api/v1/enroll", "application/json", strings.NewReader(`{"username":"sue","password":"wrong-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("fourth wrong password over the API: %s, want 401", resp.Status)
	}
	b.do("GET", "/signin", nil, nil)
	resp2, body := b.do("POST", "/signin", url.Values{"csrf": {b.csrf}, "username": {"sue"}, "password": {"password-sue"}}, nil)
	if resp2.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") {
		t.Fatalf("right password right after four wrong ones: %s, want 429 with words", resp2.Status)
	}
	if n := len(r.audit(server.AuditLoginFailed)); n != 4 {
		t.Errorf("%d failed logins audited, want 4", n)
	}
}

func TestErrorPagesHaveWordsNotTraces(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("sue", server.RoleSupervisor)
	b := r.browser()
	b.signIn("sue")
	resp, body := b.do("GET", "/no/such/page", nil, nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "There is no page at this address") || strings.Contains(body, "goroutine") {
		t.Fatalf("unknown page: %s\n%s", resp.Status, body)
	}
	// The API keeps answering in JSON beside the workspace.
	resp, body = b.do("GET", "/api/v1/nothing", nil, nil)
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(body, `{"error"`) {
		t.Fatalf("unknown API route: %s %s", resp.Status, body)
	}
}

func TestNextAfterSignInStaysOnThisServer(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("sue", server.RoleSupervisor)
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		b := r.browser()
		b.do("GET", "/signin", nil, nil)
		resp, _ := b.do("POST", "/signin", url.Values{"csrf": {b.csrf}, "username": {"sue"}, "password": {"password-sue"}, "next": {next}}, nil)
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q: sent to %q, want /", next, loc)
		}
	}
}
