package outbox

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/callguard/callguard/app"
)

// refusedName is the file of events the server refused, beside the log.
const refusedName = "refused.log"

// Refused is an event the server refused for good, kept aside with why:
// it is never sent again and never blocks the events after it, and it is
// not lost (IT can read refused.log; RefusedEvents lists it).
type Refused struct {
	Event  app.Event `json:"event"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// refusedBook is the set-aside file, opened lazily; the caller holds mu.
type refusedBook struct {
	f   *os.File
	ids map[string]bool
}

// loadRefused reads refused.log: the ids kept aside. A torn record at the
// end (a crash while writing it) is cut off; its event is still in the log
// and is set aside again when the server refuses it again.
func (o *Outbox) loadRefused() error {
	f, err := os.OpenFile(filepath.Join(o.dir, refusedName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	o.refused = refusedBook{f: f, ids: map[string]bool{}}
	good, err := readRecords(f, func(payload []byte) bool {
		var r Refused
		if json.Unmarshal(payload, &r) != nil {
			return false
		}
		o.refused.ids[r.Event.ID] = true
		return true
	})
	if err != nil {
		return err
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > good {
		if err := f.Truncate(good); err != nil {
			return fmt.Errorf("outbox: cut torn tail of %s: %w", refusedName, err)
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// readRecords calls take with each whole record's payload from the start
// of f until the first torn or invalid one (or one take refuses), and
// returns the offset after the last good one.
func readRecords(f *os.File, take func(payload []byte) bool) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	r := &countingReader{r: f}
	var good int64
	var hdr [headerSize]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return good, nil
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
		if crc32.Checksum(payload, castagnoli) != sum || !take(payload) {
			return good, nil
		}
		good = r.n
	}
}

// SetAside keeps ev aside as refused by the server for reason, durably
// (written and fsync'd) before it returns; the caller then acknowledges
// it like a sent event, so it is never sent again and blocks nothing.
// Setting aside an event already aside does nothing.
func (o *Outbox) SetAside(ev app.Event, reason string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	if o.refused.ids[ev.ID] {
		return nil
	}
	payload, err := json.Marshal(Refused{Event: ev, Reason: reason, At: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("outbox: encode refused event: %w", err)
	}
	if len(payload) > maxRecord {
		payload, _ = json.Marshal(Refused{Event: app.Event{ID: ev.ID, Seq: ev.Seq, Type: ev.Type, Time: ev.Time}, Reason: reason, At: time.Now().UTC()})
	}
	rec := make([]byte, headerSize+len(payload))
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:8], crc32.Checksum(payload, castagnoli))
	copy(rec[headerSize:], payload)
	f := o.refused.f
	start, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	_, err = f.Write(rec)
	if err == nil {
		err = o.sync(f)
	}
	if err != nil {
		f.Truncate(start)
		f.Seek(start, io.SeekStart)
		return fmt.Errorf("outbox: set aside a refused event: %w", err)
	}
	o.refused.ids[ev.ID] = true
	return nil
}

// Refused returns how many events the server refused and the outbox keeps
// aside.
func (o *Outbox) Refused() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.refused.ids)
}

// RefusedEvents returns the events kept aside, oldest first.
func (o *Outbox) RefusedEvents() ([]Refused, error) {
	f, err := os.Open(filepath.Join(o.dir, refusedName))
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	var out []Refused
	seen := map[string]bool{}
	_, err = readRecords(f, func(payload []byte) bool {
		var r Refused
		if json.Unmarshal(payload, &r) != nil {
			return false
		}
		if !seen[r.Event.ID] {
			seen[r.Event.ID] = true
			out = append(out, r)
		}
		return true
	})
	return out, err
}
