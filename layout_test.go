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
