package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/wire"
)

// TestOneBadEventDoesNotBlockTheOthers is issue 12 item 1's attack on the
// server: a 300-byte display name from the phone system used to make the
// server refuse the whole batch, and with it the card flag that followed.
// Each event is answered on its own now.
func TestOneBadEventDoesNotBlockTheOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	olive := e.user("olive", server.RoleAgent)
	long := strings.Repeat("Ž", 150) // 300 bytes
	body := `{"events":[` +
		`{"id":"e1","seq":1,"time":"2026-03-02T10:00:00Z","type":"recording.state","agent":"olive","call_id":"c1","state":"recording"},` +
		`{"id":"e2","seq":2,"time":"2026-03-02T10:00:01Z","type":"call.answered","agent":"olive","call_id":"c1","call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":"+441632960001","name":"` + long + `"},"started":"2026-03-02T10:00:00Z","recorded":true}},` +
		`{"id":"e3","seq":3,"time":"2026-03-02T10:00:02Z","type":"nonsense","agent":"olive"},` +
		`{"seq":4,"time":"2026-03-02T10:00:02Z","type":"link","state":"up"},` +
		`{"id":"e5","seq":5,"time":"2026-03-02T10:00:03Z","type":"flag","agent":"olive","call_id":"c1","reason":"card","from_ms":0,"to_ms":3000}` +
		`]}`
	var rep wire.IngestReply
	e.call(olive, "POST", "/api/v1/events", body, 200, &rep)
	want := []wire.EventStatus{wire.Accepted, wire.Refused, wire.Refused, wire.Refused, wire.Accepted}
	if len(rep.Results) != len(want) {
		t.Fatalf("results %+v", rep.Results)
	}
	for i, r := range rep.Results {
		if r.Status != want[i] {
			t.Errorf("event %d (%s): %s (%s), want %s", i, r.ID, r.Status, r.Reason, want[i])
		}
	}
	if r := rep.Results[1]; r.ID != "e2" || r.Seq != 2 || !strings.Contains(r.Reason, "call.remote.name") || !strings.Contains(r.Reason, "300") {
		t.Errorf("the over-long name's answer does not say what is wrong: %+v", r)
	}
	if r := rep.Results[3]; r.Seq != 4 || !strings.Contains(r.Reason, "id") {
		t.Errorf("an event without an id: %+v", r)
	}
	if rep.Accepted != 2 || rep.Refused != 3 || rep.AckedSeq != 1 {
		t.Errorf("counts: %+v", rep)
	}
	c, err := e.srv.Store().Call(context.Background(), "c1")
	if err != nil || len(c.Flags) != 1 || c.Flags[0].Reason != "card" || c.Events != 2 {
		t.Fatalf("the card flag after a bad event: %+v, %v", c.Flags, err)
	}
	// Resending the batch changes nothing, and is answered the same way.
	e.call(olive, "POST", "/api/v1/events", body, 200, &rep)
	if rep.Accepted != 0 || rep.Duplicate != 2 || rep.Refused != 3 {
		t.Errorf("resend: %+v", rep)
	}
	d, err := e.srv.Store().Device(context.Background(), devOf(t, e, olive))
	if err != nil || d.Refused != 3 {
		t.Fatalf("device: %+v, %v", d, err)
	}
}

func devOf(t *testing.T, e *env, tok string) string {
	t.Helper()
	var me struct {
		DeviceID string `json:"device_id"`
	}
	e.call(tok, "GET", "/api/v1/me", "", 200, &me)
	return me.DeviceID
}

// TestAnEventIDIsNotTakenFromAnotherAccount: an event id already used by
// another account is refused, not answered "duplicate" and dropped.
func TestAnEventIDIsNotTakenFromAnotherAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	olive, mallory := e.user("olive", server.RoleAgent), e.user("mallory", server.RoleAgent)
	e.call(mallory, "POST", "/api/v1/events", batch("mallory", 1, 1, "m1"), 200, nil)
	var rep wire.IngestReply
	e.call(olive, "POST", "/api/v1/events", strings.ReplaceAll(batch("olive", 1, 1, "m1"), `"call_id":"m1"`, `"call_id":"o1"`), 200, &rep)
	if rep.Duplicate != 0 || rep.Refused != 1 || !strings.Contains(rep.Results[0].Reason, "another account") {
		t.Fatalf("olive's event with mallory's id: %+v", rep)
	}
}

