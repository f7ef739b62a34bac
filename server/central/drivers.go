package central

// SQLite is the database central always offers: the desktop's embedded
// server and a small deployment use it. PostgreSQL's driver is linked by
// the program that may choose it (cmd/callguard-server), not here, so the
// desktop, which embeds central, does not carry it.
import _ "modernc.org/sqlite"
