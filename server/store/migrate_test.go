package store

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"maps"
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

// TestMigratingFillsE164: calls stored before migration 0005 get their
// numbers in E.164, so a search finds them as it finds new ones; a number
// that is not a full one (an extension) stays without.
func TestMigratingFillsE164(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "cg.db") },
		"postgres": func() string { return testrig.PostgreSQL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			s, err := Open(ctx, url(), WithClock(func() time.Time { return now }), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.migrate(ctx, 4); err != nil {
				t.Fatal(err)
			}
			at := ms(now)
			if _, err := s.exec(ctx, s.db, `INSERT INTO calls (id, device_id, agent, direction, remote_number, local_number, started_at, state, notice, event_count, updated_at)
				VALUES ('c1', 'd', 'olive', 'inbound', '(01632) 960555', '2001', ?, 'idle', 'pending', 1, ?),
				       ('c2', 'd', 'olive', 'inbound', 'anonymous', '+44 20 7946 0018', ?, 'idle', 'pending', 1, ?)`, at, at, at, at); err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			rows, err := s.query(ctx, s.db, `SELECT id, remote_e164, local_e164 FROM calls ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id, r, l string
				if err := rows.Scan(&id, &r, &l); err != nil {
					t.Fatal(err)
				}
				got[id] = r + "|" + l
			}
			if got["c1"] != "+441632960555|" || got["c2"] != "|+442079460018" {
				t.Fatalf("E.164 after migrating: %v", got)
			}
		})
	}
}

// TestMigratingKeysNumbersInE164: a hold and a pending erasure written
// before numbers were keyed in E.164 keep the calls the phone system wrote
// another way once the store is opened, and the re-keying ends its task.
func TestMigratingKeysNumbersInE164(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "cg.db") },
		"postgres": func() string { return testrig.PostgreSQL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			s, err := Open(ctx, url(), WithClock(func() time.Time { return now }), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.migrate(ctx, numberKeysVersion-1); err != nil {
				t.Fatal(err)
			}
			at := ms(now)
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO calls (id, device_id, agent, direction, remote_number, remote_key, started_at, state, notice, event_count, updated_at)
					VALUES ('national', 'd', 'olive', 'inbound', '07700 900123', '07700900123', ?, 'idle', 'pending', 1, ?),
					       ('international', 'd', 'olive', 'inbound', '+44 7700 900123', '+447700900123', ?, 'idle', 'pending', 1, ?),
					       ('extension', 'd', 'olive', 'inbound', '2001', '2001', ?, 'idle', 'pending', 1, ?)`, []any{at, at, at, at, at, at}},
				{`INSERT INTO holds (number, reason, owner, created_at, created_by) VALUES ('07700900123', 'complaint', 'complaints', ?, 'dee')`, []any{at}},
				{`INSERT INTO erasures (number_key, number_masked, state, requested_by, requested_at) VALUES ('00447700900123', '•••123', 'awaiting-approval', 'dee', ?)`, []any{at}},
			} {
				if _, err := s.exec(ctx, s.db, q.sql, q.args...); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			keys := map[string]string{}
			for _, q := range []string{`SELECT id, remote_key FROM calls`, `SELECT 'hold', number FROM holds`, `SELECT 'erasure', number_key FROM erasures`} {
				rows, err := s.query(ctx, s.db, q)
				if err != nil {
					t.Fatal(err)
				}
				if err := eachRow(rows, func(r *sql.Rows) error {
					var id, k string
					err := r.Scan(&id, &k)
					keys[id] = k
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			want := map[string]string{"national": "+447700900123", "international": "+447700900123", "extension": "2001", "hold": "+447700900123", "erasure": "+447700900123"}
			if !maps.Equal(keys, want) {
				t.Fatalf("keys after migrating %v, want %v", keys, want)
			}
			for _, id := range []string{"national", "international"} {
				if c, err := s.Call(ctx, id); err != nil || !c.Held {
					t.Errorf("call %s under the hold on 07700 900123: held %v, %v", id, c.Held, err)
				}
			}
			var tasks int
			if err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM store_tasks`).Scan(&tasks); err != nil || tasks != 0 {
				t.Fatalf("%d tasks left, %v", tasks, err)
			}
		})
	}
}

// TestMigratingQueuesTheStoredRecordingsForScoring: the recordings stored
// before scoring existed are scored once the server has it.
func TestMigratingQueuesTheStoredRecordingsForScoring(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "cg.db") },
		"postgres": func() string { return testrig.PostgreSQL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, url(), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.migrate(ctx, 8); err != nil {
				t.Fatal(err)
			}
			for _, r := range []struct{ id, status string }{{"kept", "stored"}, {"gone", "deleted"}, {"sending", "uploading"}} {
				if _, err := s.exec(ctx, s.db, `INSERT INTO recordings (call_id, device_id, status, created_at, stored_at) VALUES (?, 'd', ?, 1, 2)`, r.id, r.status); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			due, err := s.ScoringDue(ctx, 10)
			if err != nil || len(due) != 1 || due[0] != "kept" {
				t.Fatalf("queued after the migration: %v, %v; want the stored recording only", due, err)
			}
		})
	}
}
