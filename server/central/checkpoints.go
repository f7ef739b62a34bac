package central

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// A checkpoint sink keeps the signed checkpoints of the audit chain where
// the server cannot rewrite them, so whoever holds the database cannot
// hide a rewrite by deleting the checkpoints it keeps (audit verify
// --checkpoints checks the database against them).
type checkpointSink interface {
	Publish(c server.AuditCheckpoint) error
	String() string
}

// fileSink appends each checkpoint as a JSON line to a file outside the
// data directory (IT makes it append-only: chattr +a, or a WORM mount).
type fileSink struct{ path string }

func (f fileSink) String() string { return f.path }

func (f fileSink) Publish(c server.AuditCheckpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	// O_APPEND only: the server never truncates or seeks in it.
	w, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("checkpoint log: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("checkpoint log %s: %w", f.path, err)
	}
	return nil
}

// last returns the seq of the last checkpoint in the file (0: none yet).
func (f fileSink) last() (int64, error) {
	cps, err := ReadCheckpoints(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil || len(cps) == 0 {
		return 0, err
	}
	return cps[len(cps)-1].Seq, nil
}

// ReadCheckpoints reads exported checkpoints: JSON lines as the checkpoint
// log holds them, or syslog lines that end in one (journalctl -t
// callguard-audit, a syslog file). Other lines are skipped.
func ReadCheckpoints(path string) ([]server.AuditCheckpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseCheckpoints(f)
}

func parseCheckpoints(r io.Reader) ([]server.AuditCheckpoint, error) {
	var out []server.AuditCheckpoint
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		i := bytes.IndexByte(line, '{')
		if i < 0 || !bytes.Contains(line, []byte(`"signature"`)) {
			continue
		}
		var c server.AuditCheckpoint
		if err := json.Unmarshal(line[i:], &c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// checkpointer signs a checkpoint of the audit chain every interval when
// records went unsigned, and on Close, and hands every new checkpoint to
// the sinks.
type checkpointer struct {
	st        *store.Store
	sinks     []checkpointSink
	published int64
	log       interface {
		Error(msg string, args ...any)
	}
}

func newCheckpointer(ctx context.Context, st *store.Store, sinks []checkpointSink, log interface{ Error(string, ...any) }) (*checkpointer, error) {
	c := &checkpointer{st: st, sinks: sinks, log: log}
	// Start after what the checkpoint log already has; without one, the
	// sinks get the latest checkpoint again (a restart re-announces it).
	last, err := st.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	if n := len(last); n > 0 {
		c.published = last[n-1].Seq - 1
	}
	for _, s := range sinks {
		if f, ok := s.(fileSink); ok {
			seq, err := f.last()
			if err != nil {
				return nil, err
			}
			c.published = max(c.published, seq)
		}
	}
	return c, nil
}

// run checkpoints every interval until ctx ends.
func (c *checkpointer) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	c.once(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.once(ctx)
		}
	}
}

// once signs a checkpoint if records went unsigned and publishes what the
// sinks do not have yet; a sink that fails gets it again next time.
func (c *checkpointer) once(ctx context.Context) {
	if _, err := c.st.CheckpointIfUnsigned(ctx); err != nil && ctx.Err() == nil {
		c.log.Error("audit checkpoint failed", "err", err)
	}
	cps, err := c.st.CheckpointsAfter(ctx, c.published)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("audit checkpoints: cannot read them", "err", err)
		}
		return
	}
	for _, cp := range cps {
		for _, s := range c.sinks {
			if err := s.Publish(cp); err != nil {
				c.log.Error("audit checkpoint not exported; retrying", "to", s.String(), "seq", cp.Seq, "err", err)
				return
			}
		}
		c.published = cp.Seq
	}
}

// openSinks opens the checkpoint log and syslog as o asks.
func openSinks(o Options) ([]checkpointSink, error) {
	var sinks []checkpointSink
	if o.CheckpointLog != "" {
		if inside(o.CheckpointLog, o.DataDir) {
			return nil, fmt.Errorf("checkpoint log %s is inside the data directory %s: put it where a copy of the data cannot rewrite it", o.CheckpointLog, o.DataDir)
		}
		if err := os.MkdirAll(filepath.Dir(o.CheckpointLog), 0o750); err != nil {
			return nil, fmt.Errorf("checkpoint log: %w", err)
		}
		f, err := os.OpenFile(o.CheckpointLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("checkpoint log: %w", err)
		}
		f.Close()
		sinks = append(sinks, fileSink{o.CheckpointLog})
	}
	if o.CheckpointSyslog != "" {
		s, err := openSyslog(o.CheckpointSyslog)
		if err != nil {
			return nil, fmt.Errorf("checkpoints to syslog (%s): %w", o.CheckpointSyslog, err)
		}
		sinks = append(sinks, s)
	}
	return sinks, nil
}

// inside reports whether path is dir or below it.
func inside(path, dir string) bool {
	if dir == "" {
		return false
	}
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

var errBadSyslog = errors.New(`want "local", "udp:HOST:PORT", "tcp:HOST:PORT" or "unixgram:PATH"`)
