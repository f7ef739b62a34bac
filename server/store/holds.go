package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/callguard/callguard/server"
)

// holdCovers selects the calls c a hold h covers (any hold, lifted or not).
const holdCovers = `((h.call_id IS NOT NULL AND c.id = h.call_id)
	OR (h.number IS NOT NULL AND c.remote_key = h.number AND c.remote_key <> '')
	OR (h.agent IS NOT NULL AND c.agent = h.agent))
	AND (h.from_at IS NULL OR c.counted_from >= h.from_at) AND (h.to_at IS NULL OR c.counted_from < h.to_at)`

const holdCols = `h.id, h.call_id, h.number, h.agent, h.from_at, h.to_at, h.reason, h.note, h.owner, h.review_at, h.created_at, h.created_by,
	h.lift_requested_by, h.lift_requested_at, h.lift_reason, h.lifted_at, h.lifted_by,
	(SELECT COUNT(*) FROM calls c WHERE c.personal_deleted_at IS NULL AND ` + holdCovers + `)`

func scanHold(sc interface{ Scan(...any) error }) (server.Hold, error) {
	var (
		h                                      server.Hold
		callID, number, agent, liftReq, liftBy sql.NullString
		from, to, review, liftReqAt, lifted    sql.NullInt64
		created                                int64
	)
	if err := sc.Scan(&h.ID, &callID, &number, &agent, &from, &to, &h.Reason, &h.Note, &h.Owner, &review, &created, &h.CreatedBy,
		&liftReq, &liftReqAt, &h.LiftReason, &lifted, &liftBy, &h.Calls); err != nil {
		return server.Hold{}, err
	}
	h.CallID, h.Number, h.Agent = callID.String, number.String, agent.String
	h.From, h.To, h.ReviewAt, h.Created = fromNullMS(from), fromNullMS(to), fromNullMS(review), fromMS(created)
	h.LiftRequestedBy, h.LiftRequestedAt = liftReq.String, fromNullMS(liftReqAt)
	h.Lifted, h.LiftedBy = fromNullMS(lifted), liftBy.String
	return h, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// PlaceHold stores a new hold by the dpo called by. A hold on one call
// needs the call to exist; holds on a number or an agent also cover calls
// that come later within their dates.
func (s *Store) PlaceHold(ctx context.Context, h server.Hold, by string) (server.Hold, error) {
	if err := h.Validate(); err != nil {
		return server.Hold{}, err
	}
	if h.CallID != "" {
		var calls, gone int
		if err := s.queryRow(ctx, s.db, `SELECT (SELECT COUNT(*) FROM calls WHERE id = ?), (SELECT COUNT(*) FROM tombstones WHERE call_id = ?)`,
			h.CallID, h.CallID).Scan(&calls, &gone); err != nil {
			return server.Hold{}, fmt.Errorf("place hold: %w", err)
		}
		switch {
		case gone > 0:
			return server.Hold{}, fmt.Errorf("call %s was deleted (see its tombstone): %w", h.CallID, server.ErrGone)
		case calls == 0:
			return server.Hold{}, fmt.Errorf("call %s: %w", h.CallID, server.ErrNotFound)
		}
	}
	var id int64
	err := s.queryRow(ctx, s.db, `INSERT INTO holds (call_id, number, agent, from_at, to_at, reason, note, owner, review_at, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		nullString(h.CallID), nullString(server.NumberKey(h.Number)), nullString(h.Agent), msPtr(h.From), msPtr(h.To),
		h.Reason, h.Note, h.Owner, msPtr(h.ReviewAt), ms(s.now()), by).Scan(&id)
	if err != nil {
		return server.Hold{}, fmt.Errorf("place hold: %w", err)
	}
	return s.Hold(ctx, id)
}

// Hold returns one hold.
func (s *Store) Hold(ctx context.Context, id int64) (server.Hold, error) {
	hs, err := s.holds(ctx, `WHERE h.id = ?`, id)
	if err != nil {
		return server.Hold{}, err
	}
	if len(hs) == 0 {
		return server.Hold{}, fmt.Errorf("hold %d: %w", id, server.ErrNotFound)
	}
	return hs[0], nil
}

// Holds lists holds, active ones only unless all, newest first.
func (s *Store) Holds(ctx context.Context, all bool) ([]server.Hold, error) {
	where := `WHERE h.lifted_at IS NULL`
	if all {
		where = ``
	}
	return s.holds(ctx, where+` ORDER BY h.id DESC`)
}

// HoldsOf returns the active holds that cover a call.
func (s *Store) HoldsOf(ctx context.Context, callID string) ([]server.Hold, error) {
	return s.holds(ctx, `WHERE h.lifted_at IS NULL AND EXISTS (SELECT 1 FROM calls c WHERE c.id = ? AND `+holdCovers+`) ORDER BY h.id`, callID)
}

func (s *Store) holds(ctx context.Context, where string, args ...any) ([]server.Hold, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+holdCols+` FROM holds h `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("holds: %w", err)
	}
	out, err := scanAll(rows, scanHold)
	if err != nil {
		return nil, fmt.Errorf("holds: %w", err)
	}
	return out, nil
}

// ErrSecondDPO: the same dpo who asked to lift a hold (or decided a
// deletion) tried to complete it; a different dpo must.
var ErrSecondDPO = fmt.Errorf("a second dpo must do this: %w", server.ErrConflict)

// LiftHold lifts a hold for the dpo called by. With twoPerson, the first
// call records a request (lifted false) and a different dpo's call lifts
// it. Lifting re-applies retention to the calls the hold covered: those
// past their date are deleted by the next retention run unless another
// hold keeps them.
func (s *Store) LiftHold(ctx context.Context, id int64, by, reason string, twoPerson bool) (server.Hold, bool, error) {
	lifted := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		lifted = false
		var (
			liftedAt sql.NullInt64
			asker    sql.NullString
		)
		err := s.queryRow(ctx, tx, `SELECT lifted_at, lift_requested_by FROM holds WHERE id = ?`, id).Scan(&liftedAt, &asker)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("hold %d: %w", id, server.ErrNotFound)
		}
		if err != nil {
			return err
		}
		now := ms(s.now())
		switch {
		case liftedAt.Valid:
			return fmt.Errorf("hold %d is already lifted: %w", id, server.ErrConflict)
		case twoPerson && !asker.Valid:
			_, err := s.exec(ctx, tx, `UPDATE holds SET lift_requested_by = ?, lift_requested_at = ?, lift_reason = ? WHERE id = ?`, by, now, reason, id)
			return err
		case twoPerson && asker.String == by:
			return fmt.Errorf("hold %d: %s asked to lift it: %w", id, by, ErrSecondDPO)
		}
		if !twoPerson {
			if _, err := s.exec(ctx, tx, `UPDATE holds SET lift_reason = ? WHERE id = ?`, reason, id); err != nil {
				return err
			}
		}
		if _, err := s.exec(ctx, tx, `UPDATE holds SET lifted_at = ?, lifted_by = ? WHERE id = ?`, now, by, id); err != nil {
			return err
		}
		lifted = true
		rows, err := s.query(ctx, tx, `SELECT c.id FROM calls c, holds h WHERE h.id = ? AND c.personal_deleted_at IS NULL AND `+holdCovers, id)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var cid string
			if err := rows.Scan(&cid); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, cid)
		}
		rows.Close()
		for _, cid := range ids {
			if err := s.reapply(ctx, tx, cid); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return server.Hold{}, false, fmt.Errorf("lift hold %d: %w", id, err)
	}
	h, err := s.Hold(ctx, id)
	return h, lifted, err
}
