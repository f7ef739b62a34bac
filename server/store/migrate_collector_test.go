package store

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
)

// TestMigratingLetsAccountsBeCollectors: migration 0014 keeps every account
// and device, takes a collector's account, and (SQLite, where the users
// table is rebuilt) keeps the other tables' references to it enforced.
func TestMigratingLetsAccountsBeCollectors(t *testing.T) {
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
			if err := s.migrate(ctx, 12); err != nil {
				t.Fatal(err)
			}
			olive, err := s.CreateUser(ctx, "olive", server.RoleAgent, "hash", false)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.CreateDevice(ctx, "dev-olive", olive.ID, "pc", "tokhash"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateUser(ctx, "early", server.RoleCollector, "", false); err == nil {
				t.Fatal("a collector before migration 0014")
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			u, hash, err := s.UserByName(ctx, "olive")
			if err != nil || u.ID != olive.ID || u.Role != server.RoleAgent || hash != "hash" {
				t.Fatalf("olive after the migration: %+v %q %v", u, hash, err)
			}
			if d, err := s.Device(ctx, "dev-olive"); err != nil || d.UserID != olive.ID {
				t.Fatalf("olive's device after the migration: %+v %v", d, err)
			}
			col, err := s.CreateUser(ctx, "col", server.RoleCollector, "", false)
			if err != nil || col.Role != server.RoleCollector {
				t.Fatalf("a collector after the migration: %+v %v", col, err)
			}
			if _, err := s.exec(ctx, s.db, `INSERT INTO users (username, role, created_at) VALUES ('boss', 'boss', 1)`); err == nil {
				t.Fatal("a role outside the list was stored")
			}
			if err := s.CreateDevice(ctx, "dev-nobody", 999999, "pc", "tokhash2"); err == nil {
				t.Fatal("a device of no account was stored: users lost its references")
			}
			if s.Dialect() == SQLite {
				rows, err := s.db.QueryContext(ctx, `PRAGMA foreign_key_check`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				if rows.Next() {
					t.Fatal("foreign_key_check finds broken references after the migration")
				}
			}
		})
	}
}
