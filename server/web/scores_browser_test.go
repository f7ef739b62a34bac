package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
)

// TestBrowserScorecardToTheOfficersDesktop is scoring end to end in
// chromium: a supervisor creates a scorecard, a call's manifest arrives,
// its automatic score appears on the call's page, the evidence jumps the
// player, the supervisor completes the evaluation, and the officer's
// desktop API answers it.
func TestBrowserScorecardToTheOfficersDesktop(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, open(), nil, func(o *central.Options) { o.ScoringEvery = 200 * time.Millisecond })
			olive := r.desktop("olive")
			r.user("sue", server.RoleSupervisor)
			r.team("north", "olive", "sue")
			ctx := testrig.Chromium(t)
			ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
			defer cancel()
			signInWithChromium(t, ctx, r.base, "sue")

			card := strings.ReplaceAll(string(mustReadFile(t, "../autoscore/testdata/service.json")), "\n", " ")
			err := chromedp.Do(ctx,
				chromedp.Navigate(r.base+"/scorecards"),
				chromedp.WaitVisible("#json"),
				chromedp.SetValue("#json", card),
				chromedp.Click("#save"),
				chromedp.WaitVisible("#versions"),
			)
			if err != nil {
				t.Fatalf("create the scorecard: %v", err)
			}
			notice, _ := chromedp.Run(ctx, chromedp.Text(".notice"))
			if !strings.HasPrefix(notice, "Saved as version 1.") {
				t.Fatalf("after saving: %q", notice)
			}

			olive.call(callSpec{id: "c1", remote: "+447700900123", start: time.Now().Add(-time.Hour)})
			arrived := time.Now()
			olive.uploadVoiced("c1")
			var heading string
			for deadline := time.Now().Add(time.Minute); ; {
				err := chromedp.Do(ctx, chromedp.Navigate(r.base+"/calls/c1"), chromedp.WaitVisible("#score"))
				if err != nil {
					t.Fatal(err)
				}
				if heading, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`(h => h ? h.textContent : "")(document.querySelector("section.score h3"))`)); heading != "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no score on the call's page a minute after its manifest arrived")
				}
				time.Sleep(200 * time.Millisecond)
			}
			t.Logf("%s: the automatic score was on the call's page %v after the manifest arrived", db, time.Since(arrived).Round(time.Millisecond))
			if heading != "Customer service (version 1) — automatic: 100 %" {
				t.Fatalf("score heading %q", heading)
			}

			// The longest silence's evidence jumps the player to 1 min 40 s.
			err = chromedp.Do(ctx, chromedp.Click(`a[data-seek="100.00"]`))
			if err != nil {
				t.Fatal(err)
			}
			at, err := chromedp.Run(ctx, chromedp.Poll[float64](`(p => p.currentTime >= 99 ? p.currentTime : 0)(document.getElementById("player"))`, chromedp.WithPollingTimeout(30*time.Second)))
			if err != nil || math.Abs(at-100) > 1.5 {
				t.Fatalf("the player is at %.2f s after the evidence link, want 100 s: %v", at, err)
			}
			chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("player").pause(), true`))

			err = chromedp.Do(ctx,
				chromedp.SetValue("#a-empathy", "4"),
				chromedp.SetValue("#a-ethics", "yes"),
				chromedp.SetValue("#o-talk", "no"),
				chromedp.SendKeys("#r-talk", "the officer read a script at the caller"),
				chromedp.Click(`section.score button[type="submit"]`),
			)
			if err != nil {
				t.Fatalf("complete the evaluation: %v", err)
			}
			// The page after the form's redirect has the evaluation.
			// (Asked again until the new page answers: the navigation
			// interrupts a question put to the old one.)
			var headings []string
			for deadline := time.Now().Add(30 * time.Second); len(headings) < 2; time.Sleep(100 * time.Millisecond) {
				headings, _ = chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("section.score h3")].map(h => h.textContent)`))
				if time.Now().After(deadline) {
					body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
					t.Fatalf("no evaluation on the page after saving it:\n%s", body)
				}
			}
			if len(headings) != 2 || headings[1] != "Customer service (version 1) — sue: 60 %" {
				t.Fatalf("after the evaluation: %q", headings)
			}

			resp, body := olive.api("GET", "/api/v1/scores/mine", nil)
			var mine struct{ Scores []server.OfficerScore }
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &mine) != nil || len(mine.Scores) != 1 {
				t.Fatalf("the officer's scores: %s %s", resp.Status, body)
			}
			got := mine.Scores[0]
			if got.Evaluator != "sue" || got.Total == nil || *got.Total != 60 || got.DesktopCallID != "c1" {
				t.Fatalf("the officer's score: %+v", got)
			}
			var talk string
			for _, c := range got.Criteria {
				if c.Name == "Talk ratio 30–70 %" {
					talk = fmt.Sprintf("%s/%s/%s", c.Status, c.Answer, c.Reason)
				}
			}
			if talk != "fail/no/the officer read a script at the caller" {
				t.Errorf("the officer sees the changed answer as %q", talk)
			}
			if strings.Contains(string(body), "audio") || strings.Contains(string(body), "/recordings/") {
				t.Errorf("the officer's scores point at the recording: %s", body)
			}
		})
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
