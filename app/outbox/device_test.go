package outbox

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDeviceIDIsMadeOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	first, err := DeviceID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < 16 {
		t.Fatalf("device id %q is too short to tell devices apart", first)
	}
	again, err := DeviceID(dir)
	if err != nil || again != first {
		t.Fatalf("second start: %q, %v; want the same id %q", again, err, first)
	}
	// A truncated file (a crash while an older version wrote it) gets a new id.
	if err := os.WriteFile(filepath.Join(dir, "device-id"), []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fresh, err := DeviceID(dir); err != nil || fresh == first || len(fresh) < 16 {
		t.Fatalf("after a truncated file: %q, %v; want a new full id", fresh, err)
	}
}

func TestDeviceIDSaysWhyItCannotRead(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "device-id"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := DeviceID(dir); err == nil {
		t.Fatal("a device-id that is a directory gave an id")
	}
}
