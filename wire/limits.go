package wire

import "unicode/utf8"

// Limits of the event ingest contract, in bytes (UTF-8) or counts. The
// server refuses an event that breaks one; the desktop cuts (or, for input
// an integration sent, refuses) every field at these limits first.
const (
	// MaxBatch is how many events one ingest request may carry.
	MaxBatch = 1000
	// MaxIDLen bounds event, call and device ids (see ValidID).
	MaxIDLen = 64
	// MaxNumberLen bounds a party's number (an extension or E.164 number).
	MaxNumberLen = 128
	// MaxNameLen bounds a party's display name and an agent id.
	MaxNameLen = 256
	// MaxURILen bounds a party's SIP URI and the SIP Call-ID.
	MaxURILen = 512
	// MaxReasonLen bounds a pause, flag or link reason.
	MaxReasonLen = 256
	// MaxNoteLen bounds a flag's note.
	MaxNoteLen = 4096
	// MaxEventsPerCall is how many events the server keeps for one call; a
	// call makes about ten, so only a faulty or hostile desktop reaches it.
	// Events past it are refused one by one.
	MaxEventsPerCall = 2000
)

// Cut returns s shortened to at most n bytes without splitting a UTF-8
// sequence: a display name of 300 bytes from the phone system becomes its
// first whole characters within the limit.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// ValidID reports whether s can name an event, call or device: 1–MaxIDLen
// letters, digits, '-' or '_'. Call ids name files on disk, so nothing else
// is allowed.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
