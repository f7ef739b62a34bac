package store

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
)

// TestMigratingUndoesAnEarlierSquat: a database from before calls were
// keyed by their owner, where mallory's events came first for the id of
// olive's call and olive's were stored but never applied. Migrating keeps
// mallory's call as it was and gives olive hers, folded from her events.
func TestMigratingUndoesAnEarlierSquat(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "cg.db") },
		"postgres": func() string { return testrig.PostgreSQL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			pol, _ := policy.Parse(assets.DefaultPolicy())
			now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			s, err := Open(ctx, url(), WithPolicy(pol), WithClock(func() time.Time { return now }), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.migrate(ctx, 2); err != nil {
				t.Fatal(err)
			}
			// As the old server left it.
			at := ms(now)
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO users (id, username, role, created_at) VALUES (1, 'mallory', 'agent', ?), (2, 'olive', 'agent', ?)`, []any{at, at}},
				{`INSERT INTO devices (id, user_id, name, token_hash, created_at) VALUES ('dm', 1, 'm', 'hm', ?), ('do', 2, 'o', 'ho', ?)`, []any{at, at}},
				{`INSERT INTO events (id, device_id, seq, type, agent, call_id, at, received_at, body) VALUES
					('m1', 'dm', 1, 'call.ringing', 'mallory', 'vc1', ?, ?, '{"id":"m1","seq":1,"time":"2026-03-02T10:00:00Z","type":"call.ringing","call_id":"vc1","call":{"direction":"inbound","local":{"number":"1"},"remote":{"number":"+449999999999"},"started":"2026-03-02T10:00:00Z","recorded":false}}'),
					('o1', 'do', 1, 'call.ringing', 'olive', 'vc1', ?, ?, '{"id":"o1","seq":1,"time":"2026-03-02T10:00:01Z","type":"call.ringing","call_id":"vc1","call":{"direction":"inbound","local":{"number":"2"},"remote":{"number":"+441632960001"},"started":"2026-03-02T10:00:01Z","recorded":false}}'),
					('o2', 'do', 2, 'flag', 'olive', 'vc1', ?, ?, '{"id":"o2","seq":2,"time":"2026-03-02T10:00:02Z","type":"flag","call_id":"vc1","reason":"health","note":"a diagnosis"}')`,
					[]any{at, at, at, at, at, at}},
				{`INSERT INTO calls (id, device_id, agent, direction, remote_number, started_at, state, notice, event_count, updated_at)
					VALUES ('vc1', 'dm', 'mallory', 'inbound', '+449999999999', ?, 'ringing', 'pending', 1, ?)`, []any{at, at}},
			} {
				if _, err := s.exec(ctx, s.db, q.sql, q.args...); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			calls, err := s.SearchCalls(ctx, server.CallFilter{})
			if err != nil || len(calls) != 2 {
				t.Fatalf("calls %+v, %v", calls, err)
			}
			byAgent := map[string]server.Call{}
			for _, c := range calls {
				byAgent[c.Agent] = c
			}
			if m := byAgent["mallory"]; m.ID != "vc1" || m.Remote.Number != "+449999999999" {
				t.Fatalf("mallory's call %+v", m)
			}
			o := byAgent["olive"]
			if o.ID == "vc1" || o.DesktopID != "vc1" || o.Remote.Number != "+441632960001" || o.Events != 2 || len(o.Flags) != 1 || o.DeleteAfter == nil {
				t.Fatalf("olive's call %+v", o)
			}
			if id, err := s.CallOf(ctx, "olive", "vc1"); err != nil || id != o.ID {
				t.Fatalf("olive's key: %q, %v", id, err)
			}
		})
	}
}
