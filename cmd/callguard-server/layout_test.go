package main

import (
	"strings"
	"testing"

	"github.com/callguard/callguard/internal/testrig"
)

// The server shares policy, artefact and wire with the desktop, and links
// none of the desktop's own packages (docs/architecture.md).
func TestTheServerLinksNoDesktopPackage(t *testing.T) {
	const mod = "github.com/callguard/callguard/"
	var pgx bool
	for _, d := range testrig.Deps(t, ".") {
		for _, desktop := range []string{"app", "recorder", "ui", "sip"} {
			if d == mod+desktop || strings.HasPrefix(d, mod+desktop+"/") {
				t.Errorf("the server links the desktop's %s", d)
			}
		}
		pgx = pgx || d == "github.com/jackc/pgx/v5/stdlib"
	}
	if !pgx {
		t.Error("the server does not link PostgreSQL's driver")
	}
}
