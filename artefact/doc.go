// Package artefact is the recording format shared by the recorder and the
// central server, in pure Go (no cgo): the WAV header, the manifest, the
// age-encrypted stream writer, decryption and verification, and interval
// redaction. The recorder writes recordings with it; the server redacts,
// verifies and plays them with it.
//
// It never writes plaintext audio to disk: decryption and redaction stream
// from one age file to a writer, and redaction re-encrypts as it goes.
package artefact
