package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// A play is one opening of a recording in a page's player: the page gives
// its <audio> a random play id, and every range request the browser makes
// for that id (seeking, buffering, replaying) is served from one
// decryption, audited once as recording.play. A new page view is a new
// play and a new audit record.
//
// The decrypted WAV is kept for the play in a temporary file sealed with
// AES-CTR under a random key that only this process holds, so ranges can
// be served from any offset while no plaintext sample reaches the disk.
// The file is removed as soon as it is opened (on Linux, where the server
// runs) and closed when the play has been idle for PlayIdle.

// PlayIdle is how long a play's decrypted copy is kept after its last
// request; a browser that resumes later starts a new play.
const PlayIdle = 10 * time.Minute

// Play limits: a session's live plays and the server's.
const (
	MaxPlaysPerSession = 3
	MaxPlays           = 32
)

var errTooManyPlays = errors.New("too many recordings are being played on this server just now")

// play is one play's sealed copy of the recording.
type play struct {
	callID string
	owner  string // the session's hash
	ready  chan struct{}
	err    error // set before ready closes

	f    *os.File
	size int64
	ctr  cipher.Block
	iv   [aes.BlockSize]byte
	last time.Time
}

// plays are the live plays, by session and play id.
type plays struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*play
}

func newPlays(now func() time.Time) *plays { return &plays{now: now, m: map[string]*play{}} }

// get returns the live play of key, or creates it with fill (which
// decrypts the recording into the writer it is given) and reports whether
// it did. Requests for a play being filled wait for it.
func (ps *plays) get(key, owner, callID string, fill func(w io.Writer) error) (*play, bool, error) {
	ps.mu.Lock()
	ps.sweepLocked()
	p := ps.m[key]
	if p != nil {
		p.last = ps.now()
		ps.mu.Unlock()
		<-p.ready
		if p.err != nil || p.callID != callID {
			return nil, false, errors.Join(p.err, errors.New("play id used for another call"))
		}
		return p, false, nil
	}
	if len(ps.m) >= MaxPlays {
		ps.mu.Unlock()
		return nil, false, errTooManyPlays
	}
	ps.evictLocked(owner)
	p = &play{callID: callID, owner: owner, ready: make(chan struct{}), last: ps.now()}
	ps.m[key] = p
	ps.mu.Unlock()

	p.err = p.fill(fill)
	close(p.ready)
	if p.err != nil {
		ps.mu.Lock()
		delete(ps.m, key)
		ps.mu.Unlock()
		return nil, true, p.err
	}
	return p, true, nil
}

// evictLocked closes the session's oldest plays beyond its allowance.
func (ps *plays) evictLocked(owner string) {
	for {
		var (
			oldest string
			n      int
		)
		for k, p := range ps.m {
			if p.owner != owner {
				continue
			}
			n++
			if oldest == "" || p.last.Before(ps.m[oldest].last) {
				oldest = k
			}
		}
		if n < MaxPlaysPerSession {
			return
		}
		ps.closeLocked(oldest)
	}
}

// sweepLocked closes the plays idle for PlayIdle.
func (ps *plays) sweepLocked() {
	now := ps.now()
	for k, p := range ps.m {
		select {
		case <-p.ready:
			if now.Sub(p.last) >= PlayIdle {
				ps.closeLocked(k)
			}
		default:
		}
	}
}

func (ps *plays) closeLocked(k string) {
	if p := ps.m[k]; p != nil && p.f != nil {
		p.f.Close()
	}
	delete(ps.m, k)
}

// Close closes every play.
func (ps *plays) Close() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for k := range ps.m {
		ps.closeLocked(k)
	}
}

// fill decrypts the recording into the sealed file.
func (p *play) fill(fill func(w io.Writer) error) error {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return err
	}
	if _, err := rand.Read(p.iv[:]); err != nil {
		return err
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return err
	}
	p.ctr = block
	f, err := os.CreateTemp("", "callguard-play-*")
	if err != nil {
		return err
	}
	os.Remove(f.Name()) // nothing but this process can reach it now
	p.f = f
	w := &sealWriter{p: p}
	if err := fill(w); err != nil {
		f.Close()
		return err
	}
	if w.err != nil {
		f.Close()
		return w.err
	}
	p.size = w.off
	return nil
}

// stream is the keystream of the play's cipher from offset off.
func (p *play) stream(off int64) cipher.Stream {
	var iv [aes.BlockSize]byte
	copy(iv[:], p.iv[:])
	// The counter is the IV's low 64 bits plus the block number (it does
	// not carry into the high half: 2^64 blocks is beyond any recording).
	ctr := binary.BigEndian.Uint64(iv[8:]) + uint64(off/aes.BlockSize)
	binary.BigEndian.PutUint64(iv[8:], ctr)
	s := cipher.NewCTR(p.ctr, iv[:])
	if skip := off % aes.BlockSize; skip > 0 {
		var junk [aes.BlockSize]byte
		s.XORKeyStream(junk[:skip], junk[:skip])
	}
	return s
}

// ReadAt reads the plaintext at off.
func (p *play) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.size {
		return 0, io.EOF
	}
	if rest := p.size - off; int64(len(b)) > rest {
		b = b[:rest]
	}
	n, err := p.f.ReadAt(b, off)
	p.stream(off).XORKeyStream(b[:n], b[:n])
	if err == nil && off+int64(n) == p.size {
		err = io.EOF
	}
	return n, err
}

// sealWriter writes plaintext into the play's file, sealed.
type sealWriter struct {
	p   *play
	off int64
	s   cipher.Stream
	buf []byte
	err error
}

func (w *sealWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.s == nil {
		w.s = w.p.stream(0)
	}
	if cap(w.buf) < len(b) {
		w.buf = make([]byte, len(b))
	}
	out := w.buf[:len(b)]
	w.s.XORKeyStream(out, b)
	n, err := w.p.f.WriteAt(out, w.off)
	w.off += int64(n)
	if err != nil {
		w.err = err
		return n, err
	}
	return len(b), nil
}
