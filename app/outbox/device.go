package outbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/internal/atomicfile"
)

// DeviceID returns this installation's id, made on first start. It names
// the desktop to the server and orders its events; it is not a secret.
func DeviceID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "device-id")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("device id: %w", err)
	}
	id := app.NewID()
	if err := atomicfile.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("device id: %w", err)
	}
	return id, nil
}
