package protect_test

// The tests open both databases directly; see server/store's ErrNoDriver.
import (
	_ "github.com/callguard/callguard/server/store/pglisten"
	_ "modernc.org/sqlite"
)
