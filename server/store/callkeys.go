package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/callguard/callguard/server"
)

// Calls are keyed by their owner and the desktop's id for them, never by
// the desktop's id alone: two accounts' desktops that use the same call id,
// by chance or because one read the other's off the live board, write into
// two calls. The server's id of a call (what calls, recordings, blobs,
// holds, review items and tombstones use) is the desktop's id when no call
// of another account has it, so ids read the same on both sides, and a new
// random one otherwise, which nobody can take first.

// callKey returns the server's id of the call agent's desktop calls ref,
// making it if create and there is none yet (made then reports that); without
// create it returns "" when there is none.
func (s *Store) callKey(ctx context.Context, q querier, agent, ref string, create bool) (id string, made bool, err error) {
	err = s.queryRow(ctx, q, `SELECT call_id FROM call_keys WHERE agent = ? AND call_ref = ?`, agent, ref).Scan(&id)
	switch {
	case err == nil:
		return id, false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", false, fmt.Errorf("call %s of %s: %w", ref, agent, err)
	case !create:
		return "", false, nil
	}
	// The desktop's id if it is free, else a random one. ON CONFLICT
	// without a target covers both keys: another request of the same
	// account making the same call (it wins, and its id is read back), or
	// the id taken by another account's call.
	for _, try := range []string{ref, randomCallID(), randomCallID()} {
		err := s.queryRow(ctx, q, `INSERT INTO call_keys (agent, call_ref, call_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING call_id`,
			agent, ref, try, ms(s.now())).Scan(&id)
		if err == nil {
			return id, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", false, fmt.Errorf("call %s of %s: %w", ref, agent, err)
		}
		err = s.queryRow(ctx, q, `SELECT call_id FROM call_keys WHERE agent = ? AND call_ref = ?`, agent, ref).Scan(&id)
		if err == nil {
			return id, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", false, fmt.Errorf("call %s of %s: %w", ref, agent, err)
		}
	}
	return "", false, fmt.Errorf("call %s of %s: no free id", ref, agent)
}

// randomCallID is a server-made call id: 128 random bits in hex, a valid
// id (server.ValidID) that no desktop can have picked before.
func randomCallID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}

// CallOf returns the server's id of the call agent's desktop calls ref, or
// server.ErrNotFound when it has sent nothing for it.
func (s *Store) CallOf(ctx context.Context, agent, ref string) (string, error) {
	id, _, err := s.callKey(ctx, s.db, agent, ref, false)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("call %s: %w", ref, server.ErrNotFound)
	}
	return id, nil
}

// callKeysVersion is the migration that keys calls by their owner.
const callKeysVersion = 3

// foldUnkeyed folds the calls whose events were stored but never applied:
// before calls were keyed by their owner, an account's events for a call
// id another account held first were kept and dropped from the fold.
// Migration 0003 gave each such (account, desktop id) a call of its own;
// this builds it, once, as the migration is applied.
func (s *Store) foldUnkeyed(ctx context.Context) error {
	rows, err := s.query(ctx, s.db, `SELECT k.agent, k.call_ref, k.call_id FROM call_keys k
		WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = k.call_id)
		AND NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.call_id = k.call_id)
		AND EXISTS (SELECT 1 FROM events e WHERE e.call_id = k.call_ref AND e.agent = k.agent AND e.body <> '{}')`)
	if err != nil {
		return fmt.Errorf("calls to fold: %w", err)
	}
	var todo []callBatch
	for rows.Next() {
		var cb callBatch
		if err := rows.Scan(&cb.agent, &cb.ref, &cb.id); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, cb)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range todo {
		cb := &todo[i]
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			evs, _, err := s.callEvents(ctx, tx, cb.agent, cb.ref)
			if err != nil || len(evs) == 0 {
				return err
			}
			_, err = s.refold(ctx, tx, cb, evs)
			return err
		})
		if err != nil {
			return fmt.Errorf("fold call %s of %s: %w", cb.ref, cb.agent, err)
		}
		s.log.Warn("folded a call whose events another account's call had hidden", "agent", cb.agent, "desktop_call_id", cb.ref, "call", cb.id)
	}
	return nil
}
