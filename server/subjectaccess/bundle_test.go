package subjectaccess_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/subjectaccess"
)

// Opened reads a bundle: every file by name, and the names in order.
type opened struct {
	files map[string][]byte
	names []string
}

func openZip(t *testing.T, b []byte) opened {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the bundle is not a zip: %v", err)
	}
	o := opened{files: map[string][]byte{}}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if _, dup := o.files[f.Name]; dup {
			t.Errorf("%s is in the bundle twice", f.Name)
		}
		o.files[f.Name] = body
		o.names = append(o.names, f.Name)
	}
	return o
}

var (
	safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$`)
	sumLine  = regexp.MustCompile(`^([0-9a-f]{64})  (\S+)$`)
)

// checkSums checks SHA256SUMS against every other file of the bundle, as
// "sha256sum -c" would, and that it names every one of them.
func checkSums(t *testing.T, o opened) {
	t.Helper()
	sums, ok := o.files[subjectaccess.SumsName]
	if !ok {
		t.Fatal("no SHA256SUMS in the bundle")
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(sums), "\n"), "\n") {
		m := sumLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("SHA256SUMS line %q is not in sha256sum's format", line)
		}
		body, ok := o.files[m[2]]
		if !ok {
			t.Errorf("SHA256SUMS names %s, which is not in the bundle", m[2])
			continue
		}
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != m[1] {
			t.Errorf("%s does not match its checksum", m[2])
		}
		listed[m[2]] = true
	}
	for _, name := range o.names {
		if name != subjectaccess.SumsName && !listed[name] {
			t.Errorf("%s is not in SHA256SUMS", name)
		}
		if !safeName.MatchString(name) || strings.Contains(name, "..") {
			t.Errorf("unsafe name in the bundle: %q", name)
		}
	}
}

// TestTheBundleHoldsTheSubjectsCallsChecked: the calls of the case's
// number within its dates (and no others) are in the bundle, each kept
// recording decrypted and audited with the case id, the index rows say
// each call's time, direction, duration, officer (withheld as the policy
// says) and pauses with their reasons, and every file matches SHA256SUMS.
func TestTheBundleHoldsTheSubjectsCallsChecked(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		olga := e.principal("olga", server.RoleAgent)
		at := func(s string) time.Time {
			v, err := time.Parse("2006-01-02 15:04", s)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		const subject = "+447700900123"
		calls := []struct {
			c      call
			by     server.Principal
			upload bool
		}{
			{call{id: "c-in-1", remote: subject, start: at("2026-02-02 10:00"), pauses: []pause{{"payment", 10, 25}}}, e.agent, true},
			{call{id: "c-out-2", remote: subject, direction: "outbound", start: at("2026-02-15 14:30"), seconds: 90, pauses: []pause{{"health", 30, 40}, {"caller-request", 50, 52}}}, olga, true},
			{call{id: "c-norec-3", remote: subject, start: at("2026-02-20 08:00")}, e.agent, false},
			{call{id: "c-last-4", remote: "+44 (0)7700 900-123", start: at("2026-02-28 23:30"), seconds: 30}, e.agent, true}, // as a phone system may write it
			{call{id: "c-before", remote: subject, start: at("2026-01-10 12:00")}, e.agent, true},
			{call{id: "c-after", remote: subject, start: at("2026-03-01 00:30")}, e.agent, true},
			{call{id: "c-other", remote: "+441632960999", start: at("2026-02-03 09:00")}, e.agent, true},
		}
		for _, x := range calls {
			e.ingest(x.c, x.by)
			switch {
			case x.upload && x.c.id == "c-last-4":
				e.uploadOpus(x.c.id, x.by) // recorded after the switch to Opus
			case x.upload:
				e.upload(x.c.id, x.by, 2)
			}
		}
		r := request("07700 900123")
		r.From, _ = server.ParseDate("2026-02-01")
		r.To, _ = server.ParseDate("2026-02-28")
		c, err := e.svc.Open(ctx, e.dpo, r)
		if err != nil {
			t.Fatal(err)
		}
		_, found, err := e.svc.Calls(ctx, e.dpo, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range found {
			ids = append(ids, f.DesktopID)
		}
		if strings.Join(ids, " ") != "c-in-1 c-out-2 c-norec-3 c-last-4" {
			t.Fatalf("calls found %v", ids)
		}

		var buf bytes.Buffer
		started := false
		if err := e.svc.Bundle(ctx, e.dpo, c.ID, &buf, func() { started = true }); err != nil {
			t.Fatal(err)
		}
		if !started {
			t.Error("before was not called")
		}
		o := openZip(t, buf.Bytes())
		checkSums(t, o)
		wantNames := []string{subjectaccess.ReadmeName, "recordings/001-20260202-1000-incoming.wav", "recordings/002-20260215-1430-outgoing.wav",
			"recordings/004-20260228-2330-incoming.opus", subjectaccess.IndexCSV, subjectaccess.IndexHTML, subjectaccess.SumsName}
		if strings.Join(o.names, " ") != strings.Join(wantNames, " ") {
			t.Fatalf("bundle holds %v, want %v", o.names, wantNames)
		}
		for i, id := range []string{"c-in-1", "c-out-2", "c-last-4"} {
			var want bytes.Buffer
			if _, err := e.prot.Play(ctx, found[[]int{0, 1, 3}[i]].ID, &want, nil); err != nil {
				t.Fatal(err)
			}
			if got := o.files[wantNames[1+i]]; !bytes.Equal(got, want.Bytes()) || len(got) < 14000 {
				t.Errorf("%s's recording in the bundle (%d bytes) is not its decrypted recording (%d bytes)", id, len(got), want.Len())
			}
		}

		rows, err := csv.NewReader(bytes.NewReader(o.files[subjectaccess.IndexCSV])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows[0], ",") != strings.Join(subjectaccess.IndexHeader, ",") {
			t.Fatalf("header %v", rows[0])
		}
		want := [][]string{
			{"1", wantNames[1], "2026-02-02 10:00:00", "incoming", "1 min 0 s", "Officer 1", "10:00:10–10:00:25 (15 s) paused: Card payment", "included", found[0].ID},
			{"2", wantNames[2], "2026-02-15 14:30:00", "outgoing", "1 min 30 s", "Officer 2",
				"14:30:30–14:30:40 (10 s) paused: Health details; 14:30:50–14:30:52 (2 s) paused: Caller asked to pause", "included", found[1].ID},
			{"3", "", "2026-02-20 08:00:00", "incoming", "1 min 0 s", "Officer 1", "", "not recorded", found[2].ID},
			{"4", wantNames[3], "2026-02-28 23:30:00", "incoming", "30 s", "Officer 1", "", "included", found[3].ID},
		}
		if len(rows)-1 != len(want) {
			t.Fatalf("index has %d rows, want %d: %v", len(rows)-1, len(want), rows)
		}
		for i, w := range want {
			if strings.Join(rows[i+1], "|") != strings.Join(w, "|") {
				t.Errorf("index row %d\n got %q\nwant %q", i+1, rows[i+1], w)
			}
		}
		html := string(o.files[subjectaccess.IndexHTML])
		for _, w := range []string{"Officer 2", "paused: Health details", `href="recordings/002-20260215-1430-outgoing.wav"`, "1 min 30 s", "not recorded",
			`href="recordings/004-20260228-2330-incoming.opus"`, "open one in a web browser (Firefox, Chrome or Edge) or with VLC"} {
			if !strings.Contains(html, w) {
				t.Errorf("index.html lacks %q", w)
			}
		}
		for name, body := range o.files {
			if strings.HasSuffix(name, ".wav") || strings.HasSuffix(name, ".opus") {
				continue
			}
			for _, officer := range []string{"olive", "olga"} {
				if strings.Contains(string(body), officer) {
					t.Errorf("%s names officer %s, whose name the policy withholds", name, officer)
				}
			}
		}

		bundles := e.audits(server.AuditSARBundle)
		if len(bundles) != 1 || bundles[0].Target != c.Target() || !strings.Contains(bundles[0].Detail, found[2].ID) {
			t.Fatalf("bundle audit %+v", bundles)
		}
		recs := e.audits(server.AuditSARRecording)
		if len(recs) != 3 {
			t.Fatalf("%d recordings audited into the bundle, want 3: %+v", len(recs), recs)
		}
		for i, rec := range recs {
			var d struct{ Case, File string }
			json.Unmarshal([]byte(rec.Detail), &d)
			if rec.Target != found[[]int{0, 1, 3}[i]].ID || d.Case != c.Target() || d.File != strings.TrimSuffix(wantNames[1+i], path.Ext(wantNames[1+i])) || rec.Actor != "dora" {
				t.Errorf("recording audit %d: %+v", i, rec)
			}
		}
	})
}

// TestOfficerNamesFollowThePolicy: initials, full names, or numbered.
func TestOfficerNamesFollowThePolicy(t *testing.T) {
	e := newEnv(t, dialects[0].url(t))
	ctx := context.Background()
	e.ingest(call{id: "c1", remote: "+447700900123", start: t0.Add(-48 * time.Hour)}, e.agent)
	for rule, want := range map[string]string{policy.OfficerNamesInitials: "O.", policy.OfficerNamesFull: "olive", policy.OfficerNamesWithheld: "Officer 1"} {
		pol := *e.pol
		pol.SubjectAccess.OfficerNames = rule
		svc := subjectaccess.New(subjectaccess.Options{Store: e.st, Recordings: e.prot, Policy: &pol, Clock: e.clk.Now})
		c, err := svc.Open(ctx, e.dpo, request("+447700900123"))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := svc.Bundle(ctx, e.dpo, c.ID, &buf, nil); err != nil {
			t.Fatal(err)
		}
		o := openZip(t, buf.Bytes())
		checkSums(t, o)
		rows, _ := csv.NewReader(bytes.NewReader(o.files[subjectaccess.IndexCSV])).ReadAll()
		if len(rows) != 2 || rows[1][5] != want {
			t.Errorf("%s: index %v, want officer %q", rule, rows, want)
		}
	}
	// An account name that a spreadsheet would run as a formula is not one
	// in index.csv.
	mallory := e.principal("=HYPERLINK(\"http://evil.example\")", server.RoleAgent)
	e.ingest(call{id: "c2", remote: "+447700900123", start: t0.Add(-24 * time.Hour)}, mallory)
	pol := *e.pol
	pol.SubjectAccess.OfficerNames = policy.OfficerNamesFull
	svc := subjectaccess.New(subjectaccess.Options{Store: e.st, Recordings: e.prot, Policy: &pol, Clock: e.clk.Now})
	c, err := svc.Open(ctx, e.dpo, request("+447700900123"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := svc.Bundle(ctx, e.dpo, c.ID, &buf, nil); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(bytes.NewReader(openZip(t, buf.Bytes()).files[subjectaccess.IndexCSV])).ReadAll()
	if len(rows) != 3 || rows[2][5] != `'=HYPERLINK("http://evil.example")` {
		t.Errorf("a formula as an officer's name: %q", rows)
	}
	for in, want := range map[string]string{"alice.smith": "A. S.", "Alice Smith": "A. S.", "bob@example.org": "B.", "émile-zola": "É. Z.", "": "—"} {
		if got := subjectaccess.Initials(in); got != want {
			t.Errorf("Initials(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNoBundleWithoutTheKey: a server without the organisation key
// cannot decrypt, so it makes no bundle and says why.
func TestNoBundleWithoutTheKey(t *testing.T) {
	e := newEnv(t, dialects[0].url(t))
	svc := subjectaccess.New(subjectaccess.Options{Store: e.st, Clock: e.clk.Now})
	c, err := svc.Open(context.Background(), e.dpo, request("+447700900123"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := svc.Bundle(context.Background(), e.dpo, c.ID, &buf, nil); err == nil || buf.Len() > 0 || !strings.Contains(err.Error(), "organisation key") {
		t.Fatalf("bundle without a key = %v, %d bytes", err, buf.Len())
	}
}

// TestCardDetailsNeverLeaveInABundle: a recording whose card details are
// not yet silenced is withheld from the bundle, with a note saying why and
// no audit of a decryption; the other call's recording goes in. Times in
// the index are UK time (BST in July).
func TestCardDetailsNeverLeaveInABundle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.ingest(call{id: "card-call", remote: "+447700900123", start: time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC), card: true}, e.agent)
		e.upload("card-call", e.agent, 2)
		e.ingest(call{id: "plain-call", remote: "+447700900123", start: time.Date(2025, 7, 2, 10, 0, 0, 0, time.UTC)}, e.agent)
		e.upload("plain-call", e.agent, 2)
		c, err := e.svc.Open(ctx, e.dpo, request("07700 900123"))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := e.svc.Bundle(ctx, e.dpo, c.ID, &buf, nil); err != nil {
			t.Fatal(err)
		}
		o := openZip(t, buf.Bytes())
		checkSums(t, o)
		want := []string{subjectaccess.ReadmeName, "recordings/001-20250701-1100-incoming.withheld.txt", "recordings/002-20250702-1100-incoming.wav",
			subjectaccess.IndexCSV, subjectaccess.IndexHTML, subjectaccess.SumsName}
		if strings.Join(o.names, " ") != strings.Join(want, " ") {
			t.Fatalf("bundle holds %v, want %v", o.names, want)
		}
		if !strings.Contains(string(o.files[want[1]]), "card details in it are not yet silenced") {
			t.Errorf("the note says %q", o.files[want[1]])
		}
		rows, _ := csv.NewReader(bytes.NewReader(o.files[subjectaccess.IndexCSV])).ReadAll()
		if len(rows) != 3 || rows[1][1] != "" || rows[1][7] != "withheld until card details in it are silenced" || rows[1][2] != "2025-07-01 11:00:00" || rows[2][7] != "included" {
			t.Errorf("index %q", rows)
		}
		_, found, err := e.svc.Calls(ctx, e.dpo, c.ID)
		if err != nil || len(found) != 2 {
			t.Fatalf("calls %v, %v", found, err)
		}
		recs := e.audits(server.AuditSARRecording)
		if len(recs) != 1 || recs[0].Target != found[1].ID || strings.Contains(recs[0].Detail, "001-") {
			t.Errorf("decryptions audited: %+v, want only the plain call's", recs)
		}
	})
}

// TestTheBundleStreams: the zip goes out as the recordings are decrypted,
// one after another: the first recording's audio has left before the
// second is audited and decrypted, so no bundle is held in memory whole.
func TestTheBundleStreams(t *testing.T) {
	e := newEnv(t, dialects[0].url(t))
	ctx := context.Background()
	for i, id := range []string{"s1", "s2", "s3"} {
		e.ingest(call{id: id, remote: "+447700900123", start: t0.Add(-time.Duration(72-i) * time.Hour)}, e.agent)
		e.upload(id, e.agent, 4)
	}
	c, err := e.svc.Open(ctx, e.dpo, request("+447700900123"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		written        int64
		beforeSecond   int64
		auditedAtWrite = map[int]bool{}
	)
	w := writerFunc(func(p []byte) (int, error) {
		n := len(e.audits(server.AuditSARRecording))
		auditedAtWrite[n] = true
		if n <= 1 {
			beforeSecond = written + int64(len(p))
		}
		written += int64(len(p))
		return len(p), nil
	})
	if err := e.svc.Bundle(ctx, e.dpo, c.ID, w, nil); err != nil {
		t.Fatal(err)
	}
	// 4 s of 16 kHz stereo PCM16 is 256,000 bytes; deflate shrinks the test
	// signal little.
	if beforeSecond < 128_000 || !auditedAtWrite[1] || !auditedAtWrite[2] {
		t.Fatalf("%d of %d bytes went out before the second recording was audited (writes seen with %v recordings audited): the bundle is not streamed",
			beforeSecond, written, auditedAtWrite)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// BenchmarkBundle makes the bundle of a case with 10 recordings of a
// minute each (38 MB of audio) into a writer that keeps nothing, and
// reports the peak heap while it runs beside the bundle's size: the zip
// is streamed, so the peak stays far below the bundle. Run with
// -benchtime=3x.
func BenchmarkBundle(b *testing.B) {
	e := newEnv(b, "sqlite:"+filepath.Join(b.TempDir(), "cg.db"))
	ctx := context.Background()
	for i := range 10 {
		id := fmt.Sprintf("long-%02d", i)
		e.ingest(call{id: id, remote: "+447700900123", start: t0.Add(-time.Duration(100-i) * time.Hour)}, e.agent)
		e.upload(id, e.agent, 60)
	}
	c, err := e.svc.Open(ctx, e.dpo, request("07700 900123"))
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	peak := peakHeap(stop)
	b.ResetTimer()
	for range b.N {
		n := &countingWriter{}
		if err := e.svc.Bundle(ctx, e.dpo, c.ID, n, nil); err != nil {
			b.Fatal(err)
		}
		size = n.n
	}
	b.StopTimer()
	close(stop)
	p := <-peak
	b.SetBytes(size)
	b.ReportMetric(float64(size)/1e6, "bundle-MB")
	b.ReportMetric(float64(p-min(p, before.HeapInuse))/1e6, "peak-heap-growth-MB")
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// peakHeap samples the heap in use until stop is closed and returns the
// highest value seen.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}
