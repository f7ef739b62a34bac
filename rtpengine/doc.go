// Package rtpengine controls an rtpengine media proxy over its ng protocol
// (bencode over UDP), so that callguard can pause and resume the recording
// a phone system makes: StopRecording and StartRecording on the SIP Call-ID,
// which rtpengine applies exactly to the RTP packet.
//
// Every command carries a fresh cookie and is retransmitted with that same
// cookie until rtpengine answers or the command's time is up (500 ms by
// default), so rtpengine's cookie cache applies it once however many copies
// arrive. A command that is not answered in time ends in a *TimeoutError
// (errors.Is ErrTimeout): rtpengine may or may not have applied it, and the
// caller must never report it as done. An answer that is an error ends in
// an *Error carrying rtpengine's reason.
//
// It is pure Go and holds no callguard state: the desktop and the central
// server both drive it.
package rtpengine
