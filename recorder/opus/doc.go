// Package opus encodes callguard's recordings (16 kHz stereo PCM16, the
// officer left and the caller right) as Ogg Opus through libopus, and
// decodes them back to PCM16 for the data-protection officer's player and
// for WAV export. The Ogg framing is artefact/oggopus's, so the desktop and
// the server read one format with one code.
//
// It never writes anything but Ogg pages to the destination it is given
// (the age encryption stream), and never holds more than one page of audio
// (a second) that Flush would not hand over at once.
package opus
