package outbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/internal/atomicfile"
)

// File names inside the outbox directory.
const (
	logName   = "events.log"
	stateName = "state.json"
)

// maxRecord bounds one record's payload, so a corrupt length cannot make
// Open allocate gigabytes.
const maxRecord = 1 << 20

// headerSize is the record header: payload length and CRC-32C, little endian.
const headerSize = 8

// compactAfter is how many acknowledged records may stay in the log before
// it is rewritten without them.
const compactAfter = 1000

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrClosed is returned after Close.
var ErrClosed = errors.New("outbox: closed")

// Outbox is a durable queue of events. It is safe for concurrent use.
type Outbox struct {
	dir    string
	device string
	log    *slog.Logger

	mu      sync.Mutex
	f       *os.File
	pending []app.Event // not yet acknowledged, oldest first
	lastSeq uint64      // highest seq ever stamped
	acked   uint64      // highest seq acknowledged
	stale   int         // acknowledged records still in the log
	closed  bool
	notify  chan struct{}
	sync    func(*os.File) error // (*os.File).Sync; tests make it fail
	refused refusedBook          // events the server refused, kept aside
}

// state is what state.json keeps: the acknowledged seq, so seqs keep growing
// after the log was compacted to nothing.
type state struct {
	Device string `json:"device"`
	Acked  uint64 `json:"acked"`
	// LastSeq is the highest seq stamped when the state was written.
	LastSeq uint64 `json:"last_seq"`
}

// Option configures an Outbox.
type Option func(*Outbox)

// WithLogger sets the logger (default slog.Default).
func WithLogger(l *slog.Logger) Option { return func(o *Outbox) { o.log = l } }

// Open opens (or creates) the outbox in dir. device is stamped on every
// event appended from now on. A record torn by a crash at the end of the log
// is dropped (it was never confirmed to the caller); the log is cut there.
func Open(dir, device string, opts ...Option) (*Outbox, error) {
	o := &Outbox{dir: dir, device: device, log: slog.Default(), notify: make(chan struct{}, 1), sync: (*os.File).Sync}
	for _, opt := range opts {
		opt(o)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	var st state
	switch b, err := os.ReadFile(filepath.Join(dir, stateName)); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("outbox: %w", err)
	default:
		if err := json.Unmarshal(b, &st); err != nil {
			// The state is written atomically, so this is damage from outside;
			// the log still tells the seqs, and resending is harmless.
			o.log.Error("outbox: state file unreadable; resending what the log holds", "err", err)
			st = state{}
		}
	}
	o.acked, o.lastSeq = st.Acked, max(st.Acked, st.LastSeq)

	f, err := os.OpenFile(filepath.Join(dir, logName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	good, err := o.load(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > good {
		o.log.Warn("outbox: dropping a torn record at the end of the log", "bytes", fi.Size()-good)
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("outbox: cut torn tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("outbox: %w", err)
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o.f = f
	if err := o.loadRefused(); err != nil {
		f.Close()
		return nil, err
	}
	return o, nil
}

// load reads every whole record of the log and returns the offset after
// the last one.
func (o *Outbox) load(f *os.File) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	r := &countingReader{r: f}
	var good int64
	var hdr [headerSize]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return good, nil // EOF or a torn header
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		sum := binary.LittleEndian.Uint32(hdr[4:8])
		if n == 0 || n > maxRecord {
			return good, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return good, nil
		}
		if crc32.Checksum(payload, castagnoli) != sum {
			return good, nil
		}
		var ev app.Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return good, nil
		}
		good = r.n
		o.lastSeq = max(o.lastSeq, ev.Seq)
		if ev.Seq <= o.acked {
			o.stale++
			continue
		}
		o.pending = append(o.pending, ev)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Append stamps ev with the device and the next seq and returns once it is
// safe on disk (written and fsync'd). It implements app.EventSink.
func (o *Outbox) Append(ev app.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	ev.Device = o.device
	ev.Seq = o.lastSeq + 1
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("outbox: encode event: %w", err)
	}
	if len(payload) > maxRecord {
		return fmt.Errorf("outbox: event of %d bytes is too large", len(payload))
	}
	rec := make([]byte, headerSize+len(payload))
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:8], crc32.Checksum(payload, castagnoli))
	copy(rec[headerSize:], payload)
	start, err := o.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if _, err := o.f.Write(rec); err != nil {
		o.rollback(start)
		return fmt.Errorf("outbox: write event: %w", err)
	}
	if err := o.sync(o.f); err != nil {
		// The caller is told the event was not stored, so the record must go
		// too, whole as it may be: else its seq would be stamped twice.
		o.rollback(start)
		return fmt.Errorf("outbox: sync event: %w", err)
	}
	o.lastSeq = ev.Seq
	o.pending = append(o.pending, ev)
	select {
	case o.notify <- struct{}{}:
	default:
	}
	return nil
}

// rollback cuts the log back to start, where the failed append began, so
// the next append does not follow garbage or a record nobody was told of.
func (o *Outbox) rollback(start int64) {
	if err := o.f.Truncate(start); err != nil {
		o.log.Error("outbox: cannot cut a failed append off the log", "err", err)
	}
	if _, err := o.f.Seek(start, io.SeekStart); err != nil {
		o.log.Error("outbox: cannot seek after a failed append", "err", err)
	}
}

// Peek returns up to max of the oldest events not yet acknowledged.
func (o *Outbox) Peek(max int) ([]app.Event, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil, ErrClosed
	}
	n := min(max, len(o.pending))
	return append([]app.Event(nil), o.pending[:n]...), nil
}

