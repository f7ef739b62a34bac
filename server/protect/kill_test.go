package protect_test

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/blob"
	"github.com/callguard/callguard/server/protect"
)

// The child process of the kill -9 test: it runs the expiry job on the
// database and data directory it is given and stops dead at a stage.
const (
	childEnv   = "PROTECT_EXPIRY_CHILD" // the database URL
	childData  = "PROTECT_EXPIRY_DATA"
	childClock = "PROTECT_EXPIRY_CLOCK"
	childStall = "PROTECT_EXPIRY_STALL" // "stage:n"
)

func expiryChild() int {
	now, err := time.Parse(time.RFC3339Nano, os.Getenv(childClock))
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	stall := strings.SplitN(os.Getenv(childStall), ":", 2)
	n, _ := strconv.Atoi(stall[1])
	clk := &clock{t: now}
	st := openStoreNoT(os.Getenv(childEnv), clk)
	blobs, err := blob.Open(os.Getenv(childData))
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	svc := protect.New(protect.Options{Store: st, Blobs: blobs, Clock: clk.Now, Logger: quiet(), Batch: 10,
		Stage: func(stage string, k int) {
			if stage == stall[0] && k == n {
				fmt.Println("STALL", stage, k)
				select {} // wait for kill -9
			}
		}})
	if _, err := svc.Expire(context.Background()); err != nil {
		fmt.Println("error", err)
		return 2
	}
	fmt.Println("FINISHED")
	return 0
}

// expiryData creates the same calls in any env: 60 calls a minute apart,
// most with a stored recording, some with an unfinished upload, some with
// none, one held.
func expiryData(t testing.TB, e *env) {
	t.Helper()
	ctx := context.Background()
	for i := range 60 {
		id := fmt.Sprintf("k%02d", i)
		e.ingest(call{id: id, start: t0.Add(time.Duration(i) * time.Minute), remote: fmt.Sprintf("+4416329601%02d", i)})
		switch {
		case i%7 == 0:
		case i%5 == 0:
			e.partial(id, 1000+i)
		default:
			body := []byte(strings.Repeat(id, 500+i))
			e.uploadRaw(id, body)
		}
	}
	if _, err := e.st.PlaceHold(ctx, server.Hold{CallID: "k03", Reason: server.HoldLitigation, Owner: "legal"}, "dee"); err != nil {
		t.Fatal(err)
	}
}

// snapshot is everything a retention run leaves behind that must not
// depend on whether it was interrupted.
type snapshot struct {
	Tombstones []string
	Calls      []string
	Recordings []string
	Files      []string
	Audited    map[string]int
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	ctx := context.Background()
	var s snapshot
	rows := func(q string) []string {
		r, err := e.st.DB().QueryContext(ctx, q)
		if err != nil {
			e.t.Fatal(err)
		}
		defer r.Close()
		cols, _ := r.Columns()
		var out []string
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			r.Scan(ptrs...)
			out = append(out, fmt.Sprint(vals...))
		}
		return out
	}
	s.Tombstones = rows(`SELECT call_id, started_at, ended_at, rule, cause, state, recording_status, recording_bytes, sha256_deleted, sha256_metadata, deleted_at, begun_at FROM tombstones ORDER BY call_id`)
	s.Calls = rows(`SELECT id, personal_deleted_at, remote_number, remote_key, retention_rule, delete_after FROM calls ORDER BY id`)
	s.Recordings = rows(`SELECT call_id, status, size, sha256, manifest FROM recordings ORDER BY call_id`)
	filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(e.dir, p)
			s.Files = append(s.Files, rel)
		}
		return nil
	})
	sort.Strings(s.Files)
	s.Audited = auditedDeletions(e.t, e.st)
	verifyAudit(e.t, e.st)
	return s
}

// TestExpiryKilledMidRunEndsLikeAnUninterruptedRun runs the expiry job in
// a child process, kills it with SIGKILL at several points of a batch
// (tombstones written, some recordings deleted, all recordings deleted),
// runs it again, and compares the result with an uninterrupted run on the
// same data: the same tombstones, the same erased calls, the same files
// left, and every call audited as deleted exactly once.
func TestExpiryKilledMidRunEndsLikeAnUninterruptedRun(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	at := t0.AddDate(0, 0, 91)
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			var want snapshot
			t.Run("uninterrupted", func(t *testing.T) {
				e := newEnv(t, d.url(t), nil)
				expiryData(t, e)
				e.clk.Set(at)
				if rep := e.expire(); rep.Deleted != 59 || rep.HeldPast != 1 || rep.Blobs != 50 || rep.Missing != 9 {
					t.Fatalf("report %+v", rep)
				}
				want = e.snapshot()
			})
			if want.Audited == nil {
				t.FailNow()
			}
			for _, stall := range []string{"begun:2", "blob:25", "blobs:1"} {
				t.Run("killed-at-"+strings.ReplaceAll(stall, ":", "-"), func(t *testing.T) {
					e := newEnv(t, d.url(t), nil)
					expiryData(t, e)
					cmd := exec.Command(exe, "-test.run=^$")
					cmd.Env = append(os.Environ(), childEnv+"="+e.url, childData+"="+e.dir, childClock+"="+at.Format(time.RFC3339Nano), childStall+"="+stall)
					out, err := cmd.StdoutPipe()
					if err != nil {
						t.Fatal(err)
					}
					cmd.Stderr = os.Stderr
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					line := make(chan string, 1)
					go func() {
						sc := bufio.NewScanner(out)
						for sc.Scan() {
							line <- sc.Text()
						}
						close(line)
					}()
					select {
					case l := <-line:
						if !strings.HasPrefix(l, "STALL") {
							cmd.Process.Kill()
							cmd.Wait()
							t.Fatalf("child said %q", l)
						}
					case <-time.After(60 * time.Second):
						cmd.Process.Kill()
						cmd.Wait()
						t.Fatal("the child never reached the stage")
					}
					if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred code, no cleanup
						t.Fatal(err)
					}
					cmd.Wait()
					// The database shows an interrupted run.
					var pending int
					e.st.DB().QueryRow(`SELECT COUNT(*) FROM tombstones WHERE state = 'pending'`).Scan(&pending)
					if pending != 10 {
						t.Fatalf("%d deletions pending after the kill, want a batch of 10", pending)
					}
					e.clk.Set(at)
					rep := e.expire()
					if rep.Resumed != 10 {
						t.Fatalf("resumed %d deletions, want 10: %+v", rep.Resumed, rep)
					}
					got := e.snapshot()
					if !reflect.DeepEqual(got, want) {
						diff(t, "tombstones", got.Tombstones, want.Tombstones)
						diff(t, "calls", got.Calls, want.Calls)
						diff(t, "recordings", got.Recordings, want.Recordings)
						diff(t, "files", got.Files, want.Files)
						t.Fatalf("audited %v, want %v", got.Audited, want.Audited)
					}
				})
			}
		})
	}
}

func diff(t *testing.T, what string, got, want []string) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("%s[%d]: got %q, want %q", what, i, g, w)
			return
		}
	}
}
