package central_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/central/centraltest"
	"github.com/callguard/callguard/server/httpapi"
)

func TestMain(m *testing.M) { testrig.Main(m) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type instance struct {
	srv *central.Server
	url string
}

func start(t testing.TB, db, data string) instance {
	t.Helper()
	srv, err := central.Open(context.Background(), central.Options{DB: db, DataDir: data, Logger: quiet(), BcryptCost: 4, Embedded: true,
		Rates: httpapi.Rates{Requests: -1}}) // benchmarks send as fast as the server takes it
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Shutdown()
		hs.Close()
		srv.Close()
	})
	return instance{srv: srv, url: hs.URL}
}

// token adds a user with a device and returns its token, bypassing bcrypt.
func token(t testing.TB, srv *central.Server, name string, role server.Role) string {
	t.Helper()
	ctx := context.Background()
	u, err := srv.Store().CreateUser(ctx, name, role, "", false)
	if err != nil {
		t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	if err := srv.Store().CreateDevice(ctx, auth.NewID(), u.ID, name+"-pc", hash); err != nil {
		t.Fatal(err)
	}
	return tok
}

func post(t testing.TB, url, tok, body string) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("POST %s: %d %s", url, resp.StatusCode, b)
	}
}

type update struct {
	Agent server.AgentState `json:"agent"`
}

// follow streams the live board of url into fn until ctx ends; ready is
// closed once the snapshot arrived.
func follow(ctx context.Context, t testing.TB, url, tok string, ready chan<- struct{}, fn func(server.AgentState, time.Time)) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/api/v1/live", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			t.Error(err)
		}
		close(ready)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if event == "snapshot" {
			close(ready)
			continue
		}
		var u update
		if err := json.Unmarshal([]byte(data), &u); err == nil {
			fn(u.Agent, time.Now())
		}
	}
}

// TestTwoInstancesShareTheLiveBoard: a supervisor connected to instance A
// sees an agent who heartbeats and sends events to instance B, within a
// second.
func TestTwoInstancesShareTheLiveBoard(t *testing.T) {
	db := testrig.PostgreSQL(t)
	dir := t.TempDir()
	a := start(t, db, filepath.Join(dir, "a"))
	b := start(t, db, filepath.Join(dir, "b"))
	sup := token(t, a.srv, "sue", server.RoleSupervisor)
	olive := token(t, b.srv, "olive", server.RoleAgent)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	seen := map[string]time.Time{} // state → when A's supervisor saw it
	ready := make(chan struct{})
	go follow(ctx, t, a.url, sup, ready, func(s server.AgentState, at time.Time) {
		if s.Agent != "olive" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		key := s.State + "/" + s.Reason
		if _, ok := seen[key]; !ok {
			seen[key] = at
		}
	})
	<-ready
	waitSeen := func(key string, sent time.Time) time.Duration {
		t.Helper()
		var lat time.Duration
		testrig.Eventually(t, 2*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			at, ok := seen[key]
			lat = at.Sub(sent)
			return ok
		}, "supervisor on A never saw %s", key)
		return lat
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	sent := time.Now()
	post(t, b.url+"/api/v1/heartbeat", olive, `{"at":"`+now+`","state":"recording","since":"`+now+`"}`)
	lat1 := waitSeen("recording/", sent)

	sent = time.Now()
	post(t, b.url+"/api/v1/events", olive, fmt.Sprintf(`{"events":[{"id":"x1","seq":1,"time":%q,"type":"recording.state","agent":"olive","call_id":"c1","state":"paused","reason":"payment"}]}`,
		time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)))
	lat2 := waitSeen("paused/payment", sent)
	t.Logf("agent on B seen by a supervisor on A after %v (heartbeat) and %v (event)", lat1, lat2)
	if lat1 > time.Second || lat2 > time.Second {
		t.Fatalf("too slow: %v, %v (want under a second)", lat1, lat2)
	}
	// A third instance started later has the board at once (from the table).
	c := start(t, db, filepath.Join(dir, "c"))
	testrig.Eventually(t, 2*time.Second, func() bool {
		for _, s := range c.srv.Board().Snapshot() {
			if s.Agent == "olive" && s.State == "paused" {
				return true
			}
		}
		return false
	}, "a new instance does not know olive's state")
}

func TestEnrollLocalOnlyEmbedded(t *testing.T) {
	dir := t.TempDir()
	srv, err := central.Open(context.Background(), central.Options{DB: "sqlite:" + filepath.Join(dir, "cg.db"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.EnrollLocal(context.Background(), "olive", "pc"); err != central.ErrNotEmbedded {
		t.Fatalf("EnrollLocal on a network server: %v", err)
	}

	e := start(t, "sqlite:"+filepath.Join(dir, "e.db"), filepath.Join(dir, "edata"))
	t1, err := e.srv.EnrollLocal(context.Background(), "olive", "pc")
	if err != nil {
		t.Fatal(err)
	}
	t2, err := e.srv.EnrollLocal(context.Background(), "olive", "pc")
	if err != nil || t1 == t2 {
		t.Fatalf("second EnrollLocal: %v", err)
	}
	p1, err1 := e.srv.Store().Authenticate(context.Background(), auth.HashToken(t1))
	p2, err2 := e.srv.Store().Authenticate(context.Background(), auth.HashToken(t2))
	if err1 == nil || err2 != nil || p2.Role != server.RoleAgent || p2.Username != "olive" {
		t.Fatalf("old token %v / new token %+v %v", err1, p2, err2)
	}
	_ = p1
	// The local account cannot log in with a password.
	resp, err := http.Post(e.url+"/api/v1/enroll", "application/json", strings.NewReader(`{"username":"olive","password":""}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("password-less login: %d", resp.StatusCode)
	}
	if _, err := e.srv.ServeLoopback("0.0.0.0:0"); err == nil {
		t.Fatal("ServeLoopback accepted a non-loopback address")
	}
	u, err := e.srv.ServeLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(u + "/api/v1/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health on loopback: %v", err)
	}
	resp.Body.Close()
}

// percentile returns the p-th percentile of sorted durations.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

var _ = sort.Slice

// The policy's scorecards are in the store when Open returns, before the
// server has answered anyone: an export or an import in the first moment
// after a start sees them. Checked on a fresh database many times over,
// since the seeding used to race the first requests in a goroutine.
func TestThePolicysScorecardsAreThereWhenTheServerOpens(t *testing.T) {
	pol := centraltest.ScoringPolicy(t)
	for i := range 20 {
		dir := t.TempDir()
		srv, err := central.Open(context.Background(), central.Options{DB: filepath.Join(dir, "cg.db"), DataDir: dir,
			Logger: quiet(), Embedded: true, BcryptCost: 4, Policy: pol})
		if err != nil {
			t.Fatal(err)
		}
		v, err := srv.Store().Scorecard(context.Background(), pol.Scorecards[0].ID, 0)
		srv.Close()
		if err != nil || v.Version != 1 || !v.Active {
			t.Fatalf("start %d: the policy's scorecard in the store: %+v, %v", i, v, err)
		}
	}
}
