package recorder

import (
	"encoding/json"
	"fmt"

	"github.com/callguard/callguard/app/config"
	"github.com/callguard/callguard/artefact"
)

// ManifestVersion is the version of the manifest format written by this package.
const ManifestVersion = artefact.ManifestVersion

// Manifest is <call-id>.json, the plain-text record that travels with the
// encrypted audio (DESIGN "Recording artefacts"); see artefact.Manifest.
type Manifest = artefact.Manifest

// Pause is one paused interval of a recording; see artefact.Pause.
type Pause = artefact.Pause

// ReadManifest reads a manifest file.
func ReadManifest(path string) (*Manifest, error) { return artefact.ReadManifest(path) }

// writeManifest stores the manifest atomically (temp file, fsync, rename).
func writeManifest(m *Manifest, path string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return config.WriteFileAtomic(path, append(b, '\n'), 0o600)
}
