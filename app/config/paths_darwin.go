package config

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
)

// ManagedPath is where IT deploys machine-wide settings on macOS as a file.
const ManagedPath = "/Library/Application Support/callguard/managed.json"

// LoadManaged reads the machine-wide settings IT deployed on this machine:
// the JSON file at ManagedPath, then the managed preferences of
// dev.callguard.desktop that an MDM profile enforces for the whole machine,
// then those it enforces for this user; each wins over the one before.
func LoadManaged() (Managed, error) {
	layers := []valueLayer{}
	paths := []string{filepath.Join(MacManagedPreferencesDir, MacPreferencesDomain+".plist")}
	if u, err := user.Current(); err == nil && u.Username != "" {
		paths = append(paths, filepath.Join(MacManagedPreferencesDir, u.Username, MacPreferencesDomain+".plist"))
	}
	for _, p := range paths {
		values, err := ReadManagedPreferences(p)
		if err != nil {
			return Managed{}, err
		}
		layers = append(layers, valueLayer{source: p, values: values})
	}
	return loadManagedLayers(ManagedPath, layers...)
}

func userDataDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory: %w", err)
	}
	return filepath.Join(home, "Library", "Application Support"), nil
}
