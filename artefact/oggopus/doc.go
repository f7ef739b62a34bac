// Package oggopus reads, writes and redacts Ogg Opus streams (RFC 3533,
// RFC 7845, RFC 6716) in pure Go, without decoding audio: it frames Opus
// packets into Ogg pages and back, gives every packet its time, and silences
// intervals by replacing whole packets with packets that decode to digital
// silence, leaving every other packet byte for byte as it was.
//
// It never decodes or encodes audio (the server that uses it stays free of
// cgo), it streams page by page in bounded memory, and it never returns a
// packet from a page whose checksum fails. A stream cut short by a crash is
// readable up to its last complete page.
package oggopus
