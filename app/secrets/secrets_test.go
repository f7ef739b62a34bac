package secrets_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/callguard/callguard/app/secrets"
	"github.com/callguard/callguard/internal/testrig"
)

// needKeyring returns a store on the real OS keyring: gnome-keyring on the
// session bus that `make test` starts with dbus-run-session.
func needKeyring(t *testing.T, service string) *secrets.Store {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		testrig.Need(t, "a session bus with gnome-keyring (run under `make test`)", errors.New("DBUS_SESSION_BUS_ADDRESS is not set"))
	}
	s := secrets.Open(service)
	testrig.Need(t, "the Secret Service keyring", s.Unavailable())
	return s
}

func TestSecretsLiveInTheRealKeyring(t *testing.T) {
	s := needKeyring(t, "callguard-test-"+t.Name())
	t.Cleanup(func() { s.Delete(secrets.SIPPassword); s.Delete(secrets.LocalAPIToken) })
	if !s.Persistent() {
		t.Fatal("store on a working keyring is not persistent")
	}
	if _, err := s.Get(secrets.SIPPassword); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("Get of a missing secret = %v, want ErrNotFound", err)
	}
	if err := s.Set(secrets.SIPPassword, "s3cret-digest"); err != nil {
		t.Fatal(err)
	}
	// A second store (another run of the app) reads it back from the keyring.
	again := secrets.Open("callguard-test-" + t.Name())
	if v, err := again.Get(secrets.SIPPassword); err != nil || v != "s3cret-digest" {
		t.Fatalf("Get after Set in a fresh store = %q, %v", v, err)
	}
	// secret-tool (libsecret) sees the same item: it really is in the OS keyring.
	if tool, err := exec.LookPath("secret-tool"); err == nil {
		out, err := exec.Command(tool, "lookup", "service", "callguard-test-"+t.Name(), "username", secrets.SIPPassword).Output()
		if err != nil || strings.TrimSpace(string(out)) != "s3cret-digest" {
			t.Fatalf("secret-tool lookup = %q, %v", out, err)
		}
	}
	tok1, err := s.Token(secrets.LocalAPIToken)
	if err != nil {
		t.Fatal(err)
	}
	tok2, _ := again.Token(secrets.LocalAPIToken)
	if tok1 != tok2 || len(tok1) < 40 {
		t.Fatalf("token not stable across stores or too short: %q vs %q", tok1, tok2)
	}
	if err := s.Delete(secrets.SIPPassword); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(secrets.SIPPassword); err != nil {
		t.Fatalf("deleting twice = %v, want nil", err)
	}
}

func TestWithoutAKeyringSecretsStayInMemory(t *testing.T) {
	// The D-Bus connection is shared by the whole process, so the check runs
	// in a child whose session bus does not exist.
	if os.Getenv("CALLGUARD_SECRETS_CHILD") == "1" {
		s := secrets.Open("callguard-test-memory")
		if s.Persistent() || s.Unavailable() == nil {
			t.Fatal("store claims a keyring where none is reachable")
		}
		if err := s.Set(secrets.DeviceToken, "abc"); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.Get(secrets.DeviceToken); v != "abc" {
			t.Fatalf("in-memory Get = %q", v)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWithoutAKeyringSecretsStayInMemory$", "-test.v")
	cmd.Env = append(os.Environ(), "CALLGUARD_SECRETS_CHILD=1", "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
