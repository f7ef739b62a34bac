//go:build unix

package protect_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

// BenchmarkExpire100kCLI runs the real "callguard-server retention run" on
// 100,000 calls past their date in SQLite and reports the child's wall time
// and peak resident memory (maxrss), the figure cron users care about.
func BenchmarkExpire100kCLI(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 5_000
	}
	bin := filepath.Join(b.TempDir(), "callguard-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/callguard/callguard/cmd/callguard-server")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		url := "sqlite:" + filepath.Join(dir, "cg.db")
		e := newEnv(b, url, nil)
		bulkCalls(b, e, n)
		cmd := exec.Command(bin, "retention", "run", "--db", url, "--data", e.dir, "--json")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		b.StartTimer()
		began := time.Now()
		err := cmd.Run()
		took := time.Since(began)
		b.StopTimer()
		if err != nil {
			b.Fatalf("retention run: %v\n%s", err, out.String())
		}
		var rep server.ExpiryReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Deleted+rep.HeldPast != n {
			b.Fatalf("report %s: %v", out.String(), err)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		b.ReportMetric(float64(rep.Deleted)/took.Seconds(), "calls/s")
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MB")
		b.ReportMetric(float64(rep.Deleted), "deleted")
		b.StartTimer()
	}
}
