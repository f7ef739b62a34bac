// Package scoring computes a call's measures from its manifest (the
// voice-activity timeline, the pauses) and its events, and scores them by a
// policy scorecard with an evaluator's answers. It is pure: no database, no
// HTTP, no cgo; it never decrypts or hears a recording, and a measure it
// cannot compute is "not measured", never zero.
package scoring
