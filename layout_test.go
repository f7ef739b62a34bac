package main

import (
	"strings"
	"testing"

	"github.com/callguard/callguard/internal/testrig"
)

// The desktop embeds the central server on SQLite; PostgreSQL's driver is
// linked only by cmd/callguard-server (docs/architecture.md).
func TestTheDesktopLinksNoPostgreSQLDriver(t *testing.T) {
	deps := testrig.Deps(t, ".")
	var sqlite bool
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/jackc/pgx") {
			t.Fatalf("the desktop links %s", d)
		}
		sqlite = sqlite || d == "modernc.org/sqlite"
	}
	if !sqlite {
		t.Fatal("the desktop does not link SQLite, which its embedded server needs")
	}
}

// The desktop's adapters and client decode into the server's domain
// package, which must stay pure: the shared packages and the standard
// library only, never its own adapters (store, drivers, HTTP) or anything
// of the desktop (docs/architecture.md).
func TestTheServersDomainIsPure(t *testing.T) {
	const mod = "github.com/callguard/callguard/"
	allowed := map[string]bool{mod + "server": true, mod + "policy": true, mod + "wire": true}
	for _, d := range testrig.Deps(t, "./server") {
		first, _, _ := strings.Cut(d, "/")
		if strings.Contains(first, ".") && !strings.HasPrefix(d, mod) { // the standard library's first element has no dot
			t.Errorf("the server's domain links the library %s", d)
		}
		if strings.HasPrefix(d, mod) && !allowed[d] {
			t.Errorf("the server's domain links %s", d)
		}
	}
}

// sip knows the phone system, not the settings file: the composition root
// turns the settings into a sip.Config (phonesystem.go).
func TestSIPKnowsNothingOfTheSettingsFile(t *testing.T) {
	for _, d := range testrig.Deps(t, "./sip") {
		if d == "github.com/callguard/callguard/app/config" {
			t.Fatal("sip links app/config")
		}
	}
}
