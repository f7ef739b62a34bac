package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/callguard/callguard/server"
)

// ErrNotIndependent: the second person of a two-person action is not
// independent of the first (see Independent).
var ErrNotIndependent = fmt.Errorf("the two people of a two-person action must be independent of each other: %w", ErrSecondDPO)

// RoleGrant returns who last created the account or gave it its role, and
// when, as the audit log records it ("" when it records neither: the
// account was made before the audit, or by the embedded desktop).
func (s *Store) RoleGrant(ctx context.Context, username string) (by string, at time.Time, err error) {
	var ms int64
	err = s.queryRow(ctx, s.db, `SELECT actor, at FROM audit WHERE target = ? AND action IN (?, ?) ORDER BY seq DESC LIMIT 1`,
		username, server.AuditUserAdd, server.AuditRoleChange).Scan(&by, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("who set up %s: %w", username, err)
	}
	return by, fromMS(ms), nil
}

// Independent checks that second may be the second person of a two-person
// action that first began: they are different people, neither created the
// other's account or gave it its role, and not both were set up by the
// same person unless both have held their roles for longer than window.
// So one admin alone cannot create two dpo accounts and approve with them;
// she must wait out window, while the dpos see the new accounts in the
// audit. It fails with ErrNotIndependent, saying why.
func (s *Store) Independent(ctx context.Context, first, second string, window time.Duration) error {
	if first == second {
		return fmt.Errorf("%s began it: %w", first, ErrSecondDPO)
	}
	byFirst, atFirst, err := s.RoleGrant(ctx, first)
	if err != nil {
		return err
	}
	bySecond, atSecond, err := s.RoleGrant(ctx, second)
	if err != nil {
		return err
	}
	switch {
	case bySecond == first:
		return fmt.Errorf("%s created %s's account or gave it its role: %w", first, second, ErrNotIndependent)
	case byFirst == second:
		return fmt.Errorf("%s created %s's account or gave it its role: %w", second, first, ErrNotIndependent)
	case byFirst != "" && byFirst == bySecond:
		latest := atFirst
		if atSecond.After(latest) {
			latest = atSecond
		}
		if s.now().Sub(latest) < window {
			return fmt.Errorf("%s set up both %s and %s, the later on %s; they count as independent %d days after that: %w",
				byFirst, first, second, latest.Format(time.DateOnly), int(window.Hours()/24), ErrNotIndependent)
		}
	}
	return nil
}
