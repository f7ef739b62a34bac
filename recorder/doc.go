// Package recorder captures the officer's and the caller's audio with
// PortAudio and streams it, age-encrypted to the organisation, into the spool.
// A gate sits between capture and disk: while paused, samples are replaced by
// digital silence before they reach any buffer that is written, so paused
// audio never touches the disk and plaintext audio never exists on it.
package recorder
