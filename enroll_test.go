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
