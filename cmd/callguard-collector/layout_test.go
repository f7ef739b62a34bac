package main_test

import (
	"strings"
	"testing"

	"github.com/callguard/callguard/internal/testrig"
)

// TestTheCollectorLinksNoCgoAndNoDesktopAdapter: the collector runs on a
// media server, so it links no GUI, audio or SIP library and none of the
// desktop's adapters or the server's internals (binaries builds it with
// CGO_ENABLED=0, as it ships).
func TestTheCollectorLinksNoCgoAndNoDesktopAdapter(t *testing.T) {
	const mod = "github.com/callguard/callguard/"
	for _, dep := range testrig.Deps(t, ".") {
		switch {
		case strings.HasPrefix(dep, "fyne.io/"), strings.Contains(dep, "portaudio"), strings.Contains(dep, "sipgo"),
			strings.Contains(dep, "go-keyring"), strings.Contains(dep, "beeep"),
			strings.HasPrefix(dep, mod+"ui"), strings.HasPrefix(dep, mod+"recorder"), strings.HasPrefix(dep, mod+"sip"),
			strings.HasPrefix(dep, mod+"server/"):
			t.Errorf("callguard-collector links %s", dep)
		}
	}
}
