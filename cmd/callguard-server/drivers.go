package main

// The databases a deployment may choose with --db: PostgreSQL
// ("postgres://…": pgx's driver and the live board's listener) and SQLite
// (a path). server/store links no driver itself, so each program links only
// the ones it can be pointed at.
import (
	_ "github.com/callguard/callguard/server/store/pglisten"
	_ "modernc.org/sqlite"
)
