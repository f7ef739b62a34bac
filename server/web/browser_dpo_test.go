package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
)

// shot200 is shot at 200 % zoom.
func shot200(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	testrig.Screenshot(t, ctx, path, 2)
	keep(t, path, name)
}

// readableAt200 checks the page chromium shows as a person using zoom or a
// screen reader needs it: every control has a label, every table cell
// names its column (the tables reflow into one block a row at 200 %), and
// at 200 % zoom nothing is wider than the window. It keeps the page at
// 200 % as docs/screenshots/workspace-<name>-200.png.
func readableAt200(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](unlabelled))
	if err != nil || len(bad) > 0 {
		t.Errorf("%s: controls without a label: %v %v", name, bad, err)
	}
	unnamed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table td:not([data-label]):not([colspan])")]
		.map(e => (e.closest("table").id || "table") + ": " + (e.textContent || "").trim().slice(0, 30))`))
	if err != nil || len(unnamed) > 0 {
		t.Errorf("%s: table cells that do not name their column (at 200 %% they stand bare): %q %v", name, unnamed[:min(len(unnamed), 5)], err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(640, 450, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")]
		.filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
		.map(e => e.tagName + (e.id ? "#" + e.id : "") + " " + (e.textContent || "").trim().slice(0, 30))`))
	if err != nil || len(wide) > 0 {
		t.Errorf("%s at 200 %%: wider than the window: %s %v", name, strings.Join(wide[:min(len(wide), 5)], "; "), err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	shot200(t, ctx, "workspace-"+name+"-200.png")
}

// keep copies a screenshot to docs/screenshots with
// CALLGUARD_UPDATE_SCREENSHOTS=1.
func keep(t *testing.T, path, name string) {
	t.Helper()
	if os.Getenv("CALLGUARD_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// shot saves what the tab shows; with CALLGUARD_UPDATE_SCREENSHOTS=1 it
// also goes to docs/screenshots/name, for the guides.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	testrig.Screenshot(t, ctx, path, 1)
	keep(t, path, name)
}

func signOutWithChromium(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click("form.signout button"), chromedp.WaitVisible("#username")); err != nil {
		t.Fatalf("sign out: %v", err)
	}
}

// submit clicks sel, a button that sends a form, and waits until the page
// the server answers with has loaded: what is read next is that page, never
// the one the click is leaving (which may still show a notice of its own).
func submit(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
		return err
	})
}

// text is the text of the first element sel matches, once it is visible.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(sel)); err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return s
}

