package web_test

import (
	"context"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/chromedp/chromedp"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
)

// TestBrowserDPOPagesAreLabelledAndReadableAt200 opens each dpo and
// release page in chromium, with something on it: every control has a
// label, and at 200 % zoom (half the CSS width) no page is wider than the
// window, so nothing needs scrolling sideways. Each is saved at 200 % as
// workspace-<page>-200.png.
func TestBrowserDPOPagesAreLabelledAndReadableAt200(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	r := newRig(t, "", nil, withOrg(nwh(t), id))
	r.user("dee", server.RoleDPO)
	r.user("sue", server.RoleSupervisor)
	r.jobRole("dee", "Data Protection Officer")
	r.recordedCall(id, "a11y-1", "olive", "+441632960123", time.Now().Add(-2*time.Hour))
	r.flaggedCall("a11y-2", "olive", "+441632960124", time.Now().Add(-time.Hour))
	ctx := context.Background()
	st := r.srv.Store()
	pol := nwh(t)
	pu := pol.Release.Purposes[1]
	rel, err := st.CreateRelease(ctx, server.Release{CallDate: time.Now().Format(time.DateOnly), Number: "01632 960123", Calls: []string{"a11y-1"},
		Requester: "PC 1234 Jones, North Wales Police", Purpose: pu.ID, PurposeLabel: pu.Label, LawfulBasis: pu.LawfulBasis,
		RequestedOn: time.Now().Format(time.DateOnly), RecipientName: "Gareth Jones", RecipientTitle: "Police Constable"}, "sue")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PlaceHold(ctx, server.Hold{Number: "+441632960124", Reason: server.HoldComplaint, Owner: "Complaints team"}, "dee"); err != nil {
		t.Fatal(err)
	}

	bctx := testrig.Chromium(t)
	bctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	signInWithChromium(t, bctx, r.base, "dee")
	for _, p := range []struct{ name, path, wait string }{
		{"releases", "/releases?q=jones", "#releases"},
		{"release-new", "/releases/new?call=a11y-1", "#requester"},
		{"release-page", "/releases/" + itoa(rel.ID), "#authorise"},
		{"review", "/review", "#review"},
		{"holds", "/holds", "#holds"},
		{"retention", "/retention?days=120", "#due"},
		{"erasures", "/erasures", "#erasures"},
		{"audit", "/audit?actor=dee", "#audit-records"},
	} {
		if err := chromedp.Do(bctx, chromedp.Navigate(r.base+p.path), chromedp.WaitVisible(p.wait)); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		readableAt200(t, bctx, p.name)
	}
}
