// Command callguard-server is callguard's central server: one binary that
// serves the desktops' API over HTTPS with SQLite or PostgreSQL, and the
// admin commands that manage its users and devices.
//
//	callguard-server serve --listen :8443 --db /var/lib/callguard/callguard.db --tls-cert F --tls-key F
//	callguard-server user add --username ann --role supervisor   (password from stdin)
//	callguard-server user list | user disable --username U
//	callguard-server device list | device revoke --id ID
//	callguard-server retention run | report | reapply | tombstones
//	callguard-server audit verify | export --since T | checkpoint
//	callguard-server migrate | version
//
// --db may also come from $CALLGUARD_DB, which keeps a PostgreSQL password
// out of the process list.
package main
