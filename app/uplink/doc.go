// Package uplink is the desktop's sync client for the central server: it
// sends the outbox's events in batches (acknowledging them only once the
// server stored them), heartbeats the officer's current state, uploads
// finished recordings from the spool (deleting the local copy only after
// the server verified its sha256), enrols the device, and follows the
// supervisors' live board.
//
// It never drops an event: a batch the server refuses stays queued and is
// retried with capped, jittered backoff, and Status says why.
package uplink