// TestBrowserThirdPartyRelease is the whole of NWH's release procedure in
// chromium: the team leader fills in the form (a date in the future is
// refused on the page), a dpo whose job role the appendix does not list
// is refused, the Data Protection Officer authorises, and the team leader
// downloads the package, whose every file matches its SHA256SUMS.
func TestBrowserThirdPartyRelease(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			id, _ := age.GenerateX25519Identity()
			r := newRig(t, open(), nil, withOrg(nwh(t), id))
			for _, u := range []struct {
				name string
				role server.Role
				job  string
			}{{"sue", server.RoleSupervisor, "Customer Service Team Leader"}, {"dee", server.RoleDPO, "Customer Service Advisor"}, {"dan", server.RoleDPO, "Data Protection Officer"}} {
				r.user(u.name, u.role)
				r.jobRole(u.name, u.job)
			}
			r.recordedCall(id, "police-1", "olive", "+441632960123", time.Now().Add(-2*time.Hour))
			ctx := testrig.Chromium(t)
			ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()
			today := time.Now().Format(time.DateOnly)

			signInWithChromium(t, ctx, r.base, "sue")
			err := chromedp.Do(ctx,
				chromedp.Navigate(r.base+"/releases/new?call=police-1"),
				chromedp.WaitVisible("#requester"),
				chromedp.SetValue("#call_date", today),
				chromedp.SetValue("#call_time", "10:00"),
				chromedp.SendKeys("#number", "01632 960123"),
				chromedp.SendKeys("#requester", "PC 1234 Jones, North Wales Police"),
				chromedp.SetValue("#purpose", "crime"),
				chromedp.SetValue("#requested_on", "2999-01-01"),
				chromedp.SendKeys("#recipient_name", "Gareth Jones"),
				chromedp.SendKeys("#recipient_title", "Police Constable"),
				submit("form.release-form button[type=submit]"),
			)
			if err != nil {
				t.Fatal(err)
			}
			if p := text(t, ctx, "#form-problems"); !strings.Contains(p, "2999-01-01 is in the future") {
				t.Fatalf("a request dated in the future: %q", p)
			}
			shot(t, ctx, "workspace-release-form.png")
			err = chromedp.Do(ctx, chromedp.SetValue("#requested_on", today), submit("form.release-form button[type=submit]"), chromedp.WaitVisible("#release-state"))
			if err != nil {
				t.Fatal(err)
			}
			page, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil {
				t.Fatal(err)
			}
			page = strings.SplitN(page, "?", 2)[0]
			if s := text(t, ctx, "#release-state"); s != server.ReleaseRequested {
				t.Fatalf("after entering: %q", s)
			}
			signOutWithChromium(t, ctx)

			signInWithChromium(t, ctx, r.base, "dee")
			if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible("#authorise"), submit("#authorise")); err != nil {
				t.Fatal(err)
			}
			if p := text(t, ctx, "#release-problem"); !strings.Contains(p, "Customer Service Advisor") {
				t.Fatalf("the wrong job role authorises: %q", p)
			}
			if s := text(t, ctx, "#release-state"); s != server.ReleaseRequested {
				t.Fatalf("after the refusal: %q", s)
			}
			shot(t, ctx, "workspace-release-refused.png")
			signOutWithChromium(t, ctx)

			signInWithChromium(t, ctx, r.base, "dan")
			if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible("#authorise"), submit("#authorise"), chromedp.WaitVisible("#package")); err != nil {
				t.Fatal(err)
			}
			if s := text(t, ctx, "#release-state"); s != server.ReleaseAuthorised {
				t.Fatalf("after the Data Protection Officer: %q", s)
			}
			signOutWithChromium(t, ctx)

			signInWithChromium(t, ctx, r.base, "sue")
			dir := t.TempDir()
			dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
			defer dcancel()
			progress := chromedp.Events(dctx, cdpbrowser.DownloadProgress)
			yes := true
			err = chromedp.Do(ctx,
				chromedp.Navigate(page),
				chromedp.WaitVisible("#package"),
				chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
					_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
						Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &yes})
					return err
				}),
				chromedp.Click("#package"),
			)
			if err != nil {
				t.Fatal(err)
			}
			var zipped []byte
			for ev, err := range progress {
				if err != nil {
					t.Fatalf("download: %v", err)
				}
				if ev.State == cdpbrowser.DownloadProgressStateCanceled {
					t.Fatal("the download was cancelled")
				}
				if ev.State == cdpbrowser.DownloadProgressStateCompleted {
					if zipped, err = os.ReadFile(filepath.Join(dir, ev.GUID)); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
			files := unzipAll(t, zipped)
			checkSHA256SUMS(t, files)
			if _, ok := files["recordings/police-1.wav"]; !ok {
				t.Errorf("the package holds %v", keys(files))
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible("#release-state")); err != nil {
				t.Fatal(err)
			}
			if s := text(t, ctx, "#release-state"); s != server.ReleaseReleased {
				t.Fatalf("after the download: %q", s)
			}
			shot(t, ctx, "workspace-release.png")
			if err := chromedp.Do(ctx, chromedp.Navigate(r.base+"/releases?number="+"%2B44+1632+960123"), chromedp.WaitVisible("#releases")); err != nil {
				t.Fatal(err)
			}
			if row := text(t, ctx, "#releases tbody"); !strings.Contains(row, "PC 1234 Jones") || !strings.Contains(row, "released") {
				t.Errorf("the register: %q", row)
			}
			shot(t, ctx, "workspace-releases.png")
			if n := len(r.audit(server.AuditReleasePackage)); n != 1 {
				t.Errorf("%d package records in the audit, want 1", n)
			}
		})
	}
}

