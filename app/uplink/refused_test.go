package uplink_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
	"github.com/callguard/callguard/app/localapi"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/wire"
)

// TestAnOverlongNameNeverJamsTheSync is issue 12 item 1 end to end: the
// real core, outbox, client and server. A 300-byte display name from the
// phone system used to make the server refuse the head batch for ever, so
// the card flag after it never left the desktop and card redaction never
// began. Now the core cuts the name at the contract's limit, the local API
// refuses one with a clear 400, and an event the server can never accept
// (one an older desktop left in its outbox) is set aside, kept, counted
// and shown, while the card flag behind it reaches the server.
func TestAnOverlongNameNeverJamsTheSync(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	tok, device := r.agent("olive")
	dir := t.TempDir()
	ob := openOutbox(t, dir, device)
	long := strings.Repeat("Ž", 150) // 300 bytes, two to a character

	// What an older desktop left at the head of its outbox: an event the
	// server refuses, with everything after it waiting behind.
	old := app.Event{ID: app.NewID(), Time: time.Now(), Type: app.EventCallRinging, Agent: "olive", CallID: app.NewID(),
		Call: &app.EventCall{Direction: app.DirectionInbound, Local: app.Party{Number: "2001"}, Remote: app.Party{Number: "+441632960001", Name: long}, Started: time.Now()}}
	if err := ob.Append(old); err != nil {
		t.Fatal(err)
	}

	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	core := app.NewCore(app.MachineConfig{Policy: pol, Agent: app.AgentView{ID: "olive"}, Manual: true,
		Recorder: &apptest.Recorder{}, Sink: ob, Notifier: noNotes{}, Logger: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	coreDone := make(chan struct{})
	go func() { core.Run(ctx); close(coreDone) }()
	t.Cleanup(func() { cancel(); <-coreDone })

	c := runClient(t, uplink.Options{BaseURL: r.url, Token: static(tok), Outbox: ob, HeartbeatEvery: 100 * time.Millisecond,
		Presence: func() uplink.Presence { return uplink.PresenceFrom(core.Snapshot()) }})

	// From the phone system: the core's call event intake.
	core.HandleCall(app.CallEvent{Kind: app.CallAnswered, DialogID: "d1", CallID: "sip-1", Direction: app.DirectionInbound,
		Local: app.Party{Number: "2001"}, Remote: app.Party{Number: "+441632960002", Name: long}})
	waitFor(t, 5*time.Second, "the call from the phone system", func() bool { return core.Snapshot().Call != nil })
	pbxCall := core.Snapshot().Call.ID
	if err := core.Flag(app.FlagRequest{Reason: "card"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the card flag on the server", func() bool { return cardFlagged(r, pbxCall) })
	stored, err := r.server().Store().Call(context.Background(), pbxCall)
	if err != nil {
		t.Fatal(err)
	}
	if n := stored.Remote.Name; len(n) > wire.MaxNameLen || !utf8.ValidString(n) || !strings.HasPrefix(long, n) || len(n) < wire.MaxNameLen-1 {
		t.Fatalf("the name as stored: %d bytes %q", len(n), n)
	}

	// The event the server can never accept is aside: kept, counted, shown
	// to the officer and on the supervisors' board; nothing waits.
	waitFor(t, 10*time.Second, "the outbox drained", func() bool { return ob.Pending() == 0 })
	if st := c.Status(); st.Refused != 1 || st.Pending != 0 {
		t.Fatalf("status: %+v", st)
	}
	kept, err := ob.RefusedEvents()
	if err != nil || len(kept) != 1 || kept[0].Event.ID != old.ID || !strings.Contains(kept[0].Reason, "call.remote.name") {
		t.Fatalf("set aside: %+v, %v", kept, err)
	}
	waitFor(t, 5*time.Second, "the board shows the refused event", func() bool {
		for _, a := range r.server().Board().Snapshot() {
			if a.Agent == "olive" && a.Refused == 1 {
				for _, al := range a.Alerts {
					if al.Kind == server.AlertEventsRefused && al.Message == "1 event refused by the server" {
						return true
					}
				}
			}
		}
		return false
	})

	// From the local API: an over-long name is refused with a clear 400;
	// the call that follows, and its card flag, reach the server.
	core.HandleCall(app.CallEvent{Kind: app.CallEnded, DialogID: "d1"})
	api := httptest.NewServer(localapi.New(core, localapi.Options{Token: "t0ken"}).Handler())
	defer api.Close()
	local := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, api.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t0ken")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b struct{ Error string }
		json.NewDecoder(resp.Body).Decode(&b)
		return resp.StatusCode, b.Error
	}
	if code, msg := local("POST", "/v1/calls", `{"direction":"inbound","number":"+441632960003","name":"`+long+`"}`); code != 400 || !strings.Contains(msg, "name") || !strings.Contains(msg, "256") {
		t.Fatalf("an over-long name from the CRM: %d %q", code, msg)
	}
	if code, msg := local("POST", "/v1/calls", `{"direction":"inbound","number":"+441632960003","name":"A Caller"}`); code != 201 {
		t.Fatalf("a call from the CRM: %d %q", code, msg)
	}
	crmCall := core.Snapshot().Call.ID
	if code, msg := local("POST", "/v1/flag", `{"reason":"card"}`); code != 200 {
		t.Fatalf("flag: %d %q", code, msg)
	}
	waitFor(t, 10*time.Second, "the CRM call's card flag on the server", func() bool { return cardFlagged(r, crmCall) })
	if st := c.Status(); st.Refused != 1 {
		t.Fatalf("status after: %+v", st)
	}
}

// cardFlagged reports whether the server has the call with a card flag.
func cardFlagged(r *rig, callID string) bool {
	c, err := r.server().Store().Call(context.Background(), callID)
	if err != nil {
		return false
	}
	for _, f := range c.Flags {
		if f.Reason == "card" {
			return true
		}
	}
	return false
}