// TestEventsPerCallAreCapped is issue 12 item 11's first attack: an agent
// sending endless events for one call made every later batch re-read them
// all. Past wire.MaxEventsPerCall each event is refused on its own, and
// other calls go on.
func TestEventsPerCallAreCapped(t *testing.T) {
	t.Parallel()
	e := newEnvWithRates(t, 0, 0)
	olive := e.user("olive", server.RoleAgent)
	seq := 1
	send := func(callID string, n int) wire.IngestReply {
		t.Helper()
		var rep wire.IngestReply
		for n > 0 {
			k := min(n, wire.MaxBatch)
			e.call(olive, "POST", "/api/v1/events", batch("olive", seq, k, callID), 200, &rep)
			seq += k
			n -= k
		}
		return rep
	}
	send("big", wire.MaxEventsPerCall-1)
	rep := send("big", 3)
	if rep.Accepted != 1 || rep.Refused != 2 || !strings.Contains(rep.Results[2].Reason, strconv.Itoa(wire.MaxEventsPerCall)) {
		t.Fatalf("past the cap: %+v", rep)
	}
	if rep := send("small", 3); rep.Accepted != 3 {
		t.Fatalf("another call: %+v", rep)
	}
	c, err := e.srv.Store().Call(context.Background(), "big")
	if err != nil || c.Events != wire.MaxEventsPerCall {
		t.Fatalf("big call has %d events, %v", c.Events, err)
	}
}

// TestDevicesAreRateLimited is item 11's second attack: one desktop could
// send as fast as the server would take it. Past its allowance a device
// gets 429 with Retry-After; another device is not slowed down.
func TestDevicesAreRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnvWithRates(t, 2, 5) // 2 requests a second, bursts of 5
	olive, pat := e.user("olive", server.RoleAgent), e.user("pat", server.RoleAgent)
	hb := `{"at":"2026-03-02T09:00:00Z","state":"idle","since":"2026-03-02T09:00:00Z"}`
	codes := map[int]int{}
	var retry string
	for range 8 {
		req, _ := http.NewRequest("POST", e.url+"/api/v1/heartbeat", strings.NewReader(hb))
		req.Header.Set("Authorization", "Bearer "+olive)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests {
			retry = resp.Header.Get("Retry-After")
		}
	}
	if codes[200] != 5 || codes[429] != 3 || retry != "1" {
		t.Fatalf("statuses %v, Retry-After %q", codes, retry)
	}
	e.call(pat, "POST", "/api/v1/heartbeat", hb, 200, nil)
	e.clk.Add(time.Second)
	e.call(olive, "POST", "/api/v1/heartbeat", hb, 200, nil)
}

// TestForbiddenRequestsDoNotFloodTheAudit is item 11's third attack: every
// forbidden request wrote an audit row, so an agent could grow the audit
// log without bound. At most a few rows per principal a minute, then one
// row saying how many more there were.
func TestForbiddenRequestsDoNotFloodTheAudit(t *testing.T) {
	t.Parallel()
	e := newEnvWithRates(t, 0, 0)
	olive, pat := e.user("olive", server.RoleAgent), e.user("pat", server.RoleAgent)
	for range 100 {
		e.call(olive, "GET", "/api/v1/live", "", 403, nil)
	}
	e.call(pat, "GET", "/api/v1/live", "", 403, nil)
	count := func() (olives, pats, summaries int) {
		recs, err := e.srv.Store().AuditLog(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			switch {
			case r.Action == server.AuditAuthzDenied && r.Actor == "olive":
				olives++
			case r.Action == server.AuditAuthzDenied && r.Actor == "pat":
				pats++
			case r.Action == server.AuditDenialsSuppressed && r.Actor == "olive":
				summaries++
				if !strings.Contains(r.Detail, fmt.Sprintf(`"suppressed":%d`, 100-server.AuditDenialsPerMinute)) {
					t.Errorf("summary %s", r.Detail)
				}
			}
		}
		return
	}
	if o, p, s := count(); o != server.AuditDenialsPerMinute || p != 1 || s != 0 {
		t.Fatalf("within the minute: %d of olive's denials, %d of pat's, %d summaries", o, p, s)
	}
	e.clk.Add(time.Minute)
	e.srv.FlushAudit()
	if o, _, s := count(); o != server.AuditDenialsPerMinute || s != 1 {
		t.Fatalf("after the minute: %d denials, %d summaries", o, s)
	}
	if _, err := e.srv.Store().Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if seq, err := e.srv.Store().VerifyAudit(context.Background()); err != nil {
		t.Fatalf("audit chain broken at %d: %v", seq, err)
	}
}
