package pglisten

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/callguard/callguard/server/store"
)

func init() { store.RegisterListener(Listen) }

// Listen connects to the database at url and LISTENs on channel, which
// must be an identifier that needs no quoting (store.LiveChannel).
func Listen(ctx context.Context, url, channel string) (store.Listener, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen: %w", err)
	}
	return listener{conn}, nil
}

type listener struct{ conn *pgx.Conn }

func (l listener) Wait(ctx context.Context) ([]byte, error) {
	n, err := l.conn.WaitForNotification(ctx)
	if err != nil {
		return nil, err
	}
	return []byte(n.Payload), nil
}

func (l listener) Close() error { return l.conn.Close(context.Background()) }
