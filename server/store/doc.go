// Package store keeps the server's data in SQLite (modernc.org/sqlite, pure
// Go) or PostgreSQL (pgx): accounts, devices, events, the calls folded from
// them, recordings' metadata, the live board's presence and the audit log.
// One set of queries serves both dialects; the schema is embedded as
// numbered migrations per dialect. On PostgreSQL it also carries the live
// board between server instances with LISTEN/NOTIFY.
//
// The store never keeps a password or a device token, only their hashes,
// and never updates or deletes an audit row.
package store
