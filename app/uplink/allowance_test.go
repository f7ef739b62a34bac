package uplink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/httpapi"
)

// countingTransport records every request the client makes and its answer.
type countingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	log  []sent
}

type sent struct {
	at         time.Time
	path       string
	status     int
	retryAfter string // the answer's Retry-After header
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	status, retry := 0, ""
	if err == nil {
		status, retry = resp.StatusCode, resp.Header.Get("Retry-After")
	}
	c.mu.Lock()
	c.log = append(c.log, sent{time.Now(), req.URL.Path, status, retry})
	c.mu.Unlock()
	return resp, err
}

func (c *countingTransport) requests() []sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sent(nil), c.log...)
}

// TestASupervisorsDesktopNeitherJamsNorSpins: the server takes calls only
// from agents' desktops. A supervisor's desktop that has events queued
// asks once, keeps its events, says so, and waits long before it asks
// again: no request storm, no events lost, no "server unreachable".
func TestASupervisorsDesktopNeitherJamsNorSpins(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	r.user("sue", server.RoleSupervisor)
	enr, err := uplink.Enroll(context.Background(), r.url, "sue", "password-1234", "sue-pc")
	if err != nil {
		t.Fatal(err)
	}
	ob := openOutbox(t, t.TempDir(), enr.DeviceID)
	for i := range 5 {
		if err := ob.Append(testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	tr := &countingTransport{next: http.DefaultTransport}
	c := runClient(t, uplink.Options{BaseURL: r.url, Token: static(enr.Token), Outbox: ob, HTTPClient: &http.Client{Transport: tr},
		HeartbeatEvery: 50 * time.Millisecond, PollEvery: 50 * time.Millisecond, MinBackoff: 10 * time.Millisecond,
		Presence: func() uplink.Presence { return uplink.Presence{State: app.StateIdle, Since: time.Now()} }})
	waitFor(t, 5*time.Second, "told the account sends no calls", func() bool { return c.Status().Forbidden })
	time.Sleep(time.Second) // what would have been 20 heartbeats and 20 retries
	reqs := tr.requests()
	byPath := map[string]int{}
	for _, s := range reqs {
		byPath[s.path]++
		if s.status != http.StatusForbidden {
			t.Errorf("%s answered %d", s.path, s.status)
		}
	}
	if byPath["/api/v1/events"] != 1 || byPath["/api/v1/heartbeat"] != 1 {
		t.Fatalf("requests in a second: %v", byPath)
	}
	if st := c.Status(); st.Pending != 5 || st.Refused != 0 || !st.Online {
		t.Fatalf("status: %+v", st)
	}
}

// TestTheClientHonoursRetryAfter: a device past its allowance is answered
// 429 with Retry-After; the client waits that long, then everything
// arrives. The allowance (2 requests, then one every 2 s) is small enough
// that the 8 batches exceed it however slowly a busy machine sends them:
// to stay inside it the client would have to take 12 s (at 4 a second with
// a burst of 4, a loaded CI machine sent them slowly enough to never be
// limited).
func TestTheClientHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	r := newRigWith(t, "", httpapi.Rates{Requests: 0.5, RequestBurst: 2})
	tok, device := r.agent("olive")
	ob := openOutbox(t, t.TempDir(), device)
	const n = 80
	for i := range n {
		if err := ob.Append(testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	tr := &countingTransport{next: http.DefaultTransport}
	runClient(t, uplink.Options{BaseURL: r.url, Token: static(tok), Outbox: ob, HTTPClient: &http.Client{Transport: tr},
		BatchSize: 10, MinBackoff: 10 * time.Millisecond})
	waitFor(t, 60*time.Second, "every event stored", func() bool { stored, _ := r.stored(device); return stored == n })
	reqs := tr.requests()
	limited := 0
	for i, s := range reqs {
		if s.status != http.StatusTooManyRequests {
			continue
		}
		limited++
		secs, err := strconv.Atoi(s.retryAfter)
		if err != nil || secs < 1 {
			t.Fatalf("a 429 with Retry-After %q, want whole seconds", s.retryAfter)
		}
		wait := time.Duration(secs) * time.Second
		if i+1 < len(reqs) && reqs[i+1].at.Sub(s.at) < wait-100*time.Millisecond {
			t.Fatalf("asked again %v after a 429 with Retry-After: %d", reqs[i+1].at.Sub(s.at), secs)
		}
	}
	if limited == 0 {
		t.Fatalf("8 batches past an allowance of 2: %d requests, none limited", len(reqs))
	}
}

// oldServer answers like a server from before per-event answers: a batch
// with an event it refuses is refused whole (400), others are stored.
type oldServer struct {
	mu     sync.Mutex
	bad    string
	stored []string
}

func (s *oldServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct{ Events []app.Event }
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &req)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range req.Events {
		if e.ID == s.bad {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"events[%d] (%s): call.remote is too long: invalid input"}`, i, e.ID)
			return
		}
	}
	for _, e := range req.Events {
		s.stored = append(s.stored, e.ID)
	}
	fmt.Fprintf(w, `{"accepted":%d,"duplicate":0,"acked_seq":%d,"gaps":0}`, len(req.Events), req.Events[len(req.Events)-1].Seq)
}

// TestAnOlderServerStillGetsPastABadEvent: against a server that refuses
// a whole batch for one bad event (400), the client sends smaller batches
// until the bad event goes alone, sets it aside, and sends the rest.
func TestAnOlderServerStillGetsPastABadEvent(t *testing.T) {
	t.Parallel()
	old := &oldServer{}
	hs := httptest.NewServer(old)
	defer hs.Close()
	ob := openOutbox(t, t.TempDir(), "dev")
	for i := range 50 {
		if err := ob.Append(testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	evs, _ := ob.Peek(50)
	old.mu.Lock()
	old.bad = evs[37].ID
	old.mu.Unlock()
	c := runClient(t, uplink.Options{BaseURL: hs.URL, Token: static("t"), Outbox: ob, BatchSize: 20, MinBackoff: 10 * time.Millisecond})
	waitFor(t, 5*time.Second, "the outbox drained", func() bool { return ob.Pending() == 0 })
	old.mu.Lock()
	stored := strings.Join(old.stored, ",")
	old.mu.Unlock()
	var want []string
	for i, e := range evs {
		if i != 37 {
			want = append(want, e.ID)
		}
	}
	if stored != strings.Join(want, ",") {
		t.Fatalf("stored %s", stored)
	}
	if st := c.Status(); st.Refused != 1 {
		t.Fatalf("status %+v", st)
	}
}
