package central_test

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
)

// TestCheckpointsLeaveTheDatabase: the server signs a checkpoint every
// interval while records are unsigned and once more when it stops, and
// appends each to the checkpoint log and sends it to syslog.
func TestCheckpointsLeaveTheDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "log.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cpLog := filepath.Join(dir, "outside", "checkpoints.jsonl")
	srv, err := central.Open(context.Background(), central.Options{DB: filepath.Join(dir, "data", "cg.db"), Logger: quiet(),
		AuditKeyFile: filepath.Join(dir, "outside", "audit.pem"), CheckpointLog: cpLog, CheckpointSyslog: "unixgram:" + sock,
		CheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	audit := func(target string) {
		t.Helper()
		if err := srv.Store().Audit(ctx, server.AuditRecord{Actor: "sue", Action: server.AuditCallRead, Target: target}); err != nil {
			t.Fatal(err)
		}
	}
	audit("c1")
	var cps []server.AuditCheckpoint
	deadline := time.Now().Add(5 * time.Second)
	for len(cps) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		cps, _ = central.ReadCheckpoints(cpLog)
	}
	if len(cps) != 1 || cps[0].Seq != 1 {
		t.Fatalf("checkpoint log after one record: %+v", cps)
	}
	audit("c2")
	audit("c3")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	cps, err = central.ReadCheckpoints(cpLog)
	if err != nil || len(cps) < 2 || cps[len(cps)-1].Seq != 3 {
		t.Fatalf("checkpoint log after the stop: %+v %v", cps, err)
	}
	// syslog got the same, as JSON after the syslog header.
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	var got []string
	for len(got) < len(cps) {
		n, err := l.Read(buf)
		if err != nil {
			t.Fatalf("syslog got %d of %d checkpoints: %v", len(got), len(cps), err)
		}
		msg := string(buf[:n])
		if !strings.Contains(msg, "callguard-audit") {
			t.Fatalf("syslog line %q", msg)
		}
		var c server.AuditCheckpoint
		if err := json.Unmarshal([]byte(msg[strings.Index(msg, "{"):]), &c); err != nil {
			t.Fatalf("syslog line %q: %v", msg, err)
		}
		got = append(got, c.Hash)
	}
	for i, c := range cps {
		if got[i] != c.Hash {
			t.Fatalf("syslog checkpoint %d differs from the log's", i)
		}
	}
}

// TestCheckpointLogInsideTheDataDirectoryIsRefused: a checkpoint log that
// a copy of the data directory includes protects nothing.
func TestCheckpointLogInsideTheDataDirectoryIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := central.Open(context.Background(), central.Options{DB: filepath.Join(dir, "cg.db"), DataDir: filepath.Join(dir, "data"), Logger: quiet(),
		CheckpointLog: filepath.Join(dir, "data", "cps.jsonl")})
	if err == nil || !strings.Contains(err.Error(), "inside the data directory") {
		t.Fatalf("Open = %v", err)
	}
}
