package opus

/*
#include <opus.h>

// opus_encoder_ctl is variadic, which cgo cannot call; these take the one
// integer argument each request needs.
static int cg_encoder_set(OpusEncoder *e, int request, opus_int32 value) {
	return opus_encoder_ctl(e, request, value);
}
static int cg_encoder_get(OpusEncoder *e, int request, opus_int32 *value) {
	return opus_encoder_ctl(e, request, value);
}
static int cg_encoder_reset(OpusEncoder *e) {
	return opus_encoder_ctl(e, OPUS_RESET_STATE);
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/callguard/callguard/artefact/oggopus"
)

// The recording format the encoder takes.
const (
	SampleRate = 16000 // frames per second
	Channels   = 2     // left = officer, right = caller
	// FrameDuration is the length of each Opus packet.
	FrameDuration = 20 * time.Millisecond
	// frameSamples is one packet's samples per channel at SampleRate.
	frameSamples = SampleRate / 50
	// samplesToGranule converts SampleRate samples to 48 kHz granules.
	samplesToGranule = oggopus.SampleRate / SampleRate
	bytesPerFrame    = Channels * 2
)

// DefaultBitrate is the bitrate for both channels together: 24 kbit/s.
// At 16 kHz libopus codes it as SILK wideband speech, which listeners cannot
// tell from the original on phone audio, and officer and caller mostly take
// turns, so SILK's stereo coding gives the bits to the one speaking. It is
// also the lowest rate that keeps the two voices apart: below it libopus
// narrows the stereo image until the channels share one voice (measured
// with libopus 1.3.1 on a dialogue over a noise floor: the caller is heard
// in the officer's channel at -6 dB of their speech at 16 kbit/s, and at
// -7 dB in double talk at 20 kbit/s, against -15 dB at 24). A recorded hour
// takes about 9 to 11 MB (BenchmarkEncode), a twentieth of the 230 MB of
// the WAV.
const DefaultBitrate = 24000

// The bitrates a policy may choose from: 24 kbit/s (see DefaultBitrate) to
// 128 kbit/s. At 32 kbit/s double talk keeps the voices apart better (the
// other voice at -18 dB at worst), for 14 MB an hour.
const (
	MinBitrate = 24000
	MaxBitrate = 128000
)

// ErrEncoderClosed: the Encoder was closed.
var ErrEncoderClosed = errors.New("opus: encoder closed")

// Encoder is a streaming Ogg Opus encoder for the recording format: it
// takes PCM16 little-endian stereo at 16 kHz (Write) and writes Ogg pages
// to its destination, one Write per page, at least every second of audio,
// and at once on Flush. The encoder uses libopus's VOIP application with
// DTX and 20 ms frames. It is not safe for concurrent use.
type Encoder struct {
	enc     *C.OpusEncoder
	ogg     *oggopus.Writer
	bitrate int
	preSkip int // 48 kHz samples
	silence []byte

	pcm    [frameSamples * Channels]C.opus_int16
	filled int    // samples (both channels) of pcm filled
	odd    []byte // a byte of a sample split between two Writes
	frames int64  // frames taken so far
	out    [4000]C.uchar
	err    error
	closed bool
	// zeros counts the frames of digital silence in a row, up to 2.
	zeros int
	// stale: frames were left out of libopus, so its state is from before.
	stale bool
}

// EncoderOption configures an Encoder.
type EncoderOption func(*encoderConfig)

type encoderConfig struct {
	bitrate  int
	comments []string
	ogg      []oggopus.WriterOption
}

// WithBitrate sets the bitrate for both channels, in bit/s, from
// MinBitrate to MaxBitrate (DefaultBitrate).
func WithBitrate(bps int) EncoderOption { return func(c *encoderConfig) { c.bitrate = bps } }

// WithComments adds "NAME=value" comments to the stream's OpusTags.
func WithComments(comments ...string) EncoderOption {
	return func(c *encoderConfig) { c.comments = append(c.comments, comments...) }
}

// WithOggOptions passes options to the Ogg writer (a fixed serial number
// for tests, a page duration).
func WithOggOptions(opts ...oggopus.WriterOption) EncoderOption {
	return func(c *encoderConfig) { c.ogg = append(c.ogg, opts...) }
}

// NewEncoder starts an Ogg Opus stream on w and writes its headers.
func NewEncoder(w io.Writer, opts ...EncoderOption) (*Encoder, error) {
	cfg := encoderConfig{bitrate: DefaultBitrate}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.bitrate < MinBitrate || cfg.bitrate > MaxBitrate {
		return nil, fmt.Errorf("opus: a bitrate of %d bit/s is outside %d to %d", cfg.bitrate, MinBitrate, MaxBitrate)
	}
	enc, err := newLibEncoder(cfg.bitrate)
	if err != nil {
		return nil, err
	}
	// Before the first frame there is only silence: a recording that starts
	// paused is silence packets from its first frame.
	e := &Encoder{enc: enc, bitrate: cfg.bitrate, zeros: 1}
	runtime.SetFinalizer(e, (*Encoder).free)
	var look C.opus_int32
	if rc := C.cg_encoder_get(enc, C.OPUS_GET_LOOKAHEAD_REQUEST, &look); rc != C.OPUS_OK {
		e.free()
		return nil, libopusError("opus: encoder look-ahead", rc)
	}
	e.preSkip = int(look) * samplesToGranule
	if e.silence, err = silencePacket(); err != nil {
		e.free()
		return nil, err
	}
	head := oggopus.Head{Channels: Channels, PreSkip: e.preSkip, InputRate: SampleRate}
	tags := oggopus.Tags{Vendor: Version(), Comments: append([]string{
		fmt.Sprintf("ENCODER=callguard (%d bit/s, %v frames, VOIP, DTX)", cfg.bitrate, FrameDuration),
	}, cfg.comments...)}
	if e.ogg, err = oggopus.NewWriter(w, head, tags, cfg.ogg...); err != nil {
		e.free()
		return nil, fmt.Errorf("opus: %w", err)
	}
	return e, nil
}

// newLibEncoder makes a libopus encoder with the recording's settings.
func newLibEncoder(bitrate int) (*C.OpusEncoder, error) {
	var rc C.int
	enc := C.opus_encoder_create(SampleRate, Channels, C.OPUS_APPLICATION_VOIP, &rc)
	if rc != C.OPUS_OK {
		return nil, libopusError("opus: create encoder", rc)
	}
	for _, s := range []struct {
		what    string
		request C.int
		value   C.opus_int32
	}{
		{"bitrate", C.OPUS_SET_BITRATE_REQUEST, C.opus_int32(bitrate)},
		{"DTX", C.OPUS_SET_DTX_REQUEST, 1},
		{"signal", C.OPUS_SET_SIGNAL_REQUEST, C.OPUS_SIGNAL_VOICE},
		// A file loses no packets: no redundancy for losses.
		{"in-band FEC", C.OPUS_SET_INBAND_FEC_REQUEST, 0},
		{"sample depth", C.OPUS_SET_LSB_DEPTH_REQUEST, 16},
	} {
		if rc := C.cg_encoder_set(enc, s.request, s.value); rc != C.OPUS_OK {
			C.opus_encoder_destroy(enc)
			return nil, libopusError("opus: set encoder "+s.what, rc)
		}
	}
	return enc, nil
}

// Write encodes p, PCM16 little-endian stereo frames (officer, caller) at
// 16 kHz. p need not end on a frame: what is left waits for the next Write.
// Audio reaches the destination a page at a time (Flush).
func (e *Encoder) Write(p []byte) (int, error) {
	if e.closed {
		return 0, ErrEncoderClosed
	}
	if e.err != nil {
		return 0, e.err
	}
	n := len(p)
	if len(e.odd) > 0 {
		if len(p) == 0 {
			return 0, nil
		}
		e.put(int16(binary.LittleEndian.Uint16([]byte{e.odd[0], p[0]})))
		e.odd, p = e.odd[:0], p[1:]
		if err := e.maybeEncode(); err != nil {
			return 0, err
		}
	}
	for len(p) >= 2 {
		// Fill the frame buffer as far as p goes.
		k := min(len(p)/2, len(e.pcm)-e.filled)
		for i := range k {
			e.pcm[e.filled+i] = C.opus_int16(int16(binary.LittleEndian.Uint16(p[2*i:])))
		}
		e.filled += k
		p = p[2*k:]
		if err := e.maybeEncode(); err != nil {
			return n - len(p), err
		}
	}
	if len(p) == 1 {
		e.odd = append(e.odd[:0], p[0])
	}
	return n, nil
}

func (e *Encoder) put(v int16) {
	e.pcm[e.filled] = C.opus_int16(v)
	e.filled++
}

// maybeEncode encodes the frame buffer once it is full.
func (e *Encoder) maybeEncode() error {
	if e.filled < len(e.pcm) {
		return nil
	}
	e.frames += frameSamples
	return e.encodeFrame()
}

// encodeFrame encodes the full frame buffer into one packet.
//
// Digital silence (a paused stretch: zeros on both channels) is not given to
// libopus, whose SILK coding of silence decodes to noise of a sample or two
// and whose DTX has decoders make up comfort noise. From the second frame of
// zeros on, the packet is the silence packet, which decoders render as exact
// zeros. The first is still coded by libopus, because its packet also holds
// the last milliseconds of the frame before (the encoder's look-ahead),
// unless it is the recording's first.
// When sound comes back, libopus starts afresh, as the decoder does on
// leaving the silence packets, so both begin from the same state.
func (e *Encoder) encodeFrame() error {
	silent := true
	for _, v := range e.pcm {
		if v != 0 {
			silent = false
			break
		}
	}
	if silent {
		e.zeros = min(e.zeros+1, 2)
	} else {
		e.zeros = 0
	}
	var pkt []byte
	if e.zeros == 2 {
		pkt, e.stale = e.silence, true
	} else {
		if e.stale {
			if rc := C.cg_encoder_reset(e.enc); rc != C.OPUS_OK {
				e.err = libopusError("opus: reset the encoder", rc)
				return e.err
			}
			e.stale = false
		}
		n := C.opus_encode(e.enc, &e.pcm[0], frameSamples, &e.out[0], C.opus_int32(len(e.out)))
		if n < 0 {
			e.err = libopusError("opus: encode", C.int(n))
			return e.err
		}
		pkt = unsafe.Slice((*byte)(unsafe.Pointer(&e.out[0])), int(n))
	}
	e.filled = 0
	if err := e.ogg.WritePacket(pkt); err != nil {
		e.err = fmt.Errorf("opus: %w", err)
		return e.err
	}
	return nil
}

// Flush writes every complete packet to the destination, ending the page
// in progress, so that a recording cut short after it decodes up to here
// (less the last frame's few milliseconds still in the encoder: its
// look-ahead and the part of a 20 ms frame not yet complete). It does not
// flush or sync the destination itself.
func (e *Encoder) Flush() error {
	if e.closed {
		return ErrEncoderClosed
	}
	if e.err != nil {
		return e.err
	}
	if err := e.ogg.Flush(); err != nil {
		e.err = fmt.Errorf("opus: %w", err)
	}
	return e.err
}

// Close encodes the audio still buffered (the last part frame and the
// encoder's look-ahead, filled up with silence that the stream's end
// trimming tells decoders to drop), writes the last page and frees the
// encoder. It does not close the destination.
func (e *Encoder) Close() error {
	if e.closed {
		return ErrEncoderClosed
	}
	defer e.free()
	e.closed = true
	if e.err != nil {
		return e.err
	}
	// A half sample cannot be recorded; the last part frame is.
	e.frames += int64(e.filled / Channels)
	want := e.frames*samplesToGranule + int64(e.preSkip) // granules the decoder must output
	for e.filled > 0 || e.ogg.Granule() < want {
		clear(e.pcm[e.filled:])
		e.filled = len(e.pcm)
		if err := e.encodeFrame(); err != nil {
			return err
		}
	}
	e.ogg.TrimEnd(int(e.ogg.Granule() - want))
	if err := e.ogg.Close(); err != nil {
		e.err = fmt.Errorf("opus: %w", err)
		return e.err
	}
	return nil
}

// free releases libopus's encoder; it is safe to call more than once.
func (e *Encoder) free() {
	if e.enc != nil {
		C.opus_encoder_destroy(e.enc)
		e.enc = nil
	}
	runtime.SetFinalizer(e, nil)
}

// Bitrate is the bitrate for both channels, in bit/s.
func (e *Encoder) Bitrate() int { return e.bitrate }

// PreSkip is the encoder's delay in 48 kHz samples, which the stream's
// header tells decoders to drop.
func (e *Encoder) PreSkip() int { return e.preSkip }

// Duration is how much audio has been written so far.
func (e *Encoder) Duration() time.Duration {
	return time.Duration(e.frames) * time.Second / SampleRate
}

// SilencePacket is a packet that decodes to digital silence at this
// stream's configuration, for the manifest: the server's redaction puts it
// in place of the packets it silences (oggopus.Redact).
func (e *Encoder) SilencePacket() []byte { return append([]byte(nil), e.silence...) }

// silencePacket is the packet that stands for a frame of digital silence:
// what libopus codes for 20 ms of zeros in CELT mode, a frame with its
// silence flag set, which every decoder renders as zeros. It is the packet
// oggopus.CELTSilence builds without libopus, so the desktop and the
// server agree (TestSilencePacketIsCELTSilence).
var silencePacket = sync.OnceValues(func() ([]byte, error) {
	var rc C.int
	enc := C.opus_encoder_create(SampleRate, Channels, C.OPUS_APPLICATION_RESTRICTED_LOWDELAY, &rc)
	if rc != C.OPUS_OK {
		return nil, libopusError("opus: create the CELT encoder for silence", rc)
	}
	defer C.opus_encoder_destroy(enc)
	var pcm [frameSamples * Channels]C.opus_int16
	var out [64]C.uchar
	n := C.opus_encode(enc, &pcm[0], frameSamples, &out[0], C.opus_int32(len(out)))
	if n < 0 {
		return nil, libopusError("opus: encode silence", C.int(n))
	}
	p := C.GoBytes(unsafe.Pointer(&out[0]), C.int(n))
	if err := oggopus.CheckSilence(p); err != nil {
		return nil, fmt.Errorf("opus: libopus's silence: %w", err)
	}
	return p, nil
})
