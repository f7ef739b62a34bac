package vad

import (
	"strings"
	"testing"

	"github.com/callguard/callguard/internal/testrig"
)

// vad is shared by the desktop's recorder and the cgo-free collector: it
// links artefact (and what artefact links) and the standard library,
// nothing else of callguard, and no C (docs/architecture.md).
func TestVADLinksOnlyArtefact(t *testing.T) {
	const mod = "github.com/callguard/callguard/"
	deps := testrig.Deps(t, ".")
	var artefact bool
	for _, d := range deps {
		switch {
		case d == "C" || d == "runtime/cgo":
			t.Errorf("vad links %s", d)
		case strings.HasPrefix(d, mod):
			artefact = artefact || d == mod+"artefact"
			// artefact's own sub-packages and the atomic write come with it.
			if d != mod+"vad" && d != mod+"artefact" && !strings.HasPrefix(d, mod+"artefact/") && d != mod+"internal/atomicfile" {
				t.Errorf("vad links %s", d)
			}
		}
	}
	if !artefact {
		t.Fatalf("vad does not link artefact, whose timeline it builds: %v", deps)
	}
}
