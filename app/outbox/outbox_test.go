package outbox

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv("OUTBOX_CHILD_DIR"); dir != "" {
		appendForever(dir)
		return
	}
	os.Exit(m.Run())
}

// appendForever is the child process of the kill -9 test: it appends events
// and reports each seq on stdout once Append returned.
func appendForever(dir string) {
	o, err := Open(dir, "dev-child")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		ev := event(i)
		if err := o.Append(ev); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Fprintln(w, o.LastSeq())
		w.Flush()
	}
}

func event(i int) app.Event {
	return app.Event{ID: fmt.Sprintf("ev-%06d", i), Time: time.Date(2026, 3, 2, 9, 0, 0, i, time.UTC), Type: app.EventRecordingState,
		Agent: "olive", CallID: "call-1", State: "recording", Note: strings.Repeat("x", i%50)}
}

func mustOpen(t *testing.T, dir string) *Outbox {
	t.Helper()
	o, err := Open(dir, "dev-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func seqs(evs []app.Event) []uint64 {
	var out []uint64
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

func TestAppendPeekAckAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	o := mustOpen(t, dir)
	for i := range 5 {
		if err := o.Append(event(i)); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := o.Peek(3)
	if err != nil || fmt.Sprint(seqs(evs)) != "[1 2 3]" || evs[0].Device != "dev-1" || evs[0].ID != "ev-000000" {
		t.Fatalf("Peek = %v, %v", evs, err)
	}
	if err := o.Ack(2); err != nil {
		t.Fatal(err)
	}
	if o.Pending() != 3 {
		t.Fatalf("Pending = %d, want 3", o.Pending())
	}
	o.Close()
	if err := o.Append(event(9)); err != ErrClosed {
		t.Fatalf("append after close: %v", err)
	}

	o = mustOpen(t, dir)
	evs, _ = o.Peek(10)
	if fmt.Sprint(seqs(evs)) != "[3 4 5]" {
		t.Fatalf("after restart: %v", seqs(evs))
	}
	if err := o.Append(event(5)); err != nil {
		t.Fatal(err)
	}
	if o.LastSeq() != 6 {
		t.Fatalf("seq after restart = %d, want 6", o.LastSeq())
	}
	// Acknowledging everything empties the log; seqs still grow after it.
	if err := o.Ack(6); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, logName)); fi.Size() != 0 {
		t.Fatalf("log is %d bytes after everything was acknowledged", fi.Size())
	}
	o.Close()
	o = mustOpen(t, dir)
	if o.Pending() != 0 {
		t.Fatalf("pending after full ack = %d", o.Pending())
	}
	if err := o.Append(event(6)); err != nil {
		t.Fatal(err)
	}
	if o.LastSeq() != 7 {
		t.Fatalf("seq after an emptied log = %d, want 7", o.LastSeq())
	}
}

func TestTornTailIsDroppedNotMisread(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"half a header", func(t *testing.T, path string) { appendBytes(t, path, []byte{0x20, 0, 0}) }},
		{"header without payload", func(t *testing.T, path string) { appendBytes(t, path, []byte{0x20, 0, 0, 0, 1, 2, 3, 4, '{'}) }},
		{"absurd length", func(t *testing.T, path string) { appendBytes(t, path, []byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0}) }},
		{"last record's payload flipped", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			b[len(b)-3] ^= 0x01
			os.WriteFile(path, b, 0o600)
		}},
		{"last record cut short", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			os.Truncate(path, fi.Size()-5)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			o := mustOpen(t, dir)
			for i := range 3 {
				if err := o.Append(event(i)); err != nil {
					t.Fatal(err)
				}
			}
			o.Close()
			tc.damage(t, filepath.Join(dir, logName))
			o = mustOpen(t, dir)
			evs, _ := o.Peek(10)
			got := fmt.Sprint(seqs(evs))
			if got != "[1 2 3]" && got != "[1 2]" {
				t.Fatalf("after damage: %v", got)
			}
			for _, e := range evs {
				want := event(int(e.Seq - 1))
				if e.ID != want.ID || e.Note != want.Note || !e.Time.Equal(want.Time) || e.Device != "dev-1" {
					t.Fatalf("event %d misread: %+v", e.Seq, e)
				}
			}
			// The log goes on cleanly after the cut.
			if err := o.Append(event(7)); err != nil {
				t.Fatal(err)
			}
			o.Close()
			o = mustOpen(t, dir)
			evs, _ = o.Peek(10)
			if last := evs[len(evs)-1]; last.ID != "ev-000007" {
				t.Fatalf("append after the cut reads back as %+v", last)
			}
		})
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(b)
}

