package store_test

// The tests open both databases directly; a program gets the drivers from
// the package that chooses its database (server/central links SQLite,
// cmd/callguard-server PostgreSQL through pglisten).
import (
	_ "github.com/callguard/callguard/server/store/pglisten"
	_ "modernc.org/sqlite"
)
