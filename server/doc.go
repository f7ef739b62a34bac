// Package server is callguard's central server: it ingests the desktops'
// metadata events and encrypted recordings, keeps them in SQLite or
// PostgreSQL, serves the supervisors' live board and the data-protection
// officers' workflows, and writes every read of personal data to an
// append-only audit log. It builds without cgo or GUI libraries.
package server
