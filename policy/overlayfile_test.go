package policy_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

// OverlayFile lays a file over the defaults, names the file in its
// errors, and gives the defaults themselves for no file.
func TestOverlayFile(t *testing.T) {
	base, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if p, err := base.OverlayFile(""); err != nil || p != base {
		t.Fatalf("no file: %v", err)
	}
	dir := t.TempDir()
	if _, err := base.OverlayFile(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing file: %v", err)
	}
	good := filepath.Join(dir, "org.json")
	os.WriteFile(good, []byte(`{"record": {"where": "pbx"}}`), 0o600)
	if p, err := base.OverlayFile(good); err != nil || p.Record.Location() != policy.RecordAtPhoneSystem || base.Record.Location() == policy.RecordAtPhoneSystem {
		t.Fatalf("overlay: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"record": {"wher": "pbx"}}`), 0o600)
	if _, err := base.OverlayFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("an unknown field: %v", err)
	}
}
