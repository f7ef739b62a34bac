package testrig

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// ALSA is an audio capture rig for tests of real PortAudio capture: ALSA's
// `file` PCM plugin over a `null` slave, reading its input from a FIFO the
// test writes. Measured with alsa-lib 1.2.8 and PortAudio 19.6: the file
// plugin read()s the infile inside snd_pcm_readi, which PortAudio's blocking
// Read uses, so capture is paced exactly by what the test writes. From a
// regular file it would run as fast as it is read and, at end of file, hand
// back stale buffers; a FIFO makes the test decide every sample and when it
// arrives: capture blocks until the test feeds, and returns what it fed,
// bit for bit.
//
// The first input is ALSA's default capture device; every input is also a
// PCM of its own name, which PortAudio lists as a device of that name.
type ALSA struct {
	Dir    string // holds the config and the FIFOs
	Config string // the ALSA configuration file; ALSA_CONFIG_PATH points at it
	inputs map[string]*ALSAInput
}

// ALSAInput is one capture device of the rig.
type ALSAInput struct {
	Name string
	fifo *os.File

	mu  sync.Mutex
	fed int64 // frames written so far
}

// NewALSA builds the rig with mono inputs of the given names (the first is
// the default capture device) and points ALSA_CONFIG_PATH at it for the rest
// of the test. PortAudio reads the ALSA configuration when it initialises, so
// the code under test must initialise PortAudio after this call; the recorder
// does so each time it opens devices. The FIFOs are opened read-write here so
// that ALSA's blocking open of the infile never waits for a writer.
func NewALSA(t testing.TB, inputs ...string) *ALSA {
	t.Helper()
	if len(inputs) == 0 {
		t.Fatal("testrig.NewALSA: no inputs")
	}
	Need(t, "ALSA (libasound2)", alsaLib())
	dir := t.TempDir()
	a := &ALSA{Dir: dir, Config: filepath.Join(dir, "asoundrc"), inputs: map[string]*ALSAInput{}}
	var conf strings.Builder
	// What is played on the default device is written to played.raw, as
	// fast as it is played (the null slave keeps no time).
	fmt.Fprintf(&conf, "pcm.!default { type asym capture.pcm %q playback.pcm \"speaker\" }\n", inputs[0])
	conf.WriteString("pcm.null { type null }\n")
	fmt.Fprintf(&conf, "pcm.speaker { type file slave.pcm \"null\" file %q format \"raw\" }\n", filepath.Join(dir, "played.raw"))
	for _, name := range inputs {
		fifo := filepath.Join(dir, name+".fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatalf("testrig: mkfifo: %v", err)
		}
		f, err := os.OpenFile(fifo, os.O_RDWR, 0)
		if err != nil {
			t.Fatalf("testrig: open fifo: %v", err)
		}
		t.Cleanup(func() { f.Close() })
		in := &ALSAInput{Name: name, fifo: f}
		a.inputs[name] = in
		fmt.Fprintf(&conf, "pcm.%s { type file slave.pcm \"null\" file \"/dev/null\" infile %q format \"raw\" }\n", name, fifo)
	}
	if err := os.WriteFile(a.Config, []byte(conf.String()), 0o600); err != nil {
		t.Fatalf("testrig: %v", err)
	}
	t.Setenv("ALSA_CONFIG_PATH", a.Config)
	t.Setenv("JACK_NO_START_SERVER", "1")
	return a
}

// Played returns what was played on the default output device since it
// was last opened (ALSA's file PCM starts the file afresh at each open):
// PCM as the player opened the device (interleaved, little-endian).
func (a *ALSA) Played() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(a.Dir, "played.raw"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// NoALSADevices makes ALSA, for the rest of the test, look like a computer
// without a sound card: only the system's alsa.conf, whose default PCM needs
// card 0, and a machine (like CI's) with no card. It skips (fails in CI) when
// the machine does have a sound card. A configuration that defines no PCM at
// all is not used: PortAudio 19.6 aborts on it (an assertion in
// BuildDeviceList), which no real system config triggers.
func NoALSADevices(t testing.TB) {
	t.Helper()
	Need(t, "ALSA (libasound2)", alsaLib())
	conf := "/usr/share/alsa/alsa.conf"
	if _, err := os.Stat(conf); err != nil {
		Need(t, "ALSA's alsa.conf", err)
	}
	if cards, _ := filepath.Glob("/dev/snd/pcmC*"); len(cards) > 0 {
		Need(t, "a machine without sound cards", fmt.Errorf("found %v", cards))
	}
	t.Setenv("ALSA_CONFIG_PATH", conf)
	t.Setenv("JACK_NO_START_SERVER", "1")
}

// Input returns the input called name.
func (a *ALSA) Input(name string) *ALSAInput { return a.inputs[name] }

// Env returns the environment a child process needs to use the rig.
func (a *ALSA) Env() []string {
	return []string{"ALSA_CONFIG_PATH=" + a.Config, "JACK_NO_START_SERVER=1"}
}

// Feed makes samples (mono PCM16) available to capture. It blocks while the
// FIFO is full (64 KiB, about 2 s at 16 kHz) until capture reads or the rig
// is cleaned up.
func (in *ALSAInput) Feed(samples []int16) error {
	b := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	n, err := in.fifo.Write(b)
	in.fed += int64(n / 2)
	if err != nil {
		return fmt.Errorf("testrig: feed %s: %w", in.Name, err)
	}
	return nil
}

// Fed returns how many frames were fed so far.
func (in *ALSAInput) Fed() int64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.fed
}

func alsaLib() error {
	for _, p := range []string{"/usr/lib/x86_64-linux-gnu/libasound.so.2", "/usr/lib/aarch64-linux-gnu/libasound.so.2", "/usr/lib/libasound.so.2", "/usr/lib64/libasound.so.2"} {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
	}
	return errors.New("libasound.so.2 not found")
}
