package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Managed is what IT deployed machine-wide: settings and a policy overlay,
// both JSON documents that take priority over the officer's own settings and
// the default policy. Source says where they came from, for messages.
type Managed struct {
	Source   string
	Settings json.RawMessage // overlay onto Config; may be empty
	Policy   json.RawMessage // overlay onto policy.Policy; may be empty
}

// managedFile is the machine-wide file's layout.
type managedFile struct {
	Settings json.RawMessage `json:"settings,omitempty"`
	Policy   json.RawMessage `json:"policy,omitempty"`
}

// ReadManagedFile reads a machine-wide settings file. A missing file is not
// an error: it yields an empty Managed.
func ReadManagedFile(path string) (Managed, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Managed{Source: path}, nil
	}
	if err != nil {
		return Managed{}, fmt.Errorf("read managed settings: %w", err)
	}
	var f managedFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Managed{}, fmt.Errorf("managed settings %s: %w", path, err)
	}
	return Managed{Source: path, Settings: f.Settings, Policy: f.Policy}, nil
}

// LockedKeys lists "section.field" for every field IT's managed settings
// set, which the officer cannot change.
func (m Managed) LockedKeys() []string {
	managed := m.Settings
	if len(managed) == 0 {
		return nil
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(managed, &doc); err != nil {
		return nil
	}
	var keys []string
	for section, fields := range doc {
		for f := range fields {
			keys = append(keys, strings.Join([]string{section, f}, "."))
		}
	}
	return keys
}
