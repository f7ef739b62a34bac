package central_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
)

// longCallBatch is n pause/resume events for call, seqs from seq.
func longCallBatch(call string, seq, n int) string {
	evs := make([]string, n)
	for i := range evs {
		state := `"state":"paused","reason":"payment"`
		if (seq+i)%2 == 0 {
			state = `"state":"recording"`
		}
		evs[i] = fmt.Sprintf(`{"id":"%s-%d","seq":%d,"time":"2026-03-02T10:%02d:%02dZ","type":"recording.state","agent":"olive","call_id":%q,%s}`,
			call, seq+i, seq+i, (seq+i)/60%60, (seq+i)%60, call, state)
	}
	return `{"events":[` + strings.Join(evs, ",") + `]}`
}

// benchLongCalls: batches of 10 events into calls that already hold 1,000
// each, as a desktop pausing and resuming all day (or a hostile one) makes
// them: what one batch costs while it holds the database's write lock.
func benchLongCalls(b *testing.B, db string) {
	const calls, prior, batch = 20, 1000, 10
	in := start(b, db, filepath.Join(b.TempDir(), "data"))
	tok := token(b, in.srv, "olive", server.RoleAgent)
	seq := 1
	for c := range calls {
		post(b, in.url+"/api/v1/events", tok, longCallBatch(fmt.Sprintf("long%d", c), seq, prior))
		seq += prior
	}
	bodies := make([]string, b.N)
	for i := range bodies {
		bodies[i] = longCallBatch(fmt.Sprintf("long%d", i%calls), seq, batch)
		seq += batch
	}
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < b.N; i++ {
		post(b, in.url+"/api/v1/events", tok, bodies[i])
	}
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/float64(b.N), "ms/batch")
	b.ReportMetric(float64(b.N*batch)/time.Since(t0).Seconds(), "events/s")
}

// BenchmarkIngestIntoLongCallsSQLite: see benchLongCalls.
func BenchmarkIngestIntoLongCallsSQLite(b *testing.B) {
	benchLongCalls(b, "sqlite:"+filepath.Join(b.TempDir(), "cg.db"))
}

// BenchmarkIngestIntoLongCallsPostgreSQL: see benchLongCalls.
func BenchmarkIngestIntoLongCallsPostgreSQL(b *testing.B) {
	benchLongCalls(b, testrig.PostgreSQL(b))
}
