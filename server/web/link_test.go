package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

// link asks the API for a one-time link with the desktop's token.
func (d *desktop) link() (*http.Response, string) {
	d.t.Helper()
	resp, body := d.api("POST", "/api/v1/workspace/link", nil)
	var l struct {
		URL string `json:"url"`
	}
	json.Unmarshal(body, &l)
	return resp, l.URL
}

// open opens url (a full link on the rig) in the browser.
func (b *browser) open(link string) *http.Response {
	b.t.Helper()
	resp, _ := b.do("GET", strings.TrimPrefix(link, b.r.base), nil, nil)
	return resp
}

func TestDesktopLinkSignsInOnce(t *testing.T) {
	clk := &clock{t: time.Now()}
	r := newRig(t, "", clk)
	r.user("sue", server.RoleSupervisor)
	sue := &desktop{t: t, r: r, agent: "sue", token: r.enrol("sue")}
	resp, link := sue.link()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(link, r.base+"/link/") {
		t.Fatalf("link: %s %q", resp.Status, link)
	}
	b := r.browser()
	if resp := b.open(link); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("opening the link: %s → %s", resp.Status, resp.Header.Get("Location"))
	}
	if resp, body := b.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "sue") {
		t.Fatalf("after the link: %s", resp.Status)
	}
	// The same link again, in another browser (someone who saw it).
	other := r.browser()
	if resp := other.open(link); resp.Header.Get("Location") != "/signin?why=link" {
		t.Fatalf("a reused link: %s → %s, want the sign-in page", resp.Status, resp.Header.Get("Location"))
	}
	if resp, _ := other.do("GET", "/calls", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the reused link signed a browser in: %s", resp.Status)
	}
	// A link opened after its 60 s.
	_, late := sue.link()
	clk.Add(61 * time.Second)
	if resp := r.browser().open(late); resp.Header.Get("Location") != "/signin?why=link" {
		t.Fatalf("an expired link: %s → %s", resp.Status, resp.Header.Get("Location"))
	}
	// A made-up one.
	if resp := r.browser().open(r.base + "/link/" + strings.Repeat("A", 43)); resp.Header.Get("Location") != "/signin?why=link" {
		t.Fatalf("a made-up link: %s", resp.Status)
	}
	if n := len(r.audit(server.AuditLinkIssue)); n != 2 {
		t.Errorf("%d links audited, want 2", n)
	}
	var whys []string
	for _, rec := range r.audit(server.AuditLinkRefused) {
		var d map[string]any
		json.Unmarshal([]byte(rec.Detail), &d)
		whys = append(whys, d["why"].(string))
	}
	if strings.Join(whys, ",") != "already used,expired,unknown" {
		t.Errorf("refused links audited as %v", whys)
	}
}

func TestDesktopLinkIsNotForAgents(t *testing.T) {
	r := newRig(t, "", nil)
	olive := r.desktop("olive")
	if resp, link := olive.link(); resp.StatusCode != http.StatusForbidden || link != "" {
		t.Fatalf("an agent's link: %s %q, want 403", resp.Status, link)
	}
}

func TestDesktopLinkStopsForADisabledAccount(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("sue", server.RoleSupervisor)
	sue := &desktop{t: t, r: r, agent: "sue", token: r.enrol("sue")}
	_, link := sue.link()
	if err := r.srv.Store().SetUserDisabled(t.Context(), "sue", true); err != nil {
		t.Fatal(err)
	}
	if resp := r.browser().open(link); resp.Header.Get("Location") != "/signin?why=link" {
		t.Fatalf("a disabled account's link: %s → %s", resp.Status, resp.Header.Get("Location"))
	}
}