// TestBrowserHoldAndAudit: in chromium a dpo places a hold and asks to
// lift it, a second dpo lifts it; then the audit is searched for what the
// first did and the chain verified from the page.
func TestBrowserHoldAndAudit(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			id, _ := age.GenerateX25519Identity()
			r := newRig(t, open(), nil, withOrg(nwh(t), id))
			r.user("dee", server.RoleDPO)
			r.user("dan", server.RoleDPO)
			r.recordedCall(id, "complaint-1", "olive", "+441632960555", time.Now().Add(-time.Hour))
			ctx := testrig.Chromium(t)
			ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()

			signInWithChromium(t, ctx, r.base, "dee")
			err := chromedp.Do(ctx,
				chromedp.Navigate(r.base+"/holds"),
				chromedp.WaitVisible("#place"),
				chromedp.SendKeys("#value", "complaint-1"),
				chromedp.SendKeys("#owner", "Complaints team"),
				chromedp.SetValue("#review_at", time.Now().AddDate(0, 1, 0).Format(time.DateOnly)),
				submit("#place"),
			)
			if err != nil {
				t.Fatal(err)
			}
			if n := text(t, ctx, ".notice"); !strings.Contains(n, "is placed") {
				t.Fatalf("after placing: %q", n)
			}
			holds, err := r.srv.Store().Holds(context.Background(), false)
			if err != nil || len(holds) != 1 {
				t.Fatalf("holds %v %v", holds, err)
			}
			hid := strconv.FormatInt(holds[0].ID, 10)
			err = chromedp.Do(ctx, chromedp.SendKeys("#reason-"+hid, "complaint closed"), submit("#lift-"+hid))
			if err != nil {
				t.Fatal(err)
			}
			if n := text(t, ctx, ".notice"); !strings.Contains(n, "A second data-protection officer must now lift it") {
				t.Fatalf("after asking: %q", n)
			}
			if row := text(t, ctx, "#hold-"+hid); !strings.Contains(row, "lift asked") || !strings.Contains(row, "A second data-protection officer must lift it") {
				t.Errorf("the asker's row: %q", row)
			}
			shot(t, ctx, "workspace-holds.png")
			signOutWithChromium(t, ctx)

			signInWithChromium(t, ctx, r.base, "dan")
			if err := chromedp.Do(ctx, chromedp.Navigate(r.base+"/holds"), chromedp.WaitVisible("#lift-"+hid), submit("#lift-"+hid)); err != nil {
				t.Fatal(err)
			}
			if n := text(t, ctx, ".notice"); !strings.Contains(n, "is lifted") {
				t.Fatalf("after the second dpo: %q", n)
			}
			if h, _ := r.srv.Store().Hold(context.Background(), holds[0].ID); h.Lifted == nil || h.LiftedBy != "dan" {
				t.Fatalf("hold after the second dpo: %+v", h)
			}

			if _, err := r.srv.Store().Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
			err = chromedp.Do(ctx,
				chromedp.Navigate(r.base+"/audit"),
				chromedp.WaitVisible("#actor"),
				chromedp.SendKeys("#actor", "dee"),
				chromedp.SendKeys("#action", "hold."),
				submit("form.filters button[type=submit]"),
				chromedp.WaitVisible("#audit-records"),
			)
			if err != nil {
				t.Fatal(err)
			}
			if rows := text(t, ctx, "#audit-records tbody"); !strings.Contains(rows, server.AuditHoldPlace) || !strings.Contains(rows, server.AuditHoldLiftRequest) || strings.Contains(rows, "dan") {
				t.Errorf("dee's hold actions: %q", rows)
			}
			if err := chromedp.Do(ctx, submit("#verify")); err != nil {
				t.Fatal(err)
			}
			if v := text(t, ctx, "#verify-result"); !strings.Contains(v, "The audit chain is whole") {
				t.Errorf("verify: %q", v)
			}
			if rows := text(t, ctx, "#audit-records tbody"); !strings.Contains(rows, server.AuditHoldPlace) {
				t.Errorf("the search's results went with the verification: %q", rows)
			}
			shot(t, ctx, "workspace-audit.png")
		})
	}
}
