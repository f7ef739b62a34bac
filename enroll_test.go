package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/callguard/callguard/app/config"
	"github.com/callguard/callguard/app/secrets"
)

// An organisation whose server certificate comes from its own CA sets
// server.ca_file; enrolling from Settings must trust that CA, as the sync does.
func TestEnrolTrustsTheConfiguredServerCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/enroll" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"token": "tok-1", "device_id": "dev-1", "role": "agent", "agent": "1001"})
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "org-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "") // secrets in memory: this test is not about the keyring
	cfg := config.Default()
	cfg.Server.CAFile = ca
	d := &desktop{
		opts:    options{ConfigPath: filepath.Join(dir, "settings.json")},
		log:     slog.New(slog.DiscardHandler),
		secrets: secrets.Open("callguard-test-enrol"),
		cfg:     cfg,
	}
	if _, err := d.Enroll(context.Background(), srv.URL, "officer", "pw"); err != nil {
		t.Fatalf("enrol against a server signed by the configured CA: %v", err)
	}
	if tok, err := d.secrets.Get(secrets.DeviceToken); err != nil || tok != "tok-1" {
		t.Fatalf("device token after enrolment = %q, %v", tok, err)
	}
}

// --data is for one run (IT diagnosing, a kiosk, a test): saving the
// settings from the window must not make it the officer's data directory.
func TestSavingSettingsDoesNotKeepTheDataFlag(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"token": "tok-1", "device_id": "dev-1", "role": "agent", "agent": "1001"})
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	if err := os.WriteFile(path, []byte(`{"agent": {"id": "1001"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	opts, err := loadOptions(path, filepath.Join(dir, "one-run"), "")
	if err != nil {
		t.Fatal(err)
	}
	opts.ConfigPath = path
	d := &desktop{opts: opts, log: slog.New(slog.DiscardHandler), secrets: secrets.Open("callguard-test-enrol"), cfg: opts.Config}
	if _, err := d.Enroll(context.Background(), srv.URL, "officer", "pw"); err != nil {
		t.Fatal(err)
	}
	saved, err := config.Load(path, config.Managed{})
	if err != nil {
		t.Fatal(err)
	}
	if saved.DataDir != "" {
		t.Fatalf("settings file now has data_dir %q from the --data flag", saved.DataDir)
	}
	if saved.Server.URL != srv.URL {
		t.Fatalf("settings file has server.url %q, want %q", saved.Server.URL, srv.URL)
	}
}
