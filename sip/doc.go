// Package sip learns the state of the officer's calls from the phone system by
// subscribing to the dialog event package (RFC 4235) for the officer's address
// of record, as BLF keys do. It never touches the softphone or the media, and
// when it cannot hear the phone system it says so at once (app.LinkLost)
// rather than keep reporting a state it no longer knows.
package sip
