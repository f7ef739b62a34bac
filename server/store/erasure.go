package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/callguard/callguard/server"
)

// ErasureApproved is the state of an erasure being carried out (decided
// and, under the two-person rule, approved).
const ErasureApproved = "approved"

const erasureCols = `id, COALESCE(number_key, ''), number_masked, reference, state, requested_by, requested_at, approved_by, approved_at, done_at, erased, held, calls`

func scanErasure(sc interface{ Scan(...any) error }) (server.Erasure, string, error) {
	var (
		e                server.Erasure
		key, held, calls string
		requested        int64
		approved, done   sql.NullInt64
	)
	if err := sc.Scan(&e.ID, &key, &e.Number, &e.Reference, &e.State, &e.RequestedBy, &requested, &e.ApprovedBy, &approved, &done,
		&e.Erased, &held, &calls); err != nil {
		return server.Erasure{}, "", err
	}
	e.RequestedAt, e.ApprovedAt, e.Done = fromMS(requested), fromNullMS(approved), fromNullMS(done)
	if err := json.Unmarshal([]byte(held), &e.Held); err != nil {
		return server.Erasure{}, "", fmt.Errorf("erasure %d: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(calls), &e.Calls); err != nil {
		return server.Erasure{}, "", fmt.Errorf("erasure %d: %w", e.ID, err)
	}
	return e, key, nil
}

// CreateErasure records a dpo's request to erase everything about a number
// (its key, see server.NumberKey), in state (awaiting-approval or
// approved). The number itself is kept only until the erasure is done.
func (s *Store) CreateErasure(ctx context.Context, key, reference, by, state string) (server.Erasure, error) {
	var id int64
	err := s.queryRow(ctx, s.db, `INSERT INTO erasures (number_key, number_masked, reference, state, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		key, server.MaskNumber(key), reference, state, by, ms(s.now())).Scan(&id)
	if err != nil {
		return server.Erasure{}, fmt.Errorf("erasure: %w", err)
	}
	e, _, err := s.Erasure(ctx, id)
	return e, err
}

// Erasure returns an erasure and, until it is done, the number key.
func (s *Store) Erasure(ctx context.Context, id int64) (server.Erasure, string, error) {
	e, key, err := scanErasure(s.queryRow(ctx, s.db, `SELECT `+erasureCols+` FROM erasures WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return server.Erasure{}, "", fmt.Errorf("erasure %d: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return server.Erasure{}, "", fmt.Errorf("erasure %d: %w", id, err)
	}
	return e, key, nil
}

// Erasures lists erasures, newest first; with state, only those in it.
func (s *Store) Erasures(ctx context.Context, state string) ([]server.Erasure, error) {
	q, args := `SELECT `+erasureCols+` FROM erasures`, []any{}
	if state != "" {
		q, args = q+` WHERE state = ?`, append(args, state)
	}
	rows, err := s.query(ctx, s.db, q+` ORDER BY id DESC LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("erasures: %w", err)
	}
	defer rows.Close()
	out := []server.Erasure{}
	for rows.Next() {
		e, _, err := scanErasure(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ApproveErasure moves an erasure awaiting approval to approved (a second
// dpo, not the one who asked) or, when reject, to rejected (the number is
// forgotten).
func (s *Store) ApproveErasure(ctx context.Context, id int64, by string, reject bool) (server.Erasure, error) {
	e, _, err := s.Erasure(ctx, id)
	if err != nil {
		return server.Erasure{}, err
	}
	if e.RequestedBy == by {
		return server.Erasure{}, fmt.Errorf("erasure %d: %s asked for it: %w", id, by, ErrSecondDPO)
	}
	state, key := ErasureApproved, "number_key"
	if reject {
		state, key = server.ErasureRejected, "NULL"
	}
	res, err := s.exec(ctx, s.db, `UPDATE erasures SET state = ?, approved_by = ?, approved_at = ?, number_key = `+key+` WHERE id = ? AND state = ?`,
		state, by, ms(s.now()), id, server.ErasureAwaitingApproval)
	if err != nil {
		return server.Erasure{}, fmt.Errorf("erasure %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return server.Erasure{}, fmt.Errorf("erasure %d is %s: %w", id, e.State, server.ErrConflict)
	}
	e, _, err = s.Erasure(ctx, id)
	return e, err
}

// FinishErasure records what an approved erasure erased and which calls
// holds kept, and forgets the number.
func (s *Store) FinishErasure(ctx context.Context, id int64, calls []string, held []server.HeldCall) (server.Erasure, error) {
	if calls == nil {
		calls = []string{}
	}
	if held == nil {
		held = []server.HeldCall{}
	}
	cb, _ := json.Marshal(calls)
	hb, _ := json.Marshal(held)
	if _, err := s.exec(ctx, s.db, `UPDATE erasures SET state = ?, number_key = NULL, done_at = ?, erased = ?, calls = ?, held = ? WHERE id = ? AND state = ?`,
		server.ErasureDone, ms(s.now()), len(calls), string(cb), string(hb), id, ErasureApproved); err != nil {
		return server.Erasure{}, fmt.Errorf("erasure %d: %w", id, err)
	}
	e, _, err := s.Erasure(ctx, id)
	return e, err
}
