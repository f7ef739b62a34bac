package testrig

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI (CI=true), where every part of the
// rig must be present.
func InCI() bool { return os.Getenv("CI") == "true" }

// Need stops the test when a part of the rig is missing: it fails in CI and
// skips elsewhere, naming the part and the reason.
func Need(t testing.TB, part string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if InCI() {
		t.Fatalf("test rig: %s is required in CI: %v", part, err)
	}
	t.Skipf("test rig: %s not available (%v); `make deps` installs it", part, err)
}

// NotShort stops a slow test under -short: a skip locally, a failure in CI,
// where every test must run.
func NotShort(t testing.TB, why string) {
	t.Helper()
	if !testing.Short() {
		return
	}
	if InCI() {
		t.Fatalf("%s: -short skips it, and CI runs every test", why)
	}
	t.Skipf("%s (-short)", why)
}

// NeedCommand is Need for a program on $PATH; it returns the program's path.
func NeedCommand(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Need(t, name, err)
	return p
}

// FreePort returns a loopback port that was free a moment ago, for network
// ("tcp" or "udp").
func FreePort(t testing.TB, network string) int {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free udp port: %v", err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free tcp port: %v", err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
}

// FreeUDPTCPPort returns a port free for both UDP and TCP on loopback, as SIP
// servers listen on both.
func FreeUDPTCPPort(t testing.TB) int {
	t.Helper()
	for range 50 {
		p := FreePort(t, "udp")
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}

// Eventually polls cond every 10 ms until it holds or timeout passes, then
// fails the test with msg.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: "+msg, append([]any{timeout}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var (
	shared   sync.Mutex
	cleanups []func()
)

// atExit registers f to run when Main finishes, for parts shared by every
// test of a package (starting PostgreSQL per test would be slow).
func atExit(f func()) {
	shared.Lock()
	defer shared.Unlock()
	cleanups = append(cleanups, f)
}

// Main runs the package's tests and then stops the shared parts they started.
// Use it from TestMain: func TestMain(m *testing.M) { testrig.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	shared.Lock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	shared.Unlock()
	os.Exit(code)
}
