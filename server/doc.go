// Package server holds the central server's domain: accounts and roles,
// devices, the metadata events the desktops send, the calls built from them,
// the live board's agent states and the audit record. It is pure Go with no
// storage or HTTP: the sub-packages (store, blob, auth, live, httpapi,
// central) implement and serve it, and this package imports none of them.
//
// Events are decoded into the server's own types rather than the desktop's
// app.Event, so the server builds alone; a contract test in app/uplink proves
// that what the core emits is exactly what DecodeBatch accepts.
package server
