package recorder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callguard/callguard/artefact"
)

const (
	// BufferFrames is the capture buffer: 20 ms. The gate is read once per
	// buffer, so a pause or resume takes effect within one buffer.
	BufferFrames = 320
	bufferBytes  = BufferFrames * artefact.BytesPerFrame
)

// source delivers capture buffers of BufferFrames mono samples: the
// officer's and, when a caller input is configured, the caller's. read blocks
// until a whole buffer has been captured. PortAudio implements it; unit tests
// and benchmarks feed buffers of their own.
type source interface {
	// read returns the next buffers; caller is nil when there is no caller
	// input. The slices stay valid until the next read. overflow reports that
	// the device dropped input before this buffer.
	read() (officer, caller []int16, overflow bool, err error)
	// close stops and closes the devices. It is called by the goroutine that
	// reads, never while a read is in progress.
	close() error
	// names says which devices these are, for the manifest.
	names() (officer, caller string)
}

// capture is one open set of devices, read by one goroutine and fanned out to
// every live recording. It starts with its first recording and stops itself
// after the read in which it finds none left.
type capture struct {
	src   source
	log   *slog.Logger
	stall time.Duration // no buffer for this long while recording: device lost

	mu     sync.Mutex
	sinks  []*Recording
	exited bool // the read loop will not deliver again

	lastRead atomic.Int64 // monotonic ns (since base) of the last completed read
	base     time.Time
	frames   atomic.Int64 // frames delivered since the devices opened; changes under mu
	reads    atomic.Int64 // reads begun (gate snapshots taken)
	done     chan struct{}
	stopDog  chan struct{}
}

func newCapture(src source, first *Recording, log *slog.Logger, stall time.Duration) *capture {
	c := &capture{
		src: src, log: log, stall: stall,
		sinks: []*Recording{first},
		base:  time.Now(),
		done:  make(chan struct{}), stopDog: make(chan struct{}),
	}
	first.cap = c
	first.pre = first.gate.Load()
	c.lastRead.Store(0)
	go c.run()
	go c.watchdog()
	return c
}

// add registers r; it fails when the read loop has already decided to stop,
// in which case the caller opens a new capture.
func (c *capture) add(r *Recording) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exited {
		return false
	}
	r.cap = c
	r.pre = r.gate.Load()
	r.startFrame = c.frames.Load()
	c.sinks = append(c.sinks, r)
	return true
}

// remove unregisters r and closes its queue, recording cause (nil for Stop).
// It reports false when r was already removed; exactly one caller wins.
func (c *capture) remove(r *Recording, cause error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.removeLocked(r, cause)
}

func (c *capture) removeLocked(r *Recording, cause error) bool {
	for i, s := range c.sinks {
		if s == r {
			c.sinks = append(c.sinks[:i:i], c.sinks[i+1:]...)
			r.cause = cause
			close(r.queue)
			return true
		}
	}
	return false
}

// fail removes every recording with err: the devices are gone.
func (c *capture) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exited = true
	for len(c.sinks) > 0 {
		c.removeLocked(c.sinks[0], err)
	}
}

func (c *capture) run() {
	defer close(c.done)
	defer close(c.stopDog)
	stereo := make([]byte, bufferBytes)
	for {
		// The gate as each read begins: a command that arrives while the
		// buffer is being read silences the whole buffer.
		c.mu.Lock()
		for _, r := range c.sinks {
			r.pre = r.gate.Load()
		}
		c.reads.Add(1)
		c.mu.Unlock()
		officer, caller, overflow, err := c.src.read()
		c.lastRead.Store(int64(time.Since(c.base)))
		if err != nil {
			c.fail(fmt.Errorf("%w: %v", ErrDeviceLost, err))
			break
		}
		if overflow {
			c.log.Warn("audio input overflowed: the device dropped samples")
		}
		interleave(stereo, officer, caller)
		c.mu.Lock()
		if c.exited || len(c.sinks) == 0 {
			c.exited = true
			c.mu.Unlock()
			break
		}
		// offer may remove a recording that fell behind; removeLocked builds
		// a new slice, so this range goes on over the old one.
		for _, r := range c.sinks {
			r.offer(stereo, overflow)
		}
		c.frames.Add(BufferFrames)
		c.mu.Unlock()
	}
	if err := c.src.close(); err != nil {
		c.log.Warn("closing audio input", "err", err)
	}
}

// watchdog declares the device lost when reads stop arriving: some hosts
// block in read forever when a headset is unplugged rather than failing.
func (c *capture) watchdog() {
	t := time.NewTicker(c.stall / 4)
	defer t.Stop()
	for {
		select {
		case <-c.stopDog:
			return
		case <-t.C:
			idle := time.Since(c.base) - time.Duration(c.lastRead.Load())
			if idle > c.stall {
				c.log.Error("audio input stalled", "for", idle)
				c.fail(fmt.Errorf("%w: no audio for %v", ErrDeviceLost, idle.Round(time.Millisecond)))
				return
			}
		}
	}
}

// interleave writes officer (left) and caller (right, silence when nil) as
// little-endian PCM16 stereo frames.
func interleave(dst []byte, officer, caller []int16) {
	for i, s := range officer {
		binary.LittleEndian.PutUint16(dst[4*i:], uint16(s))
		var c int16
		if caller != nil {
			c = caller[i]
		}
		binary.LittleEndian.PutUint16(dst[4*i+2:], uint16(c))
	}
}

var errTooSlow = errors.New("the disk fell more than 5 s behind the audio")
