package testrig

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	pgOnce sync.Once
	pgURL  string
	pgErr  error
)

// PostgreSQL returns the URL of a throwaway PostgreSQL 15 cluster on
// loopback, started once per test binary and stopped by Main. Each caller
// gets its own fresh database, so tests do not see each other's rows.
func PostgreSQL(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgURL, pgErr = startPostgreSQL() })
	Need(t, "PostgreSQL", pgErr)
	name := fmt.Sprintf("t_%d_%s", os.Getpid(), strings.ToLower(sanitize(t.Name())))
	if len(name) > 60 {
		name = name[:60]
	}
	// Two -c options: DROP/CREATE DATABASE cannot share a transaction.
	if out, err := psql(pgURL, "DROP DATABASE IF EXISTS "+name, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v\n%s", name, err, out)
	}
	return strings.Replace(pgURL, "/postgres", "/"+name, 1)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

func psql(url string, sqls ...string) ([]byte, error) {
	args := []string{url, "-v", "ON_ERROR_STOP=1", "-q"}
	for _, s := range sqls {
		args = append(args, "-c", s)
	}
	return exec.Command(pgBin("psql"), args...).CombinedOutput()
}

func pgBin(name string) string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) > 0 {
		return matches[len(matches)-1]
	}
	return name
}

func startPostgreSQL() (string, error) {
	initdb := pgBin("initdb")
	if _, err := exec.LookPath(initdb); err != nil {
		return "", fmt.Errorf("initdb not found: %w", err)
	}
	dir, err := os.MkdirTemp("", "callguard-pg-")
	if err != nil {
		return "", err
	}
	port := freePortNoT()
	// PostgreSQL refuses to run as root: run it as the postgres user.
	run := func(args ...string) ([]byte, error) { return exec.Command(args[0], args[1:]...).CombinedOutput() }
	if u, _ := user.Current(); u != nil && u.Uid == "0" {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			return "", fmt.Errorf("chown %s: %v: %s", dir, err, out)
		}
		run = func(args ...string) ([]byte, error) {
			return exec.Command("su", "postgres", "-s", "/bin/sh", "-c", shellJoin(args)).CombinedOutput()
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := run(initdb, "-D", data, "-A", "trust", "-U", "test", "--no-sync"); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", port, dir)
	if out, err := run(pgBin("pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return "", fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	atExit(func() {
		run(pgBin("pg_ctl"), "-D", data, "-m", "immediate", "stop")
		os.RemoveAll(dir)
	})
	return fmt.Sprintf("postgres://test@127.0.0.1:%d/postgres?sslmode=disable", port), nil
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// freePortNoT is FreePort for a part started once per binary, outside any
// test: it falls back to PostgreSQL's usual neighbour when none is found.
func freePortNoT() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 55432
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
