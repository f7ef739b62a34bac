package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
)

// signInWithChromium signs in through the sign-in page in a real browser.
func signInWithChromium(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", user),
		chromedp.SendKeys("#password", "password-"+user+"\n"),
		chromedp.WaitVisible("form.signout"),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
}

func TestBrowserSignInAndOut(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, open(), nil)
			r.user("sue", server.RoleSupervisor)
			ctx := testrig.Chromium(t)
			ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			signInWithChromium(t, ctx, r.base, "sue")
			heading, err := chromedp.Run(ctx, chromedp.Text("h1"))
			if err != nil || heading != "Calls" {
				t.Fatalf("first page after sign-in: %q, %v; want Calls", heading, err)
			}
			cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie"))
			if err != nil || strings.Contains(cookies, "session") {
				t.Errorf("document.cookie = %q, %v: the session cookie must be HttpOnly", cookies, err)
			}
			err = chromedp.Do(ctx, chromedp.Click("form.signout button"), chromedp.WaitVisible("#username"))
			if err != nil {
				t.Fatal(err)
			}
			notice, _ := chromedp.Run(ctx, chromedp.Text(".notice"))
			if notice != "You are signed out." {
				t.Errorf("after sign-out: %q", notice)
			}
			err = chromedp.Do(ctx, chromedp.Navigate(r.base+"/calls"), chromedp.WaitVisible("#username"))
			if err != nil {
				t.Fatalf("the calls page after sign-out: %v (want the sign-in page)", err)
			}
		})
	}
}

// TestBrowserSearchOpenAndPlay is a supervisor's journey in chromium: sign
// in, search one number typed three ways, open the call, play it to its
// end; one play is one audit record.
func TestBrowserSearchOpenAndPlay(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, open(), nil)
			olive := r.desktop("olive")
			olive.call(callSpec{id: "c1", remote: "+447700900123", start: day, pause: true, flag: "health"})
			olive.call(callSpec{id: "c2", remote: "+441632960555", start: day.Add(time.Hour)})
			olive.upload("c1", 2)
			r.user("sue", server.RoleSupervisor)
			ctx := testrig.Chromium(t)
			ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
			defer cancel()
			signInWithChromium(t, ctx, r.base, "sue")
			for _, typed := range []string{"07700 900123", "+44 7700 900123", "(07700) 900123"} {
				err := chromedp.Do(ctx,
					chromedp.Navigate(r.base+"/calls"),
					chromedp.WaitVisible("#number"),
					chromedp.SendKeys("#number", typed+"\n"),
					chromedp.WaitVisible("#summary"),
				)
				if err != nil {
					t.Fatalf("search %q: %v", typed, err)
				}
				summary, _ := chromedp.Run(ctx, chromedp.Text("#summary"))
				links, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.calls a")].map(a => a.getAttribute("href"))`))
				if !strings.HasPrefix(summary, "Calls with +447700900123: 1 call") || len(links) != 1 || links[0] != "/calls/c1" {
					t.Fatalf("search %q: %q, links %v", typed, summary, links)
				}
			}
			err := chromedp.Do(ctx, chromedp.Click("table.calls a"), chromedp.WaitVisible("#player"))
			if err != nil {
				t.Fatalf("open the call: %v", err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("player").play(), true`)); err != nil {
				t.Fatal(err)
			}
			ended, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("player").ended`, chromedp.WithPollingTimeout(30*time.Second)))
			if err != nil || !ended {
				state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(p => "networkState " + p.networkState + " readyState " + p.readyState + " error " + (p.error && p.error.message))(document.getElementById("player"))`))
				t.Fatalf("the player did not reach its end: %v (%s)", err, state)
			}
			dur, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("player").duration`))
			if dur < 1.9 || dur > 2.1 {
				t.Errorf("the player's duration is %.2f s, want the 2 s recorded", dur)
			}
			if got := r.audit(server.AuditPlay); len(got) != 1 || got[0].Actor != "sue" || got[0].Target != "c1" {
				t.Fatalf("playing to the end: %d play records, want 1: %+v", len(got), got)
			}

			// A recording made in Opus plays too: the server streams the Ogg
			// Opus as it is stored (audio/ogg), which chromium plays itself.
			olive.uploadOpus("c2")
			err = chromedp.Do(ctx, chromedp.Navigate(r.base+"/calls/c2"), chromedp.WaitVisible("#player"))
			if err != nil {
				t.Fatalf("open the Opus call: %v", err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("player").play(), true`)); err != nil {
				t.Fatal(err)
			}
			ended, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("player").ended`, chromedp.WithPollingTimeout(30*time.Second)))
			if err != nil || !ended {
				state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(p => "networkState " + p.networkState + " readyState " + p.readyState + " error " + (p.error && p.error.message))(document.getElementById("player"))`))
				t.Fatalf("the player did not reach the end of the Opus recording: %v (%s)", err, state)
			}
			dur, _ = chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("player").duration`))
			if dur < 4.9 || dur > 5.0 {
				t.Errorf("the Opus recording's duration in the player is %.3f s, want its 4.952 s", dur)
			}
			if got := r.audit(server.AuditPlay); len(got) != 2 || got[1].Target != "c2" {
				t.Fatalf("after playing the Opus recording: %+v", got)
			}
		})
	}
}
