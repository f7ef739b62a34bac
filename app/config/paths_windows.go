package config

import (
	"errors"
	"os"
	"path/filepath"
)

// ManagedPath is where IT deploys machine-wide settings on Windows.
var ManagedPath = filepath.Join(programData(), "callguard", "managed.json")

// LoadManaged reads the machine-wide settings IT deployed on this machine.
func LoadManaged() (Managed, error) { return ReadManagedFile(ManagedPath) }

func programData() string {
	if v := os.Getenv("ProgramData"); v != "" {
		return v
	}
	return `C:\ProgramData`
}

func userDataDir() (string, error) {
	if v := os.Getenv("LocalAppData"); v != "" {
		return v, nil
	}
	return "", errors.New("%LocalAppData% is not set")
}
