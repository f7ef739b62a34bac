package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// LiveChannel is the PostgreSQL NOTIFY channel of the live board.
const LiveChannel = "callguard_live"

// Bus carries live-board messages between server instances that share one
// PostgreSQL database, with LISTEN/NOTIFY. Messages must stay under 8000
// bytes (PostgreSQL's limit).
type Bus struct {
	s *Store
}

// Bus returns the store's bus, or nil for SQLite (a single instance).
func (s *Store) Bus() *Bus {
	if s.dialect != PostgreSQL {
		return nil
	}
	return &Bus{s: s}
}

// Publish sends payload to every instance listening, this one included.
func (b *Bus) Publish(ctx context.Context, payload []byte) error {
	if _, err := b.s.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, LiveChannel, string(payload)); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// Listener is one connection that LISTENs on a PostgreSQL channel.
type Listener interface {
	// Wait blocks until the next notification and returns its payload.
	Wait(ctx context.Context) ([]byte, error)
	// Close ends the connection.
	Close() error
}

// ListenFunc connects to the PostgreSQL database at url and listens on
// channel.
type ListenFunc func(ctx context.Context, url, channel string) (Listener, error)

var (
	listenMu sync.Mutex
	listen   ListenFunc
)

// RegisterListener sets how the bus listens, as database/sql drivers
// register: package server/store/pglisten registers pgx's when it is
// imported, by the program that chooses PostgreSQL, so a program on SQLite
// (the desktop) does not link pgx.
func RegisterListener(f ListenFunc) {
	listenMu.Lock()
	defer listenMu.Unlock()
	listen = f
}

// ErrNoListener means the program uses PostgreSQL but linked no listener
// (server/store/pglisten), so the live board cannot hear other instances.
var ErrNoListener = errors.New("no PostgreSQL listener linked (import server/store/pglisten)")

func registeredListener() ListenFunc {
	listenMu.Lock()
	defer listenMu.Unlock()
	return listen
}

// Reconnect delays of Bus.Listen: the first, after a listener that had
// been working is lost, doubles with each failed attempt up to the last.
const (
	listenFirstBackoff = 100 * time.Millisecond
	listenMaxBackoff   = 10 * time.Second
)

// Listen delivers every message published on the bus to handle until ctx
// ends. It holds its own connection and reconnects with backoff when it is
// lost; after every (re)connect, once listening, it calls resync, so the
// caller can reload what it may have missed. A connection that got as far
// as listening resets the backoff, so a loss after hours of work is
// retried at once, however long an outage before it was.
func (b *Bus) Listen(ctx context.Context, handle func([]byte), resync func()) error {
	connect := registeredListener()
	if connect == nil {
		return ErrNoListener
	}
	backoff := listenFirstBackoff
	for {
		listened, err := b.listenOnce(ctx, connect, handle, resync)
		if ctx.Err() != nil {
			return nil
		}
		if listened {
			backoff = listenFirstBackoff
		}
		b.s.log.Warn("live board: lost the PostgreSQL listener; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, listenMaxBackoff)
	}
}

// listenOnce connects, listens and delivers until the connection fails;
// listened reports whether it got as far as listening.
func (b *Bus) listenOnce(ctx context.Context, connect ListenFunc, handle func([]byte), resync func()) (listened bool, err error) {
	l, err := connect(ctx, b.s.url, LiveChannel)
	if err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	defer l.Close()
	resync()
	for {
		payload, err := l.Wait(ctx)
		if err != nil {
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		handle(payload)
	}
}
