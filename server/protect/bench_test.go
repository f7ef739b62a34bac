package protect_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server/protect"
	"github.com/callguard/callguard/server/store"
)

// bulkCalls writes n calls past their retention date straight into the
// database, as ingest would have left them: the call row, four events each,
// a stored recording row and its encrypted file on disk. One call in 50 is
// held by a hold on its agent's day.
func bulkCalls(b *testing.B, e *env, n int) {
	b.Helper()
	ctx := context.Background()
	db := e.st.DB()
	pg := e.st.Dialect() == store.PostgreSQL
	rebind := func(q string) string {
		if !pg {
			return q
		}
		var sb strings.Builder
		k := 0
		for _, c := range q {
			if c == '?' {
				k++
				fmt.Fprintf(&sb, "$%d", k)
				continue
			}
			sb.WriteRune(c)
		}
		return sb.String()
	}
	start := t0.AddDate(0, 0, -200)  // 90 days of calls, all past their date by t0
	body := strings.Repeat("x", 400) // an encrypted recording stand-in
	sum := sha256.Sum256([]byte(body))
	hexSum := hex.EncodeToString(sum[:])
	const chunk = 250
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		var calls, events, recs []string
		var ca, ea, ra []any
		for i := lo; i < hi; i++ {
			id := benchID(i)
			at := start.Add(time.Duration(i) * 77 * time.Second).UnixMilli() // 100,000 in 90 days
			num := fmt.Sprintf("+44163296%04d", i%10000)
			calls = append(calls, "(?, 'dev', ?, 'inbound', '2001', '', ?, 'A Caller', ?, ?, ?, ?, 'recording', 'announced', '[]', '', 'default', ?, 4, ?, ?)")
			agent := fmt.Sprintf("agent%02d", i%40)
			ca = append(ca, id, agent, num, "sip-"+id, at, at+60_000, true, at+90*86_400_000, at, num)
			for k, typ := range []string{"call.ringing", "call.answered", "recording.state", "call.ended"} {
				events = append(events, "(?, 'dev', ?, ?, ?, ?, ?, ?, ?)")
				ev := fmt.Sprintf(`{"id":"%s-%d","seq":%d,"type":%q,"call_id":%q,"call":{"direction":"inbound","remote":{"number":%q,"name":"A Caller"},"started":"%s"}}`,
					id, k, i*4+k+1, typ, id, num, time.UnixMilli(at).UTC().Format(time.RFC3339))
				ea = append(ea, fmt.Sprintf("%s-%d", id, k), i*4+k+1, typ, agent, id, at, at, ev)
			}
			recs = append(recs, "(?, 'dev', 'stored', ?, ?, ?, '{}', ?, ?)")
			ra = append(ra, id, len(body), hexSum, hexSum, at, at)
			if err := writeBlob(e, id, body); err != nil {
				b.Fatal(err)
			}
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO calls (id, device_id, agent, direction, local_number, local_name, remote_number, remote_name, sip_call_id, started_at, ended_at,
				recorded, state, notice, pauses, flag_reasons, retention_rule, delete_after, event_count, updated_at, remote_key) VALUES ` + strings.Join(calls, ","), ca},
			{`INSERT INTO events (id, device_id, seq, type, agent, call_id, at, received_at, body) VALUES ` + strings.Join(events, ","), ea},
			{`INSERT INTO recordings (call_id, device_id, status, size, sha256, uploaded_sha256, manifest, created_at, stored_at) VALUES ` + strings.Join(recs, ","), ra},
		} {
			if _, err := tx.ExecContext(ctx, rebind(q.sql), q.args...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if pg {
		// A production database has statistics (autovacuum analyses tables as
		// they grow); a table loaded a second ago has none, and the planner
		// would scan events whole.
		if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	for d := 0; d < 40; d += 20 {
		day := start.AddDate(0, 0, d)
		to := day.Add(24 * time.Hour)
		if _, err := db.ExecContext(ctx, rebind(`INSERT INTO holds (agent, from_at, to_at, reason, owner, created_at, created_by) VALUES (?, ?, ?, 'litigation', 'legal', ?, 'dee')`),
			"agent07", day.UnixMilli(), to.UnixMilli(), t0.UnixMilli()); err != nil {
			b.Fatal(err)
		}
	}
}

// benchID is a call id like the core's (128 random-looking bits in hex),
// so recordings spread over the blob store's 256 shard directories.
func benchID(i int) string {
	h := sha256.Sum256([]byte(strconv.Itoa(i)))
	return hex.EncodeToString(h[:16])
}

func writeBlob(e *env, id, body string) error {
	p := e.blobs.AudioPath(id)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(body), 0o600)
}

// peakHeap samples the heap in use until stop is closed and returns the
// highest value seen.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// BenchmarkExpire100k deletes 100,000 calls past their date (the 90-day
// volume of the housing association's policy) with their recordings and
// events, in batches of 500: the time of the whole run and the peak heap
// while it runs. Run it with -benchtime=1x; the setup is not timed.
func BenchmarkExpire100k(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 5_000
	}
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				url := benchURL(b, d.name)
				e := newEnv(b, url, nil)
				bulkCalls(b, e, n)
				e.clk.Set(t0)
				svc := protect.New(protect.Options{Store: e.st, Blobs: e.blobs, Clock: e.clk.Now, Logger: quiet(), Batch: 500})
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				stop := make(chan struct{})
				peak := peakHeap(stop)
				b.StartTimer()
				began := time.Now()
				rep, err := svc.Expire(context.Background())
				took := time.Since(began)
				b.StopTimer()
				close(stop)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Deleted+rep.HeldPast != n || rep.HeldPast == 0 || rep.Blobs != rep.Deleted {
					b.Fatalf("report %+v", rep)
				}
				p := <-peak
				b.ReportMetric(float64(rep.Deleted)/took.Seconds(), "calls/s")
				b.ReportMetric(float64(p)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(p-min(p, before.HeapInuse))/(1<<20), "heap-growth-MB")
				b.ReportMetric(float64(rep.Deleted), "deleted")
				b.StartTimer()
			}
		})
	}
}

// benchURL is a fresh database for a benchmark run.
func benchURL(b *testing.B, dialect string) string {
	if dialect == "postgres" {
		return testrig.PostgreSQL(b)
	}
	return "sqlite:" + filepath.Join(b.TempDir(), "cg.db")
}
