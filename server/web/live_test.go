package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
)

// heartbeat sends the desktop's heartbeat: on a call, in state.
func (d *desktop) heartbeat(state, reason string) {
	d.t.Helper()
	now := time.Now()
	hb := server.Heartbeat{At: now, State: state, Reason: reason, Since: now, Link: "up",
		Call: &server.HeartbeatCall{ID: "live1", Direction: "inbound", Remote: "+447700900123", Started: now.Add(-time.Minute)}}
	if resp, body := d.api("POST", "/api/v1/heartbeat", hb); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		d.t.Fatalf("heartbeat: %s %s", resp.Status, body)
	}
}

// TestBrowserLiveBoardFollowsADesktop: a supervisor's board in chromium
// changes when an officer's desktop pauses over the real API, without a
// reload; another team's officer never shows.
func TestBrowserLiveBoardFollowsADesktop(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, open(), nil)
			olive, oscar := r.desktop("olive"), r.desktop("oscar")
			r.user("sue", server.RoleSupervisor)
			ctx := context.Background()
			st := r.srv.Store()
			st.CreateTeam(ctx, "north")
			st.CreateTeam(ctx, "south")
			st.AddTeamMember(ctx, "north", "sue")
			st.AddTeamMember(ctx, "north", "olive")
			st.AddTeamMember(ctx, "south", "oscar")
			olive.heartbeat("recording", "")
			oscar.heartbeat("recording", "")

			bctx := testrig.Chromium(t)
			bctx, cancel := context.WithTimeout(bctx, 60*time.Second)
			defer cancel()
			signInWithChromium(t, bctx, r.base, "sue")
			err := chromedp.Do(bctx, chromedp.Navigate(r.base+"/live"), chromedp.WaitVisible(`#board-rows tr[data-agent="olive"]`))
			if err != nil {
				t.Fatalf("the board: %v", err)
			}
			stateOf := `(document.querySelector('#board-rows tr[data-agent="olive"] td.state') || {}).textContent`
			if s, _ := chromedp.Run(bctx, chromedp.Evaluate[string](stateOf)); s != "recording" {
				t.Fatalf("olive's state: %q", s)
			}
			// Wait until the stream is connected, so the change below comes
			// through it and not through a reload.
			if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById("live-connection").textContent.startsWith("Live:")`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
				t.Fatalf("the board's stream did not connect: %v", err)
			}
			olive.send(server.Event{Type: server.EventRecordingState, CallID: "live1", State: "paused", Reason: "payment", Time: time.Now()})
			got, err := chromedp.Run(bctx, chromedp.Poll[string](stateOf+` === "paused: Card payment" && "ok"`, chromedp.WithPollingTimeout(10*time.Second)))
			if err != nil || got != "ok" {
				s, _ := chromedp.Run(bctx, chromedp.Evaluate[string](stateOf))
				t.Fatalf("olive's paused state did not reach the board: %v (shows %q)", err, s)
			}
			html, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("board").outerHTML`))
			if strings.Contains(html, "oscar") || strings.Contains(html, "7700900123") {
				t.Errorf("the board shows another team's officer or a whole number:\n%s", html)
			}
			if !strings.Contains(html, "••••••••••123") {
				t.Errorf("the board does not show the masked number:\n%s", html)
			}
		})
	}
}

// TestLiveBoardPutsAttentionFirst: the board's page lists the officers who
// need attention first, and says why in words.
func TestLiveBoardPutsAttentionFirst(t *testing.T) {
	clk := &clock{t: time.Now()}
	r := newRig(t, "", clk)
	amy, zoe := r.desktop("amy"), r.desktop("zoe")
	amy.heartbeat("recording", "")
	zoe.heartbeat("recording", "")
	clk.Add(40 * time.Second) // past the 35 s without a heartbeat
	amy.heartbeat("recording", "")
	r.srv.Board().Reevaluate() // the board's tick, now rather than within a second
	r.user("dee", server.RoleDPO)
	b := r.browser()
	b.signIn("dee")
	_, body := b.do("GET", "/live", nil, nil)
	iz, ia := strings.Index(body, `data-agent="zoe"`), strings.Index(body, `data-agent="amy"`)
	if iz < 0 || ia < 0 || iz > ia {
		t.Fatalf("zoe (offline) is not listed before amy:\n%s", body)
	}
	if !strings.Contains(body, "Needs attention: no heartbeat since") || !strings.Contains(body, "1 need attention") {
		t.Errorf("the offline officer's attention is not said in words:\n%s", body)
	}
}

// TestLiveBoardSaysThePhoneSystemMayStillRecord: an officer whose pause the
// phone system did not confirm needs attention, in the words the officer's
// banner uses.
func TestLiveBoardSaysThePhoneSystemMayStillRecord(t *testing.T) {
	clk := &clock{t: time.Now()}
	r := newRig(t, "", clk)
	r.desktop("amy").heartbeat("unconfirmed", "the phone system did not confirm the pause of its recording in time, or refused it")
	r.srv.Board().Reevaluate()
	r.user("sue", server.RoleSupervisor)
	b := r.browser()
	b.signIn("sue")
	_, body := b.do("GET", "/live", nil, nil)
	if !strings.Contains(body, "Needs attention: "+server.UnconfirmedText) || !strings.Contains(body, "1 need attention") {
		t.Errorf("the board does not say the phone system may still be recording:\n%s", body)
	}
}
