package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/httpapi"
	"github.com/callguard/callguard/server/store"
)

// benchServer starts a server on SQLite with the phone recorder pr and
// returns its URL and a token maker.
func benchServer(b *testing.B, pr httpapi.PhoneRecorder) (*central.Server, string, func(name string, role server.Role) (string, server.Principal)) {
	b.Helper()
	dir := b.TempDir()
	o := central.Options{DB: filepath.Join(dir, "cg.db"), DataDir: filepath.Join(dir, "data"), BcryptCost: 4, Embedded: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Rates: noLimits}
	o.PhoneRecorder = pr
	srv, err := central.Open(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(func() { srv.Shutdown(); hs.Close(); srv.Close() })
	tok := func(name string, role server.Role) (string, server.Principal) {
		ctx := context.Background()
		u, err := srv.Store().CreateUser(ctx, name, role, "", false)
		if err != nil {
			b.Fatal(err)
		}
		t, hash := auth.NewToken()
		if err := srv.Store().CreateDevice(ctx, auth.NewID(), u.ID, name+"-pc", hash); err != nil {
			b.Fatal(err)
		}
		p, err := srv.Store().Authenticate(ctx, auth.HashToken(t))
		if err != nil {
			b.Fatal(err)
		}
		return t, p
	}
	return srv, hs.URL, tok
}

var noLimits = httpapi.Rates{Requests: -1}

// anyCall is a phone system's recorder that confirms every command and
// knows every call as one of an officer and a caller.
type anyCall struct{}

func (anyCall) StartRecording(context.Context, string) error { return nil }
func (anyCall) StopRecording(context.Context, string) error  { return nil }
func (anyCall) Query(_ context.Context, id string) (*rtpengine.Call, error) {
	return &rtpengine.Call{ID: id, Tags: map[string]rtpengine.Tag{"officer": {Name: "officer"}, "caller": {Name: "caller"}}}, nil
}

func report(b *testing.B, lats []time.Duration) {
	slices.Sort(lats)
	b.ReportMetric(float64(lats[len(lats)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkPhoneRecordingLookUp: a collector's lookup by SIP Call-ID among
// 2,000 calls the phone system recorded, over HTTP on SQLite.
func BenchmarkPhoneRecordingLookUp(b *testing.B) {
	srv, url, tok := benchServer(b, nil)
	_, olive := tok("olive", server.RoleAgent)
	col, _ := tok("col", server.RoleCollector)
	const calls = 2000
	for i := range calls {
		if _, err := srv.Store().AddPhoneRecording(context.Background(), olive, fmt.Sprintf("c%d", i),
			store.PhoneRecordingRow{SIPCallID: fmt.Sprintf("sip-%d@pbx", i), OfficerAddrs: []string{"10.0.0.1:30000"}, CallerAddrs: []string{"10.0.0.1:30002"}}); err != nil {
			b.Fatal(err)
		}
	}
	lats := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/phone-recordings?sip_call_id=sip-%d@pbx", url, i%calls), nil)
		req.Header.Set("Authorization", "Bearer "+col)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lats = append(lats, time.Since(start))
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	report(b, lats)
}

// BenchmarkRecordCommandAnswer: the officer's answer to the first record of
// a call (which makes the server query the recorder and keep the call's
// phone recording after answering) and to a later one (nothing to keep),
// with a recorder that answers at once.
func BenchmarkRecordCommandAnswer(b *testing.B) {
	for _, first := range []bool{true, false} {
		b.Run(map[bool]string{true: "first", false: "later"}[first], func(b *testing.B) {
			_, url, tok := benchServer(b, anyCall{})
			olive, _ := tok("olive", server.RoleAgent)
			lats := make([]time.Duration, 0, b.N)
			for i := 0; b.Loop(); i++ {
				n := i
				if !first {
					n = 0
				}
				body := fmt.Sprintf(`{"call_id":"c%d","sip_call_id":"sip-%d@pbx","command":"record","officer_tag":"officer"}`, n, n)
				req, _ := http.NewRequest("POST", url+"/api/v1/phone-recorder", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+olive)
				start := time.Now()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				lats = append(lats, time.Since(start))
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			report(b, lats)
		})
	}
}
