package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// ManagedPath is where IT deploys machine-wide settings on macOS.
const ManagedPath = "/Library/Application Support/callguard/managed.json"

// LoadManaged reads the machine-wide settings IT deployed on this machine.
func LoadManaged() (Managed, error) { return ReadManagedFile(ManagedPath) }

func userDataDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory: %w", err)
	}
	return filepath.Join(home, "Library", "Application Support"), nil
}
