package recorder

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/gordonklaus/portaudio"

	"github.com/callguard/callguard/artefact"
)

// paMu serialises PortAudio's global calls (Initialize, Terminate, device
// lists, opening and closing streams): the binding keeps unguarded globals.
var paMu sync.Mutex

// Device is an audio input offered in Settings.
type Device struct {
	Name     string // what OfficerDevice and CallerDevice name
	HostAPI  string // e.g. "ALSA", "MME", "Windows DirectSound", "Core Audio"
	Channels int    // input channels
	Default  bool   // the system's default input
}

// Devices lists the audio inputs PortAudio can see now.
func Devices() ([]Device, error) {
	paMu.Lock()
	defer paMu.Unlock()
	if err := portaudio.Initialize(); err != nil {
		return nil, fmt.Errorf("%w: initialise PortAudio: %v", ErrNoDevice, err)
	}
	defer portaudio.Terminate()
	devs, err := portaudio.Devices()
	if err != nil {
		return nil, fmt.Errorf("%w: list devices: %v", ErrNoDevice, err)
	}
	def, _ := portaudio.DefaultInputDevice()
	var out []Device
	for _, d := range devs {
		if d.MaxInputChannels < 1 {
			continue
		}
		host := ""
		if d.HostApi != nil {
			host = d.HostApi.Name
		}
		out = append(out, Device{Name: d.Name, HostAPI: host, Channels: d.MaxInputChannels, Default: def != nil && d.Index == def.Index})
	}
	return out, nil
}

// findInput picks the input device called name: the default input for "",
// else an exact name, else the one device whose name contains name (any case).
func findInput(name string) (*portaudio.DeviceInfo, error) {
	if name == "" {
		d, err := portaudio.DefaultInputDevice()
		if err != nil || d == nil || d.MaxInputChannels < 1 {
			return nil, fmt.Errorf("%w: this computer has no default audio input (is a headset plugged in?)", ErrNoDevice)
		}
		return d, nil
	}
	devs, err := portaudio.Devices()
	if err != nil {
		return nil, fmt.Errorf("%w: list devices: %v", ErrNoDevice, err)
	}
	var inputs []string
	var partial []*portaudio.DeviceInfo
	for _, d := range devs {
		if d.MaxInputChannels < 1 {
			continue
		}
		if d.Name == name {
			return d, nil
		}
		inputs = append(inputs, fmt.Sprintf("%q", d.Name))
		if strings.Contains(strings.ToLower(d.Name), strings.ToLower(name)) {
			partial = append(partial, d)
		}
	}
	if len(partial) == 1 {
		return partial[0], nil
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("%w: input %q not found: this computer has no audio inputs", ErrNoDevice, name)
	}
	return nil, fmt.Errorf("%w: input %q not found; inputs are %s", ErrNoDevice, name, strings.Join(inputs, ", "))
}

// paInput is one open mono 16 kHz PCM16 blocking input stream.
type paInput struct {
	name   string
	stream *portaudio.Stream
	buf    []int16
}

// skipSmallStreamIDs works around the binding passing its stream id as a C
// pointer: ids 1..4095 fail Go's checkptr instrumentation (on with -race),
// which aborts the program. A failed OpenStream still uses up an id and makes
// no C call, so 4096 of them move the ids out of that range for good. Call it
// with PortAudio initialised and paMu held.
var skipSmallStreamIDs = sync.OnceFunc(func() {
	for range 4096 {
		portaudio.OpenStream(portaudio.StreamParameters{})
	}
})

