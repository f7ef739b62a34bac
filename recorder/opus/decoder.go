package opus

/*
#include <opus.h>

// opus_decoder_ctl is variadic, which cgo cannot call.
static int cg_decoder_set(OpusDecoder *d, int request, opus_int32 value) {
	return opus_decoder_ctl(d, request, value);
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/callguard/callguard/artefact/oggopus"
)

// maxPacketSamples is the longest Opus packet, 120 ms, in samples per
// channel at the output's rate.
const maxPacketSamples = SampleRate * 120 / 1000

// ErrDecoderClosed: the Decoder was closed.
var ErrDecoderClosed = errors.New("opus: decoder closed")

// Decoder decodes an Ogg Opus stream to the recording format: PCM16
// little-endian stereo at 16 kHz, with the stream's pre-skip and end
// trimming applied, so the output lines up sample for sample with what was
// encoded. A mono stream comes out on both channels.
type Decoder struct {
	r      *oggopus.Reader
	dec    *C.OpusDecoder
	pcm    [maxPacketSamples * Channels]C.opus_int16
	buf    []byte // the last packet's output
	out    []byte // what of it has not been read yet
	err    error
	closed bool
}

// NewDecoder reads the headers of the Ogg Opus stream in r.
func NewDecoder(r io.Reader) (*Decoder, error) {
	or, err := oggopus.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("opus: %w", err)
	}
	var rc C.int
	dec := C.opus_decoder_create(SampleRate, Channels, &rc)
	if rc != C.OPUS_OK {
		return nil, libopusError("opus: create decoder", rc)
	}
	d := &Decoder{r: or, dec: dec}
	runtime.SetFinalizer(d, (*Decoder).free)
	if g := or.Head().OutputGain; g != 0 {
		if rc := C.cg_decoder_set(dec, C.OPUS_SET_GAIN_REQUEST, C.opus_int32(g)); rc != C.OPUS_OK {
			d.free()
			return nil, libopusError("opus: set output gain", rc)
		}
	}
	return d, nil
}

// Head is the stream's identification header.
func (d *Decoder) Head() oggopus.Head { return d.r.Head() }

// Tags is the stream's comment header.
func (d *Decoder) Tags() oggopus.Tags { return d.r.Tags() }

// Read reads decoded PCM. At the end of a complete stream it returns
// io.EOF. A stream cut short (a crashed recording) gives all the audio of
// its complete pages and then an error that errors.Is oggopus.ErrTruncated.
func (d *Decoder) Read(p []byte) (int, error) {
	if d.closed {
		return 0, ErrDecoderClosed
	}
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.err = d.decodePacket()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// decodePacket decodes the next packet into d.out, less what the pre-skip
// and the end trimming drop.
func (d *Decoder) decodePacket() error {
	pkt, err := d.r.Next()
	if err != nil {
		return err
	}
	n := C.opus_decode(d.dec, (*C.uchar)(&pkt.Data[0]), C.opus_int32(len(pkt.Data)),
		&d.pcm[0], C.int(len(d.pcm)/Channels), 0)
	if n < 0 {
		return libopusError(fmt.Sprintf("opus: decode the packet at %v", pkt.Time()), C.int(n))
	}
	// Positions in 48 kHz samples, converted to the output's.
	from := max(0, -pkt.Start) / samplesToGranule
	to := int64(pkt.Samples-pkt.Trim) / samplesToGranule
	to = min(to, int64(n))
	if from >= to {
		return nil
	}
	d.buf = d.buf[:0]
	for _, v := range d.pcm[from*Channels : to*Channels] {
		d.buf = binary.LittleEndian.AppendUint16(d.buf, uint16(v))
	}
	d.out = d.buf
	return nil
}

// Close frees the decoder. It does not close the source.
func (d *Decoder) Close() error {
	if d.closed {
		return ErrDecoderClosed
	}
	d.closed = true
	d.free()
	return nil
}

func (d *Decoder) free() {
	if d.dec != nil {
		C.opus_decoder_destroy(d.dec)
		d.dec = nil
	}
	runtime.SetFinalizer(d, nil)
}