func TestCompactionKeepsPendingAndOrder(t *testing.T) {
	dir := t.TempDir()
	o := mustOpen(t, dir)
	for i := range 1500 {
		if err := o.Append(event(i)); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.Stat(filepath.Join(dir, logName))
	if err := o.Ack(1200); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(dir, logName))
	if after.Size() >= before.Size()/2 {
		t.Fatalf("log not compacted: %d → %d bytes", before.Size(), after.Size())
	}
	if err := o.Append(event(1500)); err != nil {
		t.Fatal(err)
	}
	o.Close()
	o = mustOpen(t, dir)
	evs, _ := o.Peek(1000)
	if len(evs) != 301 || evs[0].Seq != 1201 || evs[300].Seq != 1501 {
		t.Fatalf("after compaction: %d events, %d…%d", len(evs), evs[0].Seq, evs[len(evs)-1].Seq)
	}
	for i, e := range evs {
		if e.Seq != uint64(1201+i) || e.ID != fmt.Sprintf("ev-%06d", 1200+i) {
			t.Fatalf("event %d is %+v", i, e)
		}
	}
}

// TestSurvivesKill9 kills a process that appends as fast as it can, then
// checks that every event whose Append returned is in the outbox, in order,
// and that seqs go on from there.
func TestSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "OUTBOX_CHILD_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		var confirmed uint64
		for sc.Scan() {
			n, _ := strconv.ParseUint(sc.Text(), 10, 64)
			confirmed = n
			if n%100 == 0 && n >= uint64(200*(round+1)) {
				break
			}
		}
		cmd.Process.Kill() // SIGKILL: no chance to flush or close
		cmd.Wait()

		o, err := Open(dir, "dev-child")
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := o.Peek(1 << 20)
		if uint64(len(evs)) < confirmed {
			t.Fatalf("round %d: %d events confirmed, %d in the outbox", round, confirmed, len(evs))
		}
		for i, e := range evs {
			if e.Seq != uint64(i+1) {
				t.Fatalf("round %d: event %d has seq %d", round, i, e.Seq)
			}
		}
		o.Close()
	}
}

// An append whose fsync fails was reported as failed, so it must leave no
// trace: the next event takes its seq, and after a restart the log holds
// each seq once.
func TestFailedSyncLeavesNoRecord(t *testing.T) {
	dir := t.TempDir()
	o := mustOpen(t, dir)
	if err := o.Append(event(0)); err != nil {
		t.Fatal(err)
	}
	o.sync = func(*os.File) error { return fmt.Errorf("EIO") }
	if err := o.Append(event(1)); err == nil || !strings.Contains(err.Error(), "EIO") {
		t.Fatalf("append with a failing fsync: %v", err)
	}
	o.sync = (*os.File).Sync
	if err := o.Append(event(2)); err != nil {
		t.Fatal(err)
	}
	o.Close()
	o = mustOpen(t, dir)
	defer o.Close()
	evs, err := o.Peek(10)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(seqs(evs)); got != "[1 2]" || evs[1].ID != event(2).ID {
		t.Fatalf("after a failed fsync and a restart the log holds seqs %s (%v), want [1 2] with the third event second", got, evs)
	}
}
