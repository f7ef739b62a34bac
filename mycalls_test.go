package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callguard/callguard/app/secrets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/central/centraltest"
)

// TestAScorecardFromChromiumToTheOfficersDesktop is scoring end to end
// through the real parts: a supervisor creates a scorecard in the web
// workspace (chromium), an officer's call arrives at the real central
// server, its automatic score appears on the call's page, the supervisor
// completes it there, and the officer's callguard, a real window, opens My
// calls with Ctrl+Shift+C; the server has audited that she read her scores.
func TestAScorecardFromChromiumToTheOfficersDesktop(t *testing.T) {
	display := testrig.Xvfb(t)
	keys := needKeyring(t)
	ctx := context.Background()
	dir := t.TempDir()
	srv, base, enrol := centraltest.StartServer(t, central.Options{DB: filepath.Join(dir, "server.db"), DataDir: dir,
		ScoringEvery: 50 * time.Millisecond})
	tok := enrol("olive", server.RoleAgent)
	enrol("sue", server.RoleSupervisor)

	browser, cancel := context.WithTimeout(testrig.Chromium(t), 2*time.Minute)
	defer cancel()
	card, err := json.Marshal(centraltest.ScoringPolicy(t).Scorecards[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(browser,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "sue"),
		chromedp.SendKeys("#password", "password-sue\n"),
		chromedp.WaitVisible("form.signout"),
		chromedp.Navigate(base+"/scorecards"),
		chromedp.WaitVisible("#json"),
		chromedp.SetValue("#json", string(card)),
		chromedp.Click("#save"),
		chromedp.WaitVisible("#versions"),
	); err != nil {
		t.Fatalf("sue signs in and creates the scorecard: %v", err)
	}

	centraltest.RecordedCall(t, base, tok, "olive-c1")
	var heading string
	testrig.Eventually(t, time.Minute, func() bool {
		if err := chromedp.Do(browser, chromedp.Navigate(base+"/calls/olive-c1"), chromedp.WaitVisible("#score")); err != nil {
			return false
		}
		heading, _ = chromedp.Run(browser, chromedp.Evaluate[string](`(h => h ? h.textContent : "")(document.querySelector("section.score h3"))`))
		return heading != ""
	}, "no automatic score on the call's page")
	if !strings.HasPrefix(heading, "Customer service (version 1) — automatic") {
		t.Fatalf("the call's score is headed %q", heading)
	}
	if err := chromedp.Do(browser,
		chromedp.SetValue("#a-empathy", "3"),
		chromedp.SetValue("#a-ethics", "yes"),
		chromedp.Click(`section.score button[type="submit"]`),
	); err != nil {
		t.Fatalf("sue completes the evaluation: %v", err)
	}
	testrig.Eventually(t, 30*time.Second, func() bool {
		got, err := srv.Store().Scores(ctx, server.ScoreFilter{Agent: "olive", CompletedOnly: true})
		return err == nil && len(got) == 1 && got[0].Evaluator == "sue"
	}, "sue's evaluation did not reach the server")

	if err := keys.Set(secrets.DeviceToken, tok); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Delete(secrets.DeviceToken) })
	start(t, map[string]any{"server": map[string]any{"url": base}}, []string{"DISPLAY=" + display})
	id := window(t, display, "callguard")
	path := filepath.Join(t.TempDir(), "my-calls-window.png")
	settled(t, display, id, path)
	before, _ := os.ReadFile(path)
	key := exec.Command(testrig.NeedCommand(t, "xdotool"), "windowfocus", "--sync", id, "key", "--clearmodifiers", "ctrl+shift+c")
	key.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := key.CombinedOutput(); err != nil {
		t.Fatalf("xdotool key: %v\n%s", err, out)
	}
	testrig.Eventually(t, 30*time.Second, func() bool {
		got, err := srv.Store().SearchAudit(ctx, server.AuditFilter{Actor: "olive", Action: server.AuditScoreList})
		return err == nil && len(got) > 0
	}, "the desktop did not ask the server for olive's scores")
	settled(t, display, id, path)
	if after, _ := os.ReadFile(path); bytes.Equal(before, after) {
		t.Fatal("the window looks the same after Ctrl+Shift+C: My calls did not open")
	}
	keepScreenshot(t, path, "my-calls-window.png")
}