func openInput(name, role string) (*paInput, error) {
	skipSmallStreamIDs()
	d, err := findInput(name)
	if err != nil {
		return nil, fmt.Errorf("%s input: %w", role, err)
	}
	in := &paInput{name: d.Name, buf: make([]int16, BufferFrames)}
	p := portaudio.HighLatencyParameters(d, nil)
	p.Input.Channels = 1
	p.SampleRate = artefact.SampleRate
	p.FramesPerBuffer = BufferFrames
	if in.stream, err = portaudio.OpenStream(p, in.buf); err != nil {
		return nil, fmt.Errorf("%w: %s input %q cannot capture 16 kHz mono: %v", ErrNoDevice, role, d.Name, err)
	}
	if err := in.stream.Start(); err != nil {
		in.stream.Close()
		return nil, fmt.Errorf("%w: %s input %q does not start: %v", ErrNoDevice, role, d.Name, err)
	}
	return in, nil
}

func (in *paInput) read() (overflow bool, err error) {
	err = in.stream.Read()
	if errors.Is(err, portaudio.InputOverflowed) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%q: %v", in.name, err)
	}
	return false, nil
}

func (in *paInput) close() error {
	err := in.stream.Abort()
	if cerr := in.stream.Close(); err == nil {
		err = cerr
	}
	return err
}

// paSource is the officer's input and, optionally, the caller's, read in
// turn by the capture goroutine.
type paSource struct {
	officer, caller *paInput
}

func openPortAudio(officer, caller string) (source, error) {
	paMu.Lock()
	defer paMu.Unlock()
	if err := portaudio.Initialize(); err != nil {
		return nil, fmt.Errorf("%w: initialise PortAudio: %v", ErrNoDevice, err)
	}
	s := &paSource{}
	var err error
	if s.officer, err = openInput(officer, "officer"); err != nil {
		portaudio.Terminate()
		return nil, err
	}
	if caller != "" {
		if s.caller, err = openInput(caller, "caller"); err != nil {
			s.officer.close()
			portaudio.Terminate()
			return nil, err
		}
	}
	return s, nil
}

func (s *paSource) read() (officer, caller []int16, overflow bool, err error) {
	if overflow, err = s.officer.read(); err != nil {
		return nil, nil, false, err
	}
	if s.caller != nil {
		o, err := s.caller.read()
		if err != nil {
			return nil, nil, false, err
		}
		overflow = overflow || o
		caller = s.caller.buf
	}
	return s.officer.buf, caller, overflow, nil
}

func (s *paSource) names() (officer, caller string) {
	officer = s.officer.name
	if s.caller != nil {
		caller = s.caller.name
	}
	return officer, caller
}

func (s *paSource) close() error {
	paMu.Lock()
	defer paMu.Unlock()
	err := s.officer.close()
	if s.caller != nil {
		err = errors.Join(err, s.caller.close())
	}
	return errors.Join(err, portaudio.Terminate())
}

// Level opens device ("" is the default input) on its own and calls fn with
// its level in dBFS (RMS, -inf..0) ten times a second until ctx is done, for
// the meter in Settings. A device already recording may refuse a second open.
func (r *Recorder) Level(ctx context.Context, device string, fn func(dBFS float64)) error {
	paMu.Lock()
	if err := portaudio.Initialize(); err != nil {
		paMu.Unlock()
		return fmt.Errorf("%w: initialise PortAudio: %v", ErrNoDevice, err)
	}
	in, err := openInput(device, "level")
	if err != nil {
		portaudio.Terminate()
		paMu.Unlock()
		return err
	}
	paMu.Unlock()
	defer func() {
		paMu.Lock()
		in.close()
		portaudio.Terminate()
		paMu.Unlock()
	}()
	const perReport = 5 // buffers of 20 ms
	var sum float64
	n := 0
	for ctx.Err() == nil {
		if _, err := in.read(); err != nil {
			return fmt.Errorf("%w: %v", ErrDeviceLost, err)
		}
		for _, s := range in.buf {
			v := float64(s) / 32768
			sum += v * v
		}
		if n++; n == perReport {
			fn(dBFS(sum / float64(perReport*BufferFrames)))
			sum, n = 0, 0
		}
	}
	return nil
}

// dBFS converts a mean square to decibels relative to full scale.
func dBFS(meanSquare float64) float64 {
	if meanSquare <= 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(meanSquare)
}
