// Package pcapaudio turns the pcap files rtpengine records a call into
// (one file per recorded stretch) into callguard's recording format: PCM16
// at 16 kHz, two channels, officer left and caller right, each stretch at
// its true offset from the start of the recording and digital silence
// wherever nothing was recorded, with the pauses rtpengine applied as
// intervals in milliseconds.
//
// Placement: within a stretch each RTP stream is placed by its RTP
// timestamps, anchored to the capture time of its least-delayed packet
// among the first 50 (a packet's audio ends when it is captured, as a phone
// sends each packet once its last sample was spoken). Reordered packets
// land where their timestamps say; lost ones leave silence; a timestamp
// that jumps away from the capture clock by more than 200 ms for three
// packets in a row starts a new anchor. Each stretch is anchored afresh, so
// clock drift never accumulates across a pause.
//
// Only G.711 (PCMA, PCMU) is decoded, in pure Go. Audio is never dropped
// silently: a packet of an unsupported codec, or sent to an address no side
// is known for, or recorded before the origin, is an error.
package pcapaudio
