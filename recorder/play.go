package recorder

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gordonklaus/portaudio"

	"github.com/callguard/callguard/artefact"
)

// Play plays audio in the recording format (PCM16 little-endian, 16 kHz,
// stereo: officer left, caller right) from r on the default output device,
// until r ends or ctx is done; a stop by ctx returns ctx's error. It holds
// nothing of the audio but the buffer being played, and writes nothing to
// disk: a data-protection officer listens to a recording the server
// decrypted without a copy being left on the PC.
func Play(ctx context.Context, r io.Reader) error {
	paMu.Lock()
	if err := portaudio.Initialize(); err != nil {
		paMu.Unlock()
		return fmt.Errorf("%w: initialise PortAudio: %v", ErrNoDevice, err)
	}
	out, err := openOutput()
	if err != nil {
		portaudio.Terminate()
		paMu.Unlock()
		return err
	}
	paMu.Unlock()
	defer func() {
		paMu.Lock()
		out.Close()
		portaudio.Terminate()
		paMu.Unlock()
	}()
	raw := make([]byte, BufferFrames*artefact.Channels*2)
	buf := out.buf
	for {
		if err := ctx.Err(); err != nil {
			out.Abort()
			return err
		}
		n, rerr := io.ReadFull(r, raw)
		if n > 0 {
			for i := range buf {
				buf[i] = 0 // the last buffer's tail is silence
				if 2*i+1 < n {
					buf[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
				}
			}
			if err := out.Write(); err != nil && !errors.Is(err, portaudio.OutputUnderflowed) {
				return fmt.Errorf("%w: %v", ErrDeviceLost, err)
			}
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF), errors.Is(rerr, io.ErrUnexpectedEOF):
			return out.Stop() // plays what is queued, then stops
		default:
			return fmt.Errorf("play: %w", rerr)
		}
	}
}

// paOutput is the default output device, open as a blocking 16 kHz stereo
// PCM16 stream.
type paOutput struct {
	*portaudio.Stream
	buf []int16
}

// openOutput opens the default output; call it with PortAudio initialised
// and paMu held.
func openOutput() (*paOutput, error) {
	skipSmallStreamIDs()
	d, err := portaudio.DefaultOutputDevice()
	if err != nil {
		return nil, fmt.Errorf("%w: no output device to play on: %v", ErrNoDevice, err)
	}
	out := &paOutput{buf: make([]int16, BufferFrames*artefact.Channels)}
	p := portaudio.HighLatencyParameters(nil, d)
	p.Output.Channels = artefact.Channels
	p.SampleRate = artefact.SampleRate
	p.FramesPerBuffer = BufferFrames
	if out.Stream, err = portaudio.OpenStream(p, out.buf); err != nil {
		return nil, fmt.Errorf("%w: output %q cannot play 16 kHz stereo: %v", ErrNoDevice, d.Name, err)
	}
	if err := out.Start(); err != nil {
		out.Stream.Close()
		return nil, fmt.Errorf("%w: output %q does not start: %v", ErrNoDevice, d.Name, err)
	}
	return out, nil
}
