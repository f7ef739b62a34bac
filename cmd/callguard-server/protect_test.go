package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/blob"
	"github.com/callguard/callguard/server/store"
)

// seed puts calls into a fresh SQLite database the way the server would:
// one from 100 days ago with a stored recording (past the default 90
// days), one from yesterday.
func seed(t *testing.T, db, data string) {
	t.Helper()
	ctx := context.Background()
	pol, _ := policy.Parse(assets.DefaultPolicy())
	// Each call's events reach the server as the call happens: its clock
	// decides what retention counts from.
	now := time.Now()
	st, err := store.Open(ctx, db, store.WithPolicy(pol), store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		store.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ := st.CreateUser(ctx, "olive", server.RoleAgent, "", false)
	tok, hash := auth.NewToken()
	st.CreateDevice(ctx, auth.NewID(), u.ID, "pc", hash)
	p, _ := st.Authenticate(ctx, auth.HashToken(tok))
	for i, ago := range []time.Duration{100 * 24 * time.Hour, 24 * time.Hour} {
		start := time.Now().Add(-ago).UTC().Truncate(time.Second)
		now = start
		id := fmt.Sprintf("cli-%d", i)
		ev := server.Event{ID: id + "-e", Seq: uint64(i + 1), Time: start, Type: server.EventCallEnded, CallID: id,
			Call: &server.EventCall{Direction: "inbound", Remote: server.Party{Number: "+441632960123"}, Started: start, Ended: &start}}
		if _, err := st.Ingest(ctx, p, []server.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	now = time.Now()
	blobs, _ := blob.Open(data)
	body := []byte("encrypted audio, as far as this test cares")
	sum := sha256.Sum256(body)
	hexSum := hex.EncodeToString(sum[:])
	st.ClaimRecording(ctx, p, "cli-0")
	blobs.Append("cli-0", 0, bytes.NewReader(body))
	if _, err := blobs.Finish("cli-0", hexSum, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := st.StoreRecording(ctx, "cli-0", int64(len(body)), hexSum, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
}

func TestRetentionAndAuditFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "cg.db")
	data := filepath.Join(dir, "data")
	seed(t, db, data)
	cli := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append(args, "--db", db), strings.NewReader(""), &out, &errb)
		return out.String() + errb.String(), err
	}
	if out, err := cli("retention", "report", "--days", "7"); err != nil || !strings.Contains(out, "Past their date: 1 for the next run to delete") {
		t.Fatalf("report: %v\n%s", err, out)
	}
	out, err := cli("retention", "run")
	if err != nil || !strings.Contains(out, "deleted 1 call(s) (1 recording(s) removed") {
		t.Fatalf("retention run: %v\n%s", err, out)
	}
	if out, err := cli("retention", "run"); err != nil || !strings.Contains(out, "deleted 0 call(s)") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	out, err = cli("retention", "tombstones", "--since", "2020-01-01")
	var ts server.Tombstone
	if err != nil || json.Unmarshal([]byte(strings.TrimSpace(out)), &ts) != nil || ts.CallID != "cli-0" || ts.Rule != "default" || ts.RecordingBytes == 0 {
		t.Fatalf("tombstones: %v\n%s", err, out)
	}
	if out, err := cli("retention", "reapply"); err != nil || !strings.Contains(out, "recomputed for 1 calls") {
		t.Fatalf("reapply: %v\n%s", err, out)
	}
	if _, err := cli("user", "role", "--username", "olive", "--role", "supervisor"); err != nil {
		t.Fatal(err)
	}

	// Checkpoints need the key; serve creates it, here we do.
	if _, err := cli("audit", "checkpoint"); err == nil {
		t.Fatal("a checkpoint without a key")
	}
	if _, _, err := auth.LoadOrCreateSigningKey(filepath.Join(data, auth.SigningKeyFile)); err != nil {
		t.Fatal(err)
	}
	if out, err := cli("audit", "checkpoint"); err != nil || !strings.Contains(out, "checkpoint signed at record") {
		t.Fatalf("checkpoint: %v\n%s", err, out)
	}
	out, err = cli("audit", "verify")
	if err != nil || !strings.Contains(out, "audit chain OK") || !strings.Contains(out, "signed by the server's key") {
		t.Fatalf("verify: %v\n%s", err, out)
	}

	// Export for a SIEM: JSON lines, and the export is itself audited.
	out, err = cli("audit", "export", "--since", "2020-01-01")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	actions := map[string]bool{}
	for sc.Scan() {
		var r server.AuditRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Hash != "" {
			actions[r.Action] = true
		}
	}
	for _, a := range []string{server.AuditRetentionDelete, server.AuditRoleChange, server.AuditRetentionReport, server.AuditCheckpointed} {
		if !actions[a] {
			t.Errorf("export lacks %s: %v", a, actions)
		}
	}

	// Someone with database access changes a record: verify names it.
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_no_update`, `UPDATE audit SET actor = 'nobody' WHERE action = 'user.role'`} {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var seq int64
	st.DB().QueryRow(`SELECT seq FROM audit WHERE action = 'user.role'`).Scan(&seq)
	st.Close()
	out, err = cli("audit", "verify")
	if err == nil || !strings.Contains(out, fmt.Sprintf("BROKEN at record %d", seq)) {
		t.Fatalf("verify after tampering: %v\n%s", err, out)
	}
}

// TestTombstoneExportPagesWithoutLoss: one retention batch stamps all its
// tombstones with the same deleted_at; the export pages through them
// without skipping the rest of a batch that straddles a page.
func TestTombstoneExportPagesWithoutLoss(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "cg.db")
	seed(t, db, filepath.Join(dir, "data"))
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1500
	at := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC).UnixMilli()
	for i := range n {
		// Two deletion batches, 300 then 1200, straddling the 1000-row page.
		deleted := at
		if i >= 300 {
			deleted = at + 1000
		}
		if _, err := st.DB().Exec(`INSERT INTO tombstones (call_id, started_at, rule, deleted_at) VALUES (?, ?, 'default', ?)`,
			fmt.Sprintf("ts-%04d", i), at, deleted); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"retention", "tombstones", "--db", db}, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var ts server.Tombstone
		if err := json.Unmarshal(sc.Bytes(), &ts); err != nil {
			t.Fatal(err)
		}
		if seen[ts.CallID] {
			t.Fatalf("%s exported twice", ts.CallID)
		}
		seen[ts.CallID] = true
	}
	if len(seen) != n {
		t.Fatalf("exported %d of %d tombstones", len(seen), n)
	}
}

// TestCommandFailsWhenItsAuditRecordIsLost: with the audit log unwritable
// (a trigger raises inside the database, as a full disk does) every command
// fails, says why, prints no personal data and changes nothing.
func TestCommandFailsWhenItsAuditRecordIsLost(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "cg.db")
	data := filepath.Join(dir, "data")
	seed(t, db, data)
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Audit(ctx, server.AuditRecord{Actor: "olive", Action: server.AuditLogin, Target: "olive"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`CREATE TRIGGER audit_refused BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END`); err != nil {
		t.Fatal(err)
	}
	devs, _ := st.Devices(ctx)
	for _, args := range [][]string{
		{"user", "role", "--username", "olive", "--role", "supervisor"},
		{"user", "add", "--username", "mallory", "--role", "dpo"},
		{"user", "disable", "--username", "olive"},
		{"device", "revoke", "--id", devs[0].ID},
		{"retention", "report", "--days", "400", "--data", data},
		{"retention", "reapply", "--data", data},
		{"audit", "export", "--data", data},
	} {
		var out, errb bytes.Buffer
		err = run(ctx, append(args, "--db", db), strings.NewReader("password-5678\n"), &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "audit") {
			t.Errorf("%s succeeded without its audit record: %v\n%s", args, err, out.String())
		}
		if strings.Contains(out.String(), "cli-") || strings.Contains(out.String(), "olive") {
			t.Errorf("%s printed what it read without its audit record: %s", args, out.String())
		}
	}
	if u, _, _ := st.UserByName(ctx, "olive"); u.Role != server.RoleAgent || u.Disabled {
		t.Errorf("olive is %s, disabled %v, with no audit record of it", u.Role, u.Disabled)
	}
	if _, _, err := st.UserByName(ctx, "mallory"); err == nil {
		t.Error("mallory was added with no audit record of it")
	}
	if devs, _ := st.Devices(ctx); devs[0].Revoked != nil {
		t.Error("the device was revoked with no audit record of it")
	}
}
