package web_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

// bulkSubjectCalls writes n calls straight into the database as ingest
// leaves them (numbers in E.164), over 90 days before sarStart: one in
// 5,000 is the subject's (+447700900123), the rest spread over 10,000
// other numbers.
func bulkSubjectCalls(b *testing.B, r *rig, n int) {
	b.Helper()
	ctx := context.Background()
	db := r.srv.Store().DB()
	start := sarStart.AddDate(0, 0, -90)
	const chunk = 400
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		var rows []string
		var args []any
		for i := lo; i < hi; i++ {
			at := start.Add(time.Duration(i) * 77 * time.Second).UnixMilli()
			num := fmt.Sprintf("+44163296%04d", i%10000)
			if i%5000 == 0 {
				num = "+447700900123"
			}
			rows = append(rows, "(?, 'dev', ?, 'inbound', '2001', ?, ?, ?, ?, 1, 'recording', 'announced', '[]', 'default', 4, ?, ?, ?)")
			args = append(args, fmt.Sprintf("bulk-%06d", i), fmt.Sprintf("agent%02d", i%40), num, at, at+60_000, at, at, num, num)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO calls (id, device_id, agent, direction, local_number, remote_number, started_at, ended_at,
			counted_from, recorded, state, notice, pauses, retention_rule, event_count, updated_at, remote_key, remote_e164) VALUES `+strings.Join(rows, ","), args...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCasePages100k times the subject-access pages on SQLite with
// 100,000 calls and 200 cases, through HTTP as the browser asks for them
// (session, role check, the audited read, the template): the list, and a
// case that finds its subject's 24 calls among the 100,000. It reports
// each page's p50 and p95. Run with -benchtime=200x; the setup is not
// timed.
func BenchmarkCasePages100k(b *testing.B) {
	r := newSARRig(b, "")
	bulkSubjectCalls(b, r.rig, 100_000)
	ctx := context.Background()
	st := r.srv.Store()
	var subject server.SARCase
	for i := 0; i < 200; i++ {
		received := sarStart.AddDate(0, 0, -i%45)
		number := fmt.Sprintf("+44163296%04d", i)
		if i == 0 {
			number = "07700 900123"
		}
		c, err := st.CreateSAR(ctx, server.NewSARCase(server.SARRequest{RequesterName: fmt.Sprintf("Requester %d", i), RequesterContact: "x",
			IdentityMethod: "passport", IdentityCheckedBy: "dora", Received: server.Date(received, nil), Numbers: []string{number}},
			"dora", sarStart, nil))
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			subject = c
		}
	}
	br := r.browser()
	br.signIn("dora")
	_, body := br.do("GET", "/cases/"+strconv.FormatInt(subject.ID, 10), nil, nil)
	if got := strings.Count(body, `<tr><td data-label="Started">`); got != 24 {
		b.Fatalf("the subject's case finds %d calls, want 24 (20 bulk, 4 of the rig)", got)
	}
	b.ResetTimer()
	list, one := casePageTimes(b, br, subject.ID, b.N)
	b.StopTimer()
	b.ReportMetric(float64(percentile(list, 50).Microseconds())/1000, "list-p50-ms")
	b.ReportMetric(float64(percentile(list, 95).Microseconds())/1000, "list-p95-ms")
	b.ReportMetric(float64(percentile(one, 50).Microseconds())/1000, "case-p50-ms")
	b.ReportMetric(float64(percentile(one, 95).Microseconds())/1000, "case-p95-ms")
}

// casePageTimes is what BenchmarkCasePages100k measures, apart from the
// benchmark's own loop, so a test can check its numbers too.
func casePageTimes(b *testing.B, br *browser, caseID int64, n int) (list, one []time.Duration) {
	b.Helper()
	for i := 0; i < n; i++ {
		for _, p := range []struct {
			path string
			into *[]time.Duration
		}{{"/cases", &list}, {"/cases/" + strconv.FormatInt(caseID, 10), &one}} {
			t0 := time.Now()
			resp, body := br.do("GET", p.path, nil, nil)
			*p.into = append(*p.into, time.Since(t0))
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET %s: %s\n%s", p.path, resp.Status, body)
			}
		}
	}
	return list, one
}

// percentile is the p-th percentile (0–100) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
