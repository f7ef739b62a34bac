package central_test

// Some tests run the server on PostgreSQL, which central does not link
// (cmd/callguard-server does, through pglisten).
import _ "github.com/callguard/callguard/server/store/pglisten"
