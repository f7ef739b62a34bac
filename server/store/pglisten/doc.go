// Package pglisten links PostgreSQL into a program: it registers pgx's
// database/sql driver and the live board's LISTEN connection with
// server/store when it is imported. Only a program that may choose
// PostgreSQL imports it (cmd/callguard-server, and the test rig); the
// desktop, whose embedded server runs on SQLite, must never link it.
package pglisten
