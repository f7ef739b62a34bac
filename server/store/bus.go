package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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
	backoff := listenFirstBackoff
	for {
		listened, err := b.listenOnce(ctx, handle, resync)
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
func (b *Bus) listenOnce(ctx context.Context, handle func([]byte), resync func()) (listened bool, err error) {
	conn, err := pgx.Connect(ctx, b.s.url)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+LiveChannel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	resync()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		handle([]byte(n.Payload))
	}
}
