package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/callguard/callguard/internal/testrig"
)

func TestHelpEverywhere(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"user", "--help"}, {"user", "add", "--help"},
		{"user", "list", "--help"}, {"user", "disable", "--help"}, {"user", "role", "--help"}, {"user", "authoriser", "--help"}, {"device", "--help"}, {"device", "list", "--help"}, {"device", "revoke", "--help"},
		{"retention", "--help"}, {"retention", "run", "--help"}, {"retention", "report", "--help"}, {"retention", "reapply", "--help"}, {"retention", "tombstones", "--help"},
		{"audit", "--help"}, {"audit", "verify", "--help"}, {"audit", "export", "--help"}, {"audit", "checkpoint", "--help"}} {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, strings.NewReader(""), &out, &errb)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: %v", args, err)
		}
		if out.Len()+errb.Len() == 0 {
			t.Errorf("%v printed nothing", args)
		}
	}
}

func TestUsersAndDevicesFromTheCommandLine(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "cg.db")
	cli := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append(args, "--db", db), strings.NewReader(stdin), &out, &errb)
		return out.String() + errb.String(), err
	}
	if _, err := cli("", "migrate"); err != nil {
		t.Fatal(err)
	}
	if out, err := cli("a-long-password\n", "user", "add", "--username", "olive", "--role", "agent"); err != nil || !strings.Contains(out, "added olive") {
		t.Fatalf("user add: %q %v", out, err)
	}
	// The collector beside the phone system's recorder (issue 19).
	if out, err := cli("a-long-password\n", "user", "add", "--username", "pbx-collector", "--role", "collector"); err != nil || !strings.Contains(out, "added pbx-collector (collector)") {
		t.Fatalf("user add --role collector: %q %v", out, err)
	}
	if _, err := cli("short\n", "user", "add", "--username", "pat", "--role", "agent"); err == nil {
		t.Fatal("a short password was accepted")
	}
	if _, err := cli("a-long-password\n", "user", "add", "--username", "pat", "--role", "boss"); err == nil {
		t.Fatal("a bad role was accepted")
	}
	if _, err := cli("", "user", "add", "--username", "pat", "--role", "agent"); err == nil {
		t.Fatal("no password on stdin was accepted")
	}
	if out, err := cli("", "user", "list"); err != nil || !strings.Contains(out, "olive") || strings.Contains(out, "a-long-password") {
		t.Fatalf("user list: %q %v", out, err)
	}
	if out, err := cli("", "user", "disable", "--username", "olive"); err != nil || !strings.Contains(out, "disabled olive") {
		t.Fatalf("user disable: %q %v", out, err)
	}
	if _, err := cli("", "device", "revoke", "--id", "nope"); err == nil {
		t.Fatal("revoking an unknown device succeeded")
	}
	if out, err := cli("", "device", "list"); err != nil || !strings.Contains(out, "ID") {
		t.Fatalf("device list: %q %v", out, err)
	}
	if err := run(context.Background(), []string{"serve", "--listen", "0.0.0.0:0", "--db", db}, nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Fatalf("plain HTTP on a public address: %v", err)
	}
}

func TestMain(m *testing.M) {
	code := 0
	func() {
		defer func() {
			if builtPath != "" {
				os.RemoveAll(filepath.Dir(builtPath))
			}
		}()
		code = m.Run()
	}()
	os.Exit(code)
}

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// binary builds the command as IT would (CGO_ENABLED=0), once per test
// binary, and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	testrig.NotShort(t, "builds the binary")
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "callguard-server-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtPath = filepath.Join(dir, "callguard-server")
		cmd := exec.Command("go", "build", "-o", builtPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("CGO_ENABLED=0 go build: %v\n%s", err, b)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtPath
}

// TestBuildsWithoutCgo builds the command as IT would.
func TestBuildsWithoutCgo(t *testing.T) {
	out := binary(t)
	v, err := exec.Command(out, "version").Output()
	if err != nil || !strings.HasPrefix(string(v), "callguard-server ") {
		t.Fatalf("version: %q %v", v, err)
	}
}

func TestTrustedProxyFlag(t *testing.T) {
	var p proxyList
	if err := p.Set("10.0.0.5, 192.168.1.0/24"); err != nil {
		t.Fatal(err)
	}
	if err := p.Set("::1"); err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "10.0.0.5/32,192.168.1.0/24,::1/128" {
		t.Fatalf("parsed %s", got)
	}
	if err := p.Set("proxy.example.org"); err == nil || !strings.Contains(err.Error(), "CIDR") {
		t.Fatalf("a host name: %v", err)
	}
}

// TestAuthoriserJobRolesFromTheCommandLine: IT gives an account the job
// role the policy's release purposes name; a role the policy does not
// list, or an admin account, is refused; the change is audited; an empty
// role takes it away.
func TestAuthoriserJobRolesFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "cg.db")
	nwh, err := os.ReadFile(filepath.Join("..", "..", "assets", "policies", "housing-association.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The NWH release section, laid over the default policy as --policy is.
	var whole map[string]json.RawMessage
	if err := json.Unmarshal(nwh, &whole); err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]json.RawMessage{"release": whole["release"]})
	polFile := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(polFile, overlay, 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append(args, "--db", db), strings.NewReader(stdin), &out, &errb)
		return out.String() + errb.String(), err
	}
	for _, u := range [][]string{{"dee", "dpo"}, {"ian", "admin"}} {
		if _, err := cli("a-long-password\n", "user", "add", "--username", u[0], "--role", u[1]); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := cli("", "user", "authoriser", "--username", "dee", "--job-role", "Chief Snoop", "--policy", polFile); err == nil || !strings.Contains(err.Error(), "Data Protection Officer") {
		t.Fatalf("a job role the policy does not list: %q %v", out, err)
	}
	if _, err := cli("", "user", "authoriser", "--username", "ian", "--job-role", "Data Protection Officer", "--policy", polFile); err == nil || !strings.Contains(err.Error(), "admin") {
		t.Fatalf("an admin became an authoriser: %v", err)
	}
	if out, err := cli("", "user", "authoriser", "--username", "dee", "--job-role", "Data Protection Officer", "--policy", polFile); err != nil || !strings.Contains(out, `"Data Protection Officer"`) {
		t.Fatalf("user authoriser: %q %v", out, err)
	}
	if out, err := cli("", "user", "list"); err != nil || !strings.Contains(out, "JOB ROLE") || !strings.Contains(out, "Data Protection Officer") {
		t.Fatalf("user list: %q %v", out, err)
	}
	if out, err := cli("", "audit", "export"); err != nil || !strings.Contains(out, "user.job-role") {
		t.Fatalf("the job role change is not in the audit: %q %v", out, err)
	}
	if out, err := cli("", "user", "authoriser", "--username", "dee", "--job-role", ""); err != nil || !strings.Contains(out, `→ ""`) {
		t.Fatalf("clearing the job role: %q %v", out, err)
	}
}
