package central_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
)

// ingestBody is a batch of 100 events: 10 calls of 10 state changes.
func ingestBody(batch int) string {
	var evs []string
	for i := range 100 {
		seq := batch*100 + i + 1
		call := fmt.Sprintf("b%d-c%d", batch, i/10)
		evs = append(evs, fmt.Sprintf(`{"id":"e%d","seq":%d,"time":"2026-03-02T10:%02d:%02dZ","type":"recording.state","agent":"olive","call_id":%q,"state":"recording"}`,
			seq, seq, (i/60)%60, i%60, call))
	}
	return `{"events":[` + strings.Join(evs, ",") + `]}`
}

func benchIngest(b *testing.B, db string) {
	in := start(b, db, filepath.Join(b.TempDir(), "data"))
	tok := token(b, in.srv, "olive", server.RoleAgent)
	bodies := make([]string, b.N)
	for i := range bodies {
		bodies[i] = ingestBody(i)
	}
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < b.N; i++ {
		post(b, in.url+"/api/v1/events", tok, bodies[i])
	}
	b.ReportMetric(float64(b.N*100)/time.Since(t0).Seconds(), "events/s")
}

// BenchmarkIngestSQLite: events/s through HTTP into SQLite (WAL, full fsync),
// in batches of 100 as the desktop sends them.
func BenchmarkIngestSQLite(b *testing.B) {
	benchIngest(b, "sqlite:"+filepath.Join(b.TempDir(), "cg.db"))
}

// BenchmarkIngestPostgreSQL: the same into PostgreSQL.
func BenchmarkIngestPostgreSQL(b *testing.B) {
	benchIngest(b, testrig.PostgreSQL(b))
}

// BenchmarkLiveBoard: 1,000 agents each change state once per round while
// 50 supervisors follow the board; the latency is from the start of the
// agent's heartbeat request to a supervisor reading the change.
func BenchmarkLiveBoard(b *testing.B) {
	const agents, supervisors = 1000, 50
	in := start(b, "sqlite:"+filepath.Join(b.TempDir(), "cg.db"), filepath.Join(b.TempDir(), "data"))
	toks := make([]string, agents)
	for i := range toks {
		toks[i] = token(b, in.srv, fmt.Sprintf("agent%04d", i), server.RoleAgent)
	}
	var sent sync.Map // reason tag → time.Time
	var mu sync.Mutex
	var lats []time.Duration
	var got atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for s := range supervisors {
		tok := token(b, in.srv, fmt.Sprintf("sup%02d", s), server.RoleSupervisor)
		ready := make(chan struct{})
		go follow(ctx, b, in.url, tok, ready, func(a server.AgentState, at time.Time) {
			if v, ok := sent.Load(a.Reason); ok {
				mu.Lock()
				lats = append(lats, at.Sub(v.(time.Time)))
				mu.Unlock()
				got.Add(1)
			}
		})
		<-ready
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	round := func(r int) {
		var wg sync.WaitGroup
		work := make(chan int)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					tag := fmt.Sprintf("r%d-a%d", r, i)
					now := time.Now().UTC().Format(time.RFC3339Nano)
					req, _ := http.NewRequest("POST", in.url+"/api/v1/heartbeat", strings.NewReader(
						`{"at":"`+now+`","state":"paused","reason":"`+tag+`","since":"`+now+`"}`))
					req.Header.Set("Authorization", "Bearer "+toks[i])
					sent.Store(tag, time.Now())
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						continue
					}
					resp.Body.Close()
				}
			}()
		}
		for i := range agents {
			work <- i
		}
		close(work)
		wg.Wait()
	}
	round(-1) // warm up: first heartbeats are saved to the database
	testrig.Eventually(b, 30*time.Second, func() bool { return got.Load() >= agents*supervisors }, "warm-up round not delivered")
	mu.Lock()
	lats = lats[:0]
	mu.Unlock()
	got.Store(0)
	b.ResetTimer()
	for r := 0; r < b.N; r++ {
		round(r)
	}
	testrig.Eventually(b, 60*time.Second, func() bool { return got.Load() >= int64(b.N*agents*supervisors) }, "updates not delivered")
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	b.ReportMetric(float64(percentile(lats, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lats, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lats)), "deliveries")
}
