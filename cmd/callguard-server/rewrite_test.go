package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/store"
)

// TestARewrittenAuditLogFailsVerifyThroughTheBinary runs the real server,
// lets it audit sign-ins and searches and export its checkpoints, stops
// it, and then does what someone who holds the database (not the key,
// which is elsewhere) can: drop the append-only triggers, delete a record,
// renumber and rehash the chain, delete the checkpoints. audit verify used
// to pass that; now it fails on its own and against the checkpoint log.
func TestARewrittenAuditLogFailsVerifyThroughTheBinary(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "var", "callguard.db")
	db := "sqlite:" + dbPath
	key := filepath.Join(dir, "etc", "audit-ed25519.pem")
	cpLog := filepath.Join(dir, "log", "audit-checkpoints.jsonl")
	cli := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "CALLGUARD_DB="+db)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := cli("password-1234\n", "user", "add", "--username", "sue", "--role", "supervisor"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	port := testrig.FreePort(t, "tcp")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	srv := exec.Command(bin, "serve", "--listen", addr, "--audit-key", key, "--checkpoint-log", cpLog, "--checkpoint-interval", "200ms")
	srv.Env = append(os.Environ(), "CALLGUARD_DB="+db)
	var logs strings.Builder
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	base := "http://" + addr
	var tok string
	testrig.Eventually(t, 10*time.Second, func() bool {
		resp, err := http.Post(base+"/api/v1/enroll", "application/json", strings.NewReader(`{"username":"sue","password":"password-1234"}`))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var enr server.Enrolment
		json.NewDecoder(resp.Body).Decode(&enr)
		tok = enr.Token
		return tok != ""
	}, "the server did not start: %s", &logs)
	for i := range 6 {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/calls?number=%%2B4416329601%02d", base, i), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve: %v\n%s", err, &logs)
	}
	exported, err := central.ReadCheckpoints(cpLog)
	if err != nil || len(exported) == 0 || exported[len(exported)-1].Seq != 8 {
		t.Fatalf("checkpoint log after the stop (8 records: user add, a login, 6 searches): %+v %v\n%s", exported, err, &logs)
	}
	if out, err := cli("", "audit", "verify", "--audit-key", key, "--checkpoints", cpLog); err != nil || !strings.Contains(out, "audit chain OK") {
		t.Fatalf("verify of the untouched log: %v\n%s", err, out)
	}

	// The rewrite: sue's third search never happened.
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := st.AuditLog(context.Background(), 0, 100)
	const gone = 4
	for _, q := range []string{`DROP TRIGGER audit_no_update`, `DROP TRIGGER audit_no_delete`, `DROP TRIGGER audit_checkpoints_no_delete`,
		fmt.Sprintf(`DELETE FROM audit WHERE seq >= %d`, gone), `DELETE FROM audit_checkpoints`} {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	prev := recs[gone-2].Hash
	for _, r := range recs[gone:] {
		r.Seq--
		r.PrevHash = prev
		r.Hash = store.AuditHash(prev, r)
		if _, err := st.DB().Exec(`INSERT INTO audit (seq, at, actor, device_id, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Seq, r.At.UnixMilli(), r.Actor, r.Device, r.Action, r.Target, r.Detail, r.PrevHash, r.Hash); err != nil {
			t.Fatal(err)
		}
		prev = r.Hash
	}
	st.Close()

	out, err := cli("", "audit", "verify", "--audit-key", key)
	if err == nil || !strings.Contains(out, "no signed checkpoint") {
		t.Fatalf("the rewritten log verified on its own: %v\n%s", err, out)
	}
	out, err = cli("", "audit", "verify", "--audit-key", key, "--checkpoints", cpLog)
	if err == nil || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "deleted or replaced") {
		t.Fatalf("the rewritten log verified against the checkpoint log: %v\n%s", err, out)
	}
}
