package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
)

// unlabelled lists the page's controls a screen reader cannot name: every
// input and select needs a label (or an aria-label), every button a text.
const unlabelled = `[...document.querySelectorAll("input:not([type=hidden]), select, textarea, button, audio")]
	.filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-describedby") && !e.textContent.trim())
	.map(e => e.outerHTML.slice(0, 80))`

// TestBrowserScreenshotsAndAccessibility opens every page of the
// workspace in chromium, checks that each control has a label and that the
// calls search works from the keyboard alone, and saves each page at 100 %
// and 200 % zoom (into docs/screenshots with CALLGUARD_UPDATE_SCREENSHOTS=1).
func TestBrowserScreenshotsAndAccessibility(t *testing.T) {
	r := newRig(t, "", nil)
	olive, oscar := r.desktop("olive"), r.desktop("oscar")
	now := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: now, pause: true, flag: "health"})
	olive.call(callSpec{id: "c2", remote: "+441632960555", start: now.Add(10 * time.Minute), outbound: true})
	oscar.call(callSpec{id: "c3", remote: "+447700900123", start: now.Add(30 * time.Minute)})
	olive.upload("c1", 3)
	olive.heartbeat("paused", "payment")
	oscar.heartbeat("recording", "")
	r.user("dee", server.RoleDPO)
	r.user("amy", server.RoleAgent)

	dir := t.TempDir()
	if os.Getenv("CALLGUARD_UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
	}
	ctx := testrig.Chromium(t)
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	shoot := func(name string) {
		t.Helper()
		bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](unlabelled))
		if err != nil || len(bad) > 0 {
			t.Errorf("%s: controls without a label: %v %v", name, bad, err)
		}
		testrig.Screenshot(t, ctx, filepath.Join(dir, "workspace-"+name+".png"), 1)
		testrig.Screenshot(t, ctx, filepath.Join(dir, "workspace-"+name+"-200.png"), 2)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	do("sign-in page", chromedp.Navigate(r.base+"/calls"), chromedp.WaitVisible("#username"))
	shoot("signin")

	// Keyboard only: sign in, then search, with Tab, typing and Enter.
	focused := func() string {
		id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.tagName`))
		return id
	}
	if f := focused(); f != "username" {
		t.Errorf("the sign-in page starts with %q focused, want the username", f)
	}
	do("type the username", chromedp.KeyEvent("dee"), chromedp.KeyEvent("\t"))
	if f := focused(); f != "password" {
		t.Errorf("Tab from the username goes to %q", f)
	}
	do("type the password", chromedp.KeyEvent("password-dee"), chromedp.KeyEvent("\r"), chromedp.WaitVisible("#number"))
	do("tab to the number", chromedp.Focus("a.skip"))
	tabs := 0
	for ; tabs < 20 && focused() != "number"; tabs++ {
		do("tab", chromedp.KeyEvent("\t"))
	}
	if focused() != "number" {
		t.Fatalf("Tab never reaches the number field")
	}
	shoot("calls-form")
	do("search from the keyboard", chromedp.KeyEvent("07700 900123"), chromedp.KeyEvent("\r"), chromedp.WaitVisible("#summary"))
	if s, _ := chromedp.Run(ctx, chromedp.Text("#summary")); !strings.HasPrefix(s, "Calls with +447700900123: 2 calls") {
		t.Errorf("keyboard search: %q", s)
	}
	shoot("calls")
	do("a wrong search", chromedp.Navigate(r.base+"/calls?number=07700+9OO123&from=2026-03-05&to=2026-03-01"), chromedp.WaitVisible("#form-errors"))
	shoot("calls-errors")
	do("a call", chromedp.Navigate(r.base+"/calls/c1"), chromedp.WaitVisible("#player"))
	shoot("call")
	do("the live board", chromedp.Navigate(r.base+"/live"), chromedp.WaitVisible(`#board-rows tr[data-agent="olive"]`))
	shoot("live")
	do("no page", chromedp.Navigate(r.base+"/nothing-here"), chromedp.WaitVisible(".problem"))
	shoot("not-found")

	// An officer's view: no page of the workspace opens to her.
	do("sign out", chromedp.Click("form.signout button"), chromedp.WaitVisible("#username"))
	signInWithChromium(t, ctx, r.base, "amy")
	do("an officer on the calls page", chromedp.Navigate(r.base+"/calls"), chromedp.WaitVisible(".problem"))
	if s, _ := chromedp.Run(ctx, chromedp.Text(".problem")); !strings.Contains(s, "not open to your role (officer)") {
		t.Errorf("an officer on the calls page reads %q", s)
	}
	shoot("forbidden")
}
