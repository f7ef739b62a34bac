package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/store"
)

func TestTeamsAndNumberLookupsFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "cg.db")
	data := filepath.Join(dir, "data")
	seed(t, db, data)
	cli := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append(args, "--db", db), strings.NewReader("password-5678\n"), &out, &errb)
		return out.String() + errb.String(), err
	}
	for _, args := range [][]string{
		{"user", "add", "--username", "sue", "--role", "supervisor"},
		{"team", "add", "--name", "north"},
		{"team", "member-add", "--name", "north", "--username", "sue"},
		{"team", "member-add", "--name", "north", "--username", "olive"},
	} {
		if out, err := cli(args...); err != nil {
			t.Fatalf("%s: %v\n%s", args, err, out)
		}
	}
	if out, err := cli("team", "member-add", "--name", "north", "--username", "nobody"); err == nil {
		t.Fatalf("an unknown account joined a team: %s", out)
	}
	if out, err := cli("team", "list"); err != nil || !strings.Contains(out, "north") || !strings.Contains(out, "olive, sue") {
		t.Fatalf("team list: %v\n%s", err, out)
	}

	keyFile := filepath.Join(dir, "etc", "number-hmac.key")
	secret, _, err := auth.LoadOrCreateSecret(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Audit(context.Background(), server.AuditRecord{Actor: "sue", Action: server.AuditCallsSearch, Target: server.NumberTarget(secret, "+441632960123")})
	st.Close()
	out, err := cli("audit", "number", "--number", "+44 1632 960123", "--number-key", keyFile, "--data", data)
	if err != nil || !strings.Contains(out, "sue") || !strings.Contains(out, server.AuditCallsSearch) {
		t.Fatalf("audit number: %v\n%s", err, out)
	}
	out, _ = cli("audit", "export", "--data", data)
	if !strings.Contains(out, `"action":"team.member-add"`) || !strings.Contains(out, `"action":"audit.number"`) || strings.Contains(out, "960123") {
		t.Fatalf("the audit of the team changes and the lookup:\n%s", out)
	}
}
