package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

func TestIndependence(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		grant := func(actor, action, target string) {
			t.Helper()
			if err := s.Audit(ctx, server.AuditRecord{Actor: actor, Action: action, Target: target}); err != nil {
				t.Fatal(err)
			}
		}
		grant("adam", server.AuditUserAdd, "mal1")
		grant("adam", server.AuditUserAdd, "mal2")
		grant("cli:root", server.AuditUserAdd, "dee")
		grant("adam", server.AuditRoleChange, "adam")
		grant("mal1", server.AuditLogin, "mal2") // not a grant
		const window = 30 * 24 * time.Hour
		for _, c := range []struct {
			first, second string
			independent   bool
		}{
			{"mal1", "mal1", false},
			{"mal1", "mal2", false}, // one admin set up both, just now
			{"adam", "mal1", false}, // adam created mal1
			{"mal2", "adam", false},
			{"mal1", "dee", true},
			{"dee", "olive", true}, // no grant recorded for either
		} {
			err := s.Independent(ctx, c.first, c.second, window)
			if (err == nil) != c.independent || (err != nil && !errors.Is(err, store.ErrSecondDPO)) {
				t.Errorf("%s then %s: %v", c.first, c.second, err)
			}
		}
		clk.Add(window + time.Hour)
		if err := s.Independent(ctx, "mal1", "mal2", window); err != nil {
			t.Errorf("after the window: %v", err)
		}
		if err := s.Independent(ctx, "adam", "mal1", window); err == nil {
			t.Error("adam and the dpo he created became independent with time")
		}
		grant("adam", server.AuditRoleChange, "mal2") // given its role again
		if err := s.Independent(ctx, "mal1", "mal2", window); err == nil {
			t.Error("a fresh role from the same admin counts as independent")
		}
	})
}
