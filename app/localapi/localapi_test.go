package localapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
	"github.com/callguard/callguard/app/localapi"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

const token = "test-token-0123456789abcdefghijklmnopqrstuvwxyz"

// serve starts a core in manual mode and the API on a real loopback port.
func serve(t *testing.T) (base string, core *app.Core) {
	t.Helper()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	core = app.NewCore(app.MachineConfig{
		Policy: pol, Agent: app.AgentView{ID: "1001"}, Manual: true,
		Recorder: &apptest.Recorder{}, Sink: apptest.Discard{},
		Logger: slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(context.Background())
	l, err := localapi.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := localapi.New(core, localapi.Options{
		Token:          token,
		AllowedOrigins: []string{"https://crm.example.org"},
		Logger:         slog.New(slog.DiscardHandler),
	})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); core.Run(ctx) }()
	go func() { defer wg.Done(); api.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return "http://" + l.Addr().String(), core
}

type call struct {
	method, path, body string
	header             map[string]string
}

func do(t *testing.T, base string, c call) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range c.header {
		if k == "Host" {
			req.Host = v
		} else if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", c.method, c.path, b)
		}
	}
	return resp.StatusCode, body, resp.Header
}

func TestRefusals(t *testing.T) {
	base, _ := serve(t)
	tests := []struct {
		name string
		call call
		want int
	}{
		{"no token", call{"GET", "/v1/state", "", map[string]string{"Authorization": ""}}, 401},
		{"wrong token", call{"GET", "/v1/state", "", map[string]string{"Authorization": "Bearer nope"}}, 401},
		{"token of the wrong scheme", call{"GET", "/v1/state", "", map[string]string{"Authorization": "Basic " + token}}, 401},
		{"wrong origin", call{"POST", "/v1/pause", `{"reason":"payment"}`, map[string]string{"Origin": "https://evil.example"}}, 403},
		{"DNS-rebound host name", call{"GET", "/v1/state", "", map[string]string{"Host": "evil.example:7465"}}, 403},
		{"bad JSON", call{"POST", "/v1/pause", `{"reason":`, nil}, 400},
		{"unknown field", call{"POST", "/v1/pause", `{"reason":"payment","why":"x"}`, nil}, 400},
		{"missing reason", call{"POST", "/v1/pause", `{}`, nil}, 400},
		{"unknown reason", call{"POST", "/v1/pause", `{"reason":"lunch"}`, nil}, 400},
		{"pause with no call", call{"POST", "/v1/pause", `{"reason":"payment"}`, nil}, 409},
		{"resume with no call", call{"POST", "/v1/resume", ``, nil}, 409},
		{"bad notice outcome", call{"POST", "/v1/notice", `{"outcome":"maybe"}`, nil}, 400},
		{"flag with no call", call{"POST", "/v1/flag", `{"reason":"card"}`, nil}, 409},
		{"flag of an unknown call", call{"POST", "/v1/flag", `{"reason":"card","call_id":"nope"}`, nil}, 404},
		{"manual call with a bad direction", call{"POST", "/v1/calls", `{"direction":"sideways"}`, nil}, 400},
		{"end a call when none", call{"DELETE", "/v1/calls/current", ``, nil}, 409},
		{"oversized body", call{"POST", "/v1/flag", `{"reason":"card","note":"` + strings.Repeat("x", localapi.MaxBody) + `"}`, nil}, 413},
		{"unknown route", call{"GET", "/v1/nope", ``, nil}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := do(t, base, tt.call)
			if status != tt.want {
				t.Fatalf("status %d, want %d (body %v)", status, tt.want, body)
			}
			if status >= 400 && status != 404 {
				if msg, _ := body["error"].(string); msg == "" {
					t.Fatalf("error response without a JSON error: %v", body)
				}
			}
		})
	}
}

func TestAWholeCallThroughTheAPI(t *testing.T) {
	base, _ := serve(t)
	state := func(body map[string]any) string {
		rec, _ := body["recording"].(map[string]any)
		s, _ := rec["state"].(string)
		return s
	}
	steps := []struct {
		call  call
		code  int
		state string
	}{
		{call{"GET", "/v1/state", "", nil}, 200, "idle"},
		{call{"POST", "/v1/calls", `{"direction":"outbound","number":"07700900123"}`, nil}, 201, "awaiting-notice"},
		{call{"POST", "/v1/notice", `{"outcome":"read"}`, nil}, 200, "recording"},
		{call{"POST", "/v1/pause", `{"reason":"payment"}`, map[string]string{"Origin": "https://crm.example.org"}}, 200, "paused"},
		{call{"POST", "/v1/resume", ``, nil}, 200, "recording"},
		{call{"POST", "/v1/flag", `{"reason":"card","note":"card number read out"}`, nil}, 200, "recording"},
		{call{"DELETE", "/v1/calls/current", ``, nil}, 200, "idle"},
	}
	for _, s := range steps {
		code, body, _ := do(t, base, s.call)
		if code != s.code || state(body) != s.state {
			t.Fatalf("%s %s → %d %s, want %d %s (%v)", s.call.method, s.call.path, code, state(body), s.code, s.state, body)
		}
	}
	_, body, _ := do(t, base, call{"GET", "/v1/state", "", nil})
	recent := body["recent"].([]any)
	if len(recent) != 1 || body["call"] != nil {
		t.Fatalf("after the call: call=%v recent=%d", body["call"], len(recent))
	}
}

func TestCORSForAllowedOrigins(t *testing.T) {
	base, _ := serve(t)
	req, _ := http.NewRequest("OPTIONS", base+"/v1/pause", nil)
	req.Header.Set("Origin", "https://crm.example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://crm.example.org" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	_, _, h := do(t, base, call{"GET", "/v1/state", "", map[string]string{"Origin": "https://crm.example.org"}})
	if h.Get("Access-Control-Allow-Origin") != "https://crm.example.org" {
		t.Fatal("allowed origin not echoed")
	}
}

func TestNonLoopbackIsImpossible(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:7465", "[::]:7465", "192.0.2.10:7465", ":7465"} {
		if _, err := localapi.Listen(addr); !errors.Is(err, localapi.ErrNotLoopback) {
			t.Errorf("Listen(%q) = %v, want ErrNotLoopback", addr, err)
		}
	}
	// Even handed a request from elsewhere (a proxy, a misconfiguration), the
	// handler refuses it before looking at the token.
	api := localapi.New(nil, localapi.Options{Token: token})
	req := httptest.NewRequest("GET", "http://127.0.0.1:7465/v1/state", nil)
	req.RemoteAddr = "192.0.2.10:50000"
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	api.Handler().ServeHTTP(w, req)
	if w.Code != 403 {
		t.Fatalf("request from 192.0.2.10: %d, want 403", w.Code)
	}
}

func TestEventsStreamEveryChange(t *testing.T) {
	base, core := serve(t)
	req, _ := http.NewRequest("GET", base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	states := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var b localapi.StateBody
				json.Unmarshal([]byte(data), &b)
				states <- b.Recording.State.String()
			}
		}
		close(states)
	}()
	want := func(s string) {
		t.Helper()
		for {
			select {
			case got, ok := <-states:
				if !ok {
					t.Fatalf("stream ended before %s", s)
				}
				if got == s {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %s event", s)
			}
		}
	}
	want("idle")
	if _, err := core.StartManual(app.DirectionInbound, app.Party{Number: "07700900123"}); err != nil {
		t.Fatal(err)
	}
	want("recording")
	core.Pause("payment")
	want("paused")
}
