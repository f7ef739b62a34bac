// Package dtmf finds keypad (DTMF) tones in audio and silences them before
// the audio is stored, because the tones a caller keys for a card number are
// card data: any tone decoder turns them back into the number.
//
// A Detector hears one channel at 8 or 16 kHz. A Masker filters one or two
// interleaved channels on their way to a writer and silences every tone, with
// a guard before and after it, on all channels. A Run tells when tones come in
// a run, the sign that a caller is keying a card number.
//
// The package reports where tones are, never which keys they were: no
// exported type, method, event or formatting carries a key, and the package
// writes nothing but the audio it is given (no logs, no files). Which key a
// tone is exists only inside a Detector, while the tone sounds.
//
// # How tones are heard
//
// Goertzel filters at the eight DTMF frequencies (and 1 % either side of
// each, since Q.24 allows tones 1.5 % off) run over sub-blocks of 4 ms: 64
// samples at 16 kHz, 32 at 8 kHz. Their outputs, referred to the phase of the
// stream's first sample, add up to those of a 16 ms window that slides in
// 4 ms steps, for the cost of one pass over each sample. 16 ms is long enough
// to tell the low-group frequencies apart (73 to 89 Hz from each other; the
// filters' first null is 62.5 Hz away) and short enough for several windows
// to fit inside a 40 ms tone.
//
// A window hears a key when all of these hold:
//
//   - energy floor: each of its two frequencies is above −42 dBFS;
//   - twist: the low group at most 10 dB stronger than the high group and at
//     most 7 dB weaker: Q.24's 8 dB of normal and 4 dB of reverse twist,
//     with room for what speech under a tone does to the measurement;
//   - relative peak: each frequency 8 dB stronger than every other of its
//     group;
//   - two tones only: the two frequencies carry 88 % of the window's energy
//     (its mean removed). This is the check that rejects speech, noise and
//     chords; it also refuses tones more than about 2 % off frequency (Q.24
//     requires refusing those 3.5 % off);
//   - second harmonic: the harmonic of each frequency is 10 dB weaker than
//     the frequency, as in a keypad tone and not in voiced speech (for a low
//     frequency whose harmonic falls within 150 Hz of the key's high
//     frequency, such as 697 Hz doubled beside 1336 Hz, only the high one is
//     checked).
//
// A tone begins when 5 windows hear the same key, one window that hears
// nothing being allowed between two that do: at least 32 ms of tone, so it is
// reported 32 to 36 ms after it began. It ends after 7 windows without it, so
// that a break of up to 10 ms does not split a tone and the 40 ms pause
// between two presses of one key does (Q.24). Q.24 requires tones of 40 ms
// and more to be recognised and those of 20 ms or less not to be.
//
// A run of windows too short to be a tone that touches digital silence (the
// recorder's pause gate, the start or the end of the audio) is what a pause
// left of a tone, and it counts as one.
//
// # How tones are silenced
//
// The Masker holds back 60 ms (LookAhead). It starts silencing as soon as one
// window hears a key (16 ms into the tone), from the guard before the tone,
// which is still held, to the guard after it (DefaultGuard, 40 ms). A window
// that heard a key but was not confirmed as a tone is silenced too; speech so
// rarely passes every check that this cost no false mask in the tests. All
// channels are silenced, because a tone the caller keys reaches the officer's
// microphone through the headset, below what the detector hears but not below
// what a decoder can be made to hear. Every boundary lies on the 4 ms grid of
// the sub-blocks.
//
// # What was measured (the tests in this package)
//
//   - Every key at 40, 50, 70, 100 and 200 ms, at −25 to −3 dBFS, with 8 dB
//     of normal and 4 dB of reverse twist and 1.5 % off frequency, at 16 kHz
//     and through G.711 at 8 kHz: all heard, none twice, boundaries within
//     6 ms (2 ms when nothing else sounds).
//   - With speech or white noise 15 dB below the tones: all heard and all
//     silenced. With speech 10 dB below, 98 % of 40 ms tones are silenced
//     whole; 6 dB below, 87 %.
//   - The guard kept: at least 37 ms before and after (median 40 ms).
//   - Pieces of tones that a pause leaves: silenced from 16 ms on (multimon-ng
//     decodes from 16 ms; the detector hears 14 ms and more).
//   - False masks: none in an hour of espeak-ng speech (sixteen voices) and a
//     quarter of an hour of chords, at 16 kHz and through A-law at 8 kHz.
//   - CPU: 0.55 ms per second of one channel at 16 kHz (0.055 % of a core),
//     0.4 ms at 8 kHz; the stereo Masker 1.1 ms per second of audio
//     (BenchmarkDetector, BenchmarkMasker).
package dtmf
