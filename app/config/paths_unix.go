//go:build !windows && !darwin

package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// ManagedPath is where IT deploys machine-wide settings on Linux.
const ManagedPath = "/etc/callguard/managed.json"

// LoadManaged reads the machine-wide settings IT deployed on this machine.
func LoadManaged() (Managed, error) { return ReadManagedFile(ManagedPath) }

func userDataDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory: %w", err)
	}
	return filepath.Join(home, ".local", "share"), nil
}