// Pending returns how many events wait for the server.
func (o *Outbox) Pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pending)
}

// LastSeq returns the highest seq stamped so far.
func (o *Outbox) LastSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastSeq
}

// Notify returns a channel that receives (without blocking Append) after
// events were appended, so a sender can wake at once.
func (o *Outbox) Notify() <-chan struct{} { return o.notify }

// Ack drops every event with seq ≤ throughSeq: the server stored them. The
// acknowledgement is made durable before the records are compacted away.
func (o *Outbox) Ack(throughSeq uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	if throughSeq <= o.acked {
		return nil
	}
	throughSeq = min(throughSeq, o.lastSeq)
	n := 0
	for n < len(o.pending) && o.pending[n].Seq <= throughSeq {
		n++
	}
	if err := o.writeState(throughSeq); err != nil {
		return err
	}
	o.acked = throughSeq
	o.pending = append([]app.Event(nil), o.pending[n:]...)
	o.stale += n
	if len(o.pending) == 0 || o.stale >= compactAfter {
		if err := o.compact(); err != nil {
			// Not fatal: the stale records are skipped on open.
			o.log.Warn("outbox: compaction failed", "err", err)
		}
	}
	return nil
}

func (o *Outbox) writeState(acked uint64) error {
	b, _ := json.Marshal(state{Device: o.device, Acked: acked, LastSeq: o.lastSeq})
	if err := atomicfile.WriteFile(filepath.Join(o.dir, stateName), b, 0o600); err != nil {
		return fmt.Errorf("outbox: save acknowledgement: %w", err)
	}
	return nil
}

// compact rewrites the log with only the pending records (or empties it),
// atomically: a crash leaves the old log or the new one, both valid.
func (o *Outbox) compact() error {
	path := filepath.Join(o.dir, logName)
	if len(o.pending) == 0 {
		if err := o.f.Truncate(0); err != nil {
			return err
		}
		if _, err := o.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		o.stale = 0
		return o.f.Sync()
	}
	var buf []byte
	for _, ev := range o.pending {
		payload, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		var hdr [headerSize]byte
		binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
		binary.LittleEndian.PutUint32(hdr[4:8], crc32.Checksum(payload, castagnoli))
		buf = append(append(buf, hdr[:]...), payload...)
	}
	// Windows cannot rename over an open file: close ours first.
	if err := o.f.Close(); err != nil {
		return err
	}
	renameErr := atomicfile.WriteFile(path, buf, 0o600)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		o.closed = true
		return fmt.Errorf("outbox: reopen log: %w", err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		o.closed = true
		return err
	}
	o.f = f
	if renameErr != nil {
		return renameErr
	}
	o.stale = 0
	return nil
}

// Close closes the log. Appends after Close fail with ErrClosed.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	if o.refused.f != nil {
		o.refused.f.Close()
	}
	return o.f.Close()
}
