package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/config"
	"github.com/callguard/callguard/app/localapi"
	"github.com/callguard/callguard/app/secrets"
	"github.com/callguard/callguard/artefact"
)

// noKeyring opens the secrets store as a desktop without a keyring does:
// everything in memory, for this run only.
func noKeyring(t *testing.T) *secrets.Store {
	t.Helper()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	s := secrets.Open("callguard-test-" + t.Name())
	if s.Persistent() {
		t.Fatal("the keyring answered although there is no session bus")
	}
	return s
}

// TestTheDemoKeyOutlivesARestartWithoutAKeyring is issue 12 item 12:
// `make run` without a keyring kept its demo organisation key in memory,
// so after a restart nothing recorded before could be played. The key is
// in the data directory now, readable by the user alone.
func TestTheDemoKeyOutlivesARestartWithoutAKeyring(t *testing.T) {
	dir := t.TempDir()
	first := &desktop{dataDir: dir, secrets: noKeyring(t), log: slog.New(slog.DiscardHandler)}
	id, err := first.demoIdentity()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, demoKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	// The next run, with a fresh (empty) in-memory store.
	again := &desktop{dataDir: dir, secrets: noKeyring(t), log: slog.New(slog.DiscardHandler)}
	id2, err := again.demoIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if id.Recipient().String() != id2.Recipient().String() {
		t.Fatal("the demo key changed across a restart: earlier recordings are unplayable")
	}
	again.demoKey = id2
	if w := again.Warnings(); len(w) != 1 || !strings.Contains(w[0], "not protected at rest") || !strings.Contains(w[0], demoKeyFile) {
		t.Fatalf("Settings warns %q", w)
	}
	// A file others could read is made the user's alone.
	os.Chmod(filepath.Join(dir, demoKeyFile), 0o644)
	if _, err := again.demoIdentity(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, demoKeyFile)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v after start", fi.Mode().Perm())
	}

	// A key an older version kept in the keyring moves into the file.
	older := t.TempDir()
	keys := noKeyring(t)
	legacy, _, err := artefact.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	keys.Set(OrgIdentity, legacy)
	moved, err := (&desktop{dataDir: older, secrets: keys, log: slog.New(slog.DiscardHandler)}).demoIdentity()
	if err != nil || moved.String() != legacy {
		t.Fatalf("the keyring's key was not kept: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(older, demoKeyFile)); strings.TrimSpace(string(b)) != legacy {
		t.Fatal("the keyring's key is not in the file")
	}
}

type recordedNotes struct {
	mu sync.Mutex
	ns []app.Notification
}

func (r *recordedNotes) Notify(n app.Notification) {
	r.mu.Lock()
	r.ns = append(r.ns, n)
	r.mu.Unlock()
}

// TestAPortTakenTurnsTheLocalAPIOffAndSaysSo is issue 12 item 13's port
// attack at the desktop: another program on the local API's port would
// get the CRM's requests and their token. The desktop starts no local API
// then, and the officer is told: a notification, the status line and
// Settings.
func TestAPortTakenTurnsTheLocalAPIOffAndSaysSo(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	port := other.Addr().(*net.TCPAddr).Port
	notes := &recordedNotes{}
	cfg := config.Default()
	cfg.LocalAPI.Port = port
	d := &desktop{cfg: cfg, secrets: noKeyring(t), log: slog.New(slog.DiscardHandler), notes: notes}
	d.startLocalAPI(t.Context())
	if !errors.Is(d.apiErr, localapi.ErrPortTaken) {
		t.Fatalf("apiErr = %v, want ErrPortTaken", d.apiErr)
	}
	if len(notes.ns) != 1 || notes.ns[0].Kind != app.NotifyLocalAPIOff || !strings.Contains(notes.ns[0].Body, fmt.Sprint(port)) {
		t.Fatalf("notifications %+v", notes.ns)
	}
	if st := d.syncStatus(); !strings.Contains(st, fmt.Sprintf("LOCAL API OFF: port %d is used by another program", port)) {
		t.Fatalf("status line %q", st)
	}
	if w := d.Warnings(); len(w) != 1 || !strings.Contains(w[0], "in use by another program") {
		t.Fatalf("Settings warns %q", w)
	}
}
