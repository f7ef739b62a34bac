// Package httpapi serves the central server's JSON API (server/openapi.yaml)
// over net/http: device enrolment, event ingest, heartbeats, call search,
// resumable recording upload, the live board as Server-Sent Events, and
// users and devices for admins. Every route names the roles it allows;
// every failure is a JSON {"error": "..."} with a 4xx or 5xx status, and a
// panic in a handler becomes a 500, never a crash.
package httpapi
