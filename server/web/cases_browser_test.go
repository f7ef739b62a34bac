package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
)

// TestBrowserSubjectAccessJourney: a whole subject-access request in
// chromium: a dpo opens a case from the menu (a bad form first, refused in
// words), sees the calls it finds, extends the deadline with a reason and
// marks it sent from the keyboard (Enter in the form), downloads the
// bundle through the browser, whose every file matches SHA256SUMS, and
// closes it; the list shows overdue cases first. Screenshots into
// docs/screenshots/ (from the SQLite run).
func TestBrowserSubjectAccessJourney(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			r := newSARRig(t, open())
			// Two other dpo's cases, one overdue, for the list.
			other := r.browser()
			other.signIn("dan")
			for _, received := range []string{"2026-02-07", "2026-03-01"} {
				resp, _ := other.do("POST", "/cases", url.Values{"csrf": {other.csrf}, "requester_name": {"Requester of " + received},
					"requester_contact": {"by email"}, "identity_method": {"driving licence"}, "identity_checked_by": {"dan"},
					"received": {received}, "numbers": {"+44 1632 960555"}}, nil)
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("open a case: %s", resp.Status)
				}
			}
			shots := ""
			if db == "sqlite" && os.Getenv("CALLGUARD_UPDATE_SCREENSHOTS") == "1" {
				shots = filepath.Join(repoRoot(t), "docs", "screenshots")
			}
			shot := func(ctx context.Context, name string, zoom float64) {
				t.Helper()
				// Every control named for a screen reader (unlabelled: screenshots_test.go).
				if bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](unlabelled)); err != nil || len(bad) > 0 {
					t.Errorf("%s: controls without a label: %v %v", name, bad, err)
				}
				if shots != "" {
					testrig.Screenshot(t, ctx, filepath.Join(shots, name), zoom)
				}
			}

			ctx := testrig.Chromium(t)
			ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
			defer cancel()
			signInWithChromium(t, ctx, r.base, "dora")
			step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, actions...); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			// until waits for the page the last click loaded to say want in
			// sel (the old page may still be showing for a moment).
			until := func(sel, want string) {
				t.Helper()
				var got string
				for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
					if got, _ = chromedp.Run(ctx, chromedp.Text(sel)); got == want {
						return
					}
				}
				t.Fatalf("%s says %q, want %q", sel, got, want)
			}
			text := func(sel string) string {
				t.Helper()
				s, err := chromedp.Run(ctx, chromedp.Text(sel))
				if err != nil {
					t.Fatalf("text of %s: %v", sel, err)
				}
				return s
			}

			step("the list from the menu", chromedp.Click(`nav a[href="/cases"]`), chromedp.WaitVisible(`a[href="/cases/new"]`))
			if first := text("tbody tr .countdown"); first != "1 day overdue" {
				t.Errorf("first case on the list: %q, want the overdue one", first)
			}
			step("the form", chromedp.Click(`a[href="/cases/new"]`), chromedp.WaitVisible("#requester_name"),
				chromedp.SendKeys("#requester_name", "Ann Caller"),
				chromedp.SendKeys("#requester_contact", "12 High Street, Bangor"),
				chromedp.SendKeys("#identity_method", "passport seen at the office"),
				chromedp.SetValue("#received", "2026-03-11"),
				chromedp.SendKeys("#reference", "SAR-2026-014"),
				chromedp.SendKeys("#numbers", "07700 900123\n0770 ABC"),
				chromedp.SetValue("#from", "2026-02-28"),
				chromedp.SetValue("#to", "2026-02-01"),
				chromedp.Click(`form.case-form button[type="submit"]`),
				chromedp.WaitVisible("#problems"))
			problems := text("#problems")
			for _, want := range []string{"in the future", "reversed", "is not a phone number"} {
				if !strings.Contains(problems, want) {
					t.Errorf("the page's problems %q lack %q", problems, want)
				}
			}
			shot(ctx, "sar-new-problems.png", 1)
			step("the form put right",
				chromedp.SetValue("#received", "2026-03-10"),
				chromedp.SetValue("#numbers", "07700 900123"),
				chromedp.SetValue("#from", "2026-02-01"),
				chromedp.SetValue("#to", "2026-02-28"),
				chromedp.Click(`form.case-form button[type="submit"]`),
				chromedp.WaitVisible("#calls"))
			if got := text("#status"); got != "open" {
				t.Errorf("status %q", got)
			}
			if got := text(".countdown"); got != "due in 31 days" {
				t.Errorf("countdown %q", got)
			}
			rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#calls tbody tr").length`))
			if err != nil || rows != 3 {
				t.Errorf("%d calls found, want 3 (%v)", rows, err)
			}
			step("extend", chromedp.SetValue("#deadline-new", "2026-05-11"), chromedp.SendKeys("#reason", "complex: calls on two lines\n"))
			until("#status", "extended")
			if got := text("#deadline"); got != "Mon 11 May 2026" {
				t.Errorf("after the extension: deadline %q", got)
			}
			shot(ctx, "sar-case.png", 1)
			shot(ctx, "sar-case-200.png", 2)

			dir := t.TempDir()
			progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
			events := true
			step("download the bundle",
				chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
					_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
						Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events})
					return err
				}),
				chromedp.Click("#bundle"))
			var zipped []byte
			for ev, err := range progress {
				if err != nil {
					t.Fatalf("download: %v", err)
				}
				if ev.State == cdpbrowser.DownloadProgressStateCanceled {
					t.Fatal("the download was cancelled")
				}
				if ev.State != cdpbrowser.DownloadProgressStateCompleted {
					continue
				}
				if zipped, err = os.ReadFile(filepath.Join(dir, ev.GUID)); err != nil {
					t.Fatal(err)
				}
				break
			}
			files, index := checkBundle(t, zipped)
			if len(index) != 3 || len(files) != 7 {
				t.Errorf("the downloaded bundle: %d index rows, %d files", len(index), len(files))
			}
			for i, row := range index {
				if row[8] != r.calls[i] || row[7] != "included" {
					t.Errorf("index row %d %q is not call %s with its recording", i, row, r.calls[i])
				}
			}

			step("mark it sent", chromedp.SendKeys("#send-note", "posted, recorded delivery\n"))
			until("#status", "sent")
			step("close it", chromedp.Click("#close button"))
			until("#status", "closed")
			history := text("#history")
			for _, want := range []string{"open → extended — complex: calls on two lines", "extended → sent — posted, recorded delivery", "sent → closed"} {
				if !strings.Contains(history, want) {
					t.Errorf("history %q lacks %q", history, want)
				}
			}
			step("the list", chromedp.Click(`nav a[href="/cases"]`), chromedp.WaitVisible(`a[href="/cases/new"]`))
			shot(ctx, "sar-cases.png", 1)

			var steps []string
			for _, rec := range r.audit("subject-access.") {
				if rec.Actor == "dora" {
					steps = append(steps, rec.Action)
				}
			}
			joined := strings.Join(steps, " ")
			for _, want := range []string{server.AuditSAROpen, server.AuditSARExtend, server.AuditSARBundle, server.AuditSARRecording, server.AuditSARStatus} {
				if !strings.Contains(joined, want) {
					t.Errorf("the audit lacks %s: %v", want, steps)
				}
			}
		})
	}
}

// repoRoot is the repository's top directory (where go.mod is).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
