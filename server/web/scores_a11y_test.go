package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/autoscore"
)

// TestBrowserScoringPagesAreLabelledAndReadableAt200 opens the scoring
// pages in chromium as a supervisor, with an evaluation, two evaluators
// and trends on them: every control has a label, and at 200 % zoom no page
// is wider than the window. Each is saved at 200 % as
// workspace-<page>-200.png.
func TestBrowserScoringPagesAreLabelledAndReadableAt200(t *testing.T) {
	r := newRig(t, "", nil, withScoring(t))
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: time.Now().Add(-time.Hour)})
	olive.uploadVoiced("c1")
	r.user("sue", server.RoleSupervisor)
	r.user("sid", server.RoleSupervisor)
	r.team("north", "olive", "sue", "sid")
	auto := r.scored("c1")
	ctx := context.Background()
	for _, ev := range []string{"sue", "sid"} {
		if _, _, err := autoscore.Complete(ctx, r.srv.Store(), auto.ID, ev, map[string]string{"empathy": map[string]string{"sue": "4", "sid": "2"}[ev], "ethics": "yes"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	bctx := testrig.Chromium(t)
	bctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	signInWithChromium(t, bctx, r.base, "sue")
	for _, p := range []struct{ name, path, wait string }{
		{"call-score", "/calls/c1", "section.score"},
		{"scorecards", "/scorecards", "#scorecards"},
		{"scorecard", "/scorecards/service", "#versions"},
		{"trends", "/scores/trends?officer=olive", "#trend-table"},
		{"calibration", "/scores/calibration", "#calibration"},
	} {
		if err := chromedp.Do(bctx, chromedp.Navigate(r.base+p.path), chromedp.WaitVisible(p.wait)); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		readableAt200(t, bctx, p.name)
	}
}
