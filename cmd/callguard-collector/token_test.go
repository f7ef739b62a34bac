package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesATokenOthersMayRead: the collector will not run with a token
// file its group or others may read, or without one, and says what to do
// in words, without the token.
func TestRefusesATokenOthersMayRead(t *testing.T) {
	_, collector := binaries(t)
	state, rec := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(state, "enrolment.json"), []byte(`{"server":"http://127.0.0.1:1","username":"pbx-collector","device_id":"d1"}`), 0o600)
	token := filepath.Join(state, "token")
	os.WriteFile(token, []byte("cg_secret_token\n"), 0o644)
	out, err := exec.Command(collector, "run", "--state", state, "--recording-dir", rec, "--once").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is readable by others (mode -rw-r--r--): chmod 600 it") {
		t.Fatalf("a token others may read: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "cg_secret_token") {
		t.Fatalf("the token is in the output:\n%s", out)
	}
	os.Remove(token)
	out, err = exec.Command(collector, "run", "--state", state, "--recording-dir", rec, "--once").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `not enrolled: run "callguard-collector enroll" first`) {
		t.Fatalf("no token: %v\n%s", err, out)
	}
}
