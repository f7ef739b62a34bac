// Package keywords spots spoken keyphrases ("thank you for calling",
// "privacy notice") in a recording's audio with CMU PocketSphinx's keyword
// search, for scorecard criteria that need to know what was said.
//
// It is cgo and runs in its own analyser process, never in the cgo-free
// server. It reads decrypted audio from memory only and never writes audio
// or transcripts anywhere: what it returns is which phrase and when.
//
// Measured on espeak-ng voices it finds too few phrases to be trusted
// (docs/supervisors.md, "Keyword criteria"), so nothing uses it by default.
package keywords
