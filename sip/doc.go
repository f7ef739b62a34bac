// Package sip learns the state of the officer's calls from the phone system by
// subscribing to the dialog event package (RFC 4235) for the officer's address
// of record, as BLF keys do. It never touches the softphone or the media, and
// when it cannot hear the phone system it says so at once (app.LinkLost)
// rather than keep reporting a state it no longer knows.
//
// A Subscriber keeps one subscription (SUBSCRIBE, Event: dialog) over UDP,
// TCP or TLS, answers digest challenges, refreshes before expiry, probes the
// phone system with OPTIONS, and turns each NOTIFY's dialog-info document
// into app.CallEvent values: one per transition of each dialog, in order.
// After a loss it subscribes again with a fresh SIP stack and reconciles the
// phone system's full state with what it reported before it says app.LinkUp.
// It is the only package that imports sipgo (as sipmsg for its sip package).
package sip
