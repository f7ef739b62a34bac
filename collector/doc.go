// Package collector turns the recording a phone system made of a call
// (rtpengine's pcap stretches) into one callguard recording: PCM16 16 kHz
// stereo, officer left and caller right, each stretch at its true offset
// and digital silence between, encrypted with age to the organisation's
// keys as it is written, with a manifest whose pauses are the gaps
// rtpengine left and whose voice-activity timeline is computed from the
// same audio on its way (the gaps never analysed). Keypad tones sent in the
// audio are silenced before the encryption, as the desktop's recorder
// silences them, each stretch a redaction of kind dtmf in the manifest.
//
// It never writes plaintext audio to disk, and it never reports a
// recording complete that it did not finish.
package collector
