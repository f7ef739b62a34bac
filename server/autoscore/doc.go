// Package autoscore is the server's scoring job: it scores every call
// whose recording was stored by the active scorecard for the call's
// category (server/scoring does the arithmetic), and scores them again
// when a scorecard gets a new version, keeping the old scores. It works
// from the scoring queue the store fills in the transaction that stores a
// recording, so nothing is lost when the server stops mid-way.
//
// It reads manifests and events only: it never decrypts or hears a
// recording.
package autoscore
