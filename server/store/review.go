package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
)

// officerOutcome is what the officer who flagged a call sees of the item's
// state: what happened, never the dpo's reason.
func officerOutcome(state server.ReviewState, outcome string) string {
	switch {
	case state == server.ReviewAutoRedacted:
		return server.OutcomeRedacted
	case state == server.ReviewDone && outcome != "":
		return outcome
	}
	return server.OutcomePending
}

const reviewCols = `f.event_id, f.kind, f.call_id, f.agent, f.reason, f.note, f.from_ms, f.to_ms, f.at, f.review_state, f.pending, f.outcome, f.updated_at,
	f.decision, f.decision_from_ms, f.decision_to_ms, f.decision_note, f.decided_by, f.decided_at, f.approved_by, f.approved_at,
	c.started_at, c.direction, c.remote_number, COALESCE(r.status, 'none'), c.retention_rule, c.delete_after, ` + heldExpr

const reviewFrom = ` FROM call_flags f JOIN calls c ON c.id = f.call_id LEFT JOIN recordings r ON r.call_id = f.call_id `

func (s *Store) scanReview(sc interface{ Scan(...any) error }) (server.ReviewItem, error) {
	var (
		it                             server.ReviewItem
		from, to, updated, dFrom, dTo  sql.NullInt64
		decided, approved, deleteAfter sql.NullInt64
		at, started                    int64
	)
	err := sc.Scan(&it.ID, &it.Kind, &it.CallID, &it.Officer, &it.Reason, &it.Note, &from, &to, &at, &it.State, &it.Pending, &it.Outcome, &updated,
		&it.Decision, &dFrom, &dTo, &it.DecisionNote, &it.DecidedBy, &decided, &it.ApprovedBy, &approved,
		&started, &it.Direction, &it.Remote, &it.Recording, &it.RetentionRule, &deleteAfter, &it.Held)
	if err != nil {
		return server.ReviewItem{}, err
	}
	it.FromMS, it.ToMS = ptrInt(from), ptrInt(to)
	it.DecisionFromMS, it.DecisionToMS = ptrInt(dFrom), ptrInt(dTo)
	it.At, it.Updated, it.Started = fromMS(at), fromNullMS(updated), fromMS(started)
	it.DecidedAt, it.ApprovedAt, it.DeleteAfter = fromNullMS(decided), fromNullMS(approved), fromNullMS(deleteAfter)
	if it.Kind == server.ReviewKindDeclined {
		it.Label = "Caller declined recording"
	} else if s.pol != nil {
		if r := s.pol.FlagReason(it.Reason); r != nil {
			it.Label = r.Label
		}
	}
	if it.Outcome == "" {
		it.Outcome = officerOutcome(it.State, it.Outcome)
	}
	return it, nil
}

func ptrInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	x := v.Int64
	return &x
}

// ReviewFilter selects review items.
type ReviewFilter struct {
	// States to list; empty: every state but done.
	States []server.ReviewState
	CallID string
	Limit  int // default 200, at most 1000
}

// ReviewQueue lists review items, oldest first.
func (s *Store) ReviewQueue(ctx context.Context, f ReviewFilter) ([]server.ReviewItem, error) {
	where, args := []string{}, []any{}
	if len(f.States) > 0 {
		ph, a := inList(f.States)
		where, args = append(where, `f.review_state IN (`+ph+`)`), append(args, a...)
	} else {
		where = append(where, `f.review_state <> 'done'`)
	}
	if f.CallID != "" {
		where, args = append(where, `f.call_id = ?`), append(args, f.CallID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	// The flags are chosen first and only they are joined to their calls
	// (and tested against the holds): with 10,000 open flags the other way
	// took 100 ms for 50 of them.
	rows, err := s.query(ctx, s.db, `SELECT `+reviewCols+` FROM (SELECT * FROM call_flags f WHERE `+strings.Join(where, " AND ")+` ORDER BY f.at, f.event_id LIMIT ?) f
		JOIN calls c ON c.id = f.call_id LEFT JOIN recordings r ON r.call_id = f.call_id ORDER BY f.at, f.event_id`,
		append(args, min(limit, 1000))...)
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	defer rows.Close()
	out := []server.ReviewItem{}
	for rows.Next() {
		it, err := s.scanReview(rows)
		if err != nil {
			return nil, fmt.Errorf("review queue: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// ReviewItem returns one review item.
func (s *Store) ReviewItem(ctx context.Context, id string) (server.ReviewItem, error) {
	it, err := s.scanReview(s.queryRow(ctx, s.db, `SELECT `+reviewCols+reviewFrom+`WHERE f.event_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return server.ReviewItem{}, fmt.Errorf("review item %s: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return server.ReviewItem{}, fmt.Errorf("review item %s: %w", id, err)
	}
	return it, nil
}

// ReviewChange is a change of a review item's state, applied only if the
// item is still in one of From (so two dpos cannot both decide it).
type ReviewChange struct {
	From    []server.ReviewState
	State   server.ReviewState
	Outcome string
	Pending string
	// Decide records a decision by DecidedBy; Approve records ApprovedBy;
	// ClearDecision forgets a rejected one.
	Decide        *server.Decision
	DecidedBy     string
	ApprovedBy    string
	ClearDecision bool
}

// ChangeReview applies ch to the item and re-applies retention to its call.
// An item no longer in one of ch.From gives server.ErrConflict.
func (s *Store) ChangeReview(ctx context.Context, id string, ch ReviewChange) (server.ReviewItem, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := ms(s.now())
		set := []string{`review_state = ?`, `pending = ?`, `updated_at = ?`}
		args := []any{ch.State, ch.Pending, now}
		if ch.Outcome != "" {
			set, args = append(set, `outcome = ?`), append(args, ch.Outcome)
		}
		if d := ch.Decide; d != nil {
			set = append(set, `decision = ?`, `decision_from_ms = ?`, `decision_to_ms = ?`, `decision_note = ?`, `decided_by = ?`, `decided_at = ?`,
				`approved_by = ''`, `approved_at = NULL`)
			args = append(args, d.Action, nullInt(d.FromMS), nullInt(d.ToMS), d.Note, ch.DecidedBy, now)
		}
		if ch.ApprovedBy != "" {
			set, args = append(set, `approved_by = ?`, `approved_at = ?`), append(args, ch.ApprovedBy, now)
		}
		if ch.ClearDecision {
			set = append(set, `decision = ''`, `decision_from_ms = NULL`, `decision_to_ms = NULL`, `decided_by = ''`, `decided_at = NULL`,
				`approved_by = ''`, `approved_at = NULL`)
		}
		ph, fa := inList(ch.From)
		res, err := s.exec(ctx, tx, `UPDATE call_flags SET `+strings.Join(set, ", ")+` WHERE event_id = ? AND review_state IN (`+ph+`)`,
			append(append(args, id), fa...)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var state string
			err := s.queryRow(ctx, tx, `SELECT review_state FROM call_flags WHERE event_id = ?`, id).Scan(&state)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("review item %s: %w", id, server.ErrNotFound)
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("review item %s is %s: %w", id, state, server.ErrConflict)
		}
		var callID string
		if err := s.queryRow(ctx, tx, `SELECT call_id FROM call_flags WHERE event_id = ?`, id).Scan(&callID); err != nil {
			return err
		}
		return s.reapply(ctx, tx, callID)
	})
	if err != nil {
		return server.ReviewItem{}, fmt.Errorf("review item %s: %w", id, err)
	}
	return s.ReviewItem(ctx, id)
}

// PendingRedactions returns the items whose interval waits to be redacted
// at once (card details), oldest first.
func (s *Store) PendingRedactions(ctx context.Context, limit int) ([]server.ReviewItem, error) {
	return s.ReviewQueue(ctx, ReviewFilter{States: []server.ReviewState{server.ReviewRedactionPending}, Limit: limit})
}

// MyFlags returns the agent's own flags since since, newest first, with
// what came of them (never the dpo's reason).
func (s *Store) MyFlags(ctx context.Context, agent string, since time.Time, limit int) ([]server.FlagOutcome, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	// The call is named by the desktop's own id for it: the officer's
	// desktop matches flags to the calls it remembers.
	rows, err := s.query(ctx, s.db, `SELECT f.event_id, COALESCE(k.call_ref, f.call_id), f.reason, f.at, f.from_ms, f.to_ms, f.review_state, f.outcome, f.decided_at, f.updated_at
		FROM call_flags f LEFT JOIN call_keys k ON k.call_id = f.call_id WHERE f.agent = ? AND f.kind = 'flag' AND f.at >= ? ORDER BY f.at DESC, f.event_id LIMIT ?`, agent, ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("flags of %s: %w", agent, err)
	}
	defer rows.Close()
	out := []server.FlagOutcome{}
	for rows.Next() {
		var (
			f                          server.FlagOutcome
			at                         int64
			from, to, decided, updated sql.NullInt64
			state                      server.ReviewState
			outcome                    string
		)
		if err := rows.Scan(&f.ID, &f.CallID, &f.Reason, &at, &from, &to, &state, &outcome, &decided, &updated); err != nil {
			return nil, fmt.Errorf("flags of %s: %w", agent, err)
		}
		f.At, f.FromMS, f.ToMS = fromMS(at), ptrInt(from), ptrInt(to)
		f.Outcome = officerOutcome(state, outcome)
		if f.Outcome != server.OutcomePending {
			f.Decided = fromNullMS(decided)
			if f.Decided == nil {
				f.Decided = fromNullMS(updated)
			}
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// DeleteRecording marks a call's recording deleted by a review decision
// (its blob must already be gone) and closes the call's open review items
// as deleted; the call's metadata stays until retention.
func (s *Store) DeleteRecording(ctx context.Context, callID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := ms(s.now())
		if _, err := s.exec(ctx, tx, `UPDATE recordings SET status = 'deleted', manifest = '', deleted_at = ? WHERE call_id = ? AND status <> 'deleted'`, now, callID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `UPDATE call_flags SET review_state = 'done', outcome = 'deleted', pending = '', updated_at = ?
			WHERE call_id = ? AND review_state <> 'done'`, now, callID); err != nil {
			return err
		}
		return s.reapply(ctx, tx, callID)
	})
	if err != nil {
		return fmt.Errorf("delete recording %s: %w", callID, err)
	}
	return nil
}

// ReplaceRecording records a redacted recording: its new size, sha256 and
// manifest. It fails with server.ErrConflict if the recording changed
// since it was read (wantSHA256 is the sha256 it was redacted from) or its
// deletion has begun.
func (s *Store) ReplaceRecording(ctx context.Context, callID, wantSHA256 string, size int64, sha256 string, manifest []byte) error {
	res, err := s.exec(ctx, s.db, `UPDATE recordings SET size = ?, sha256 = ?, manifest = ? WHERE call_id = ? AND status = 'stored' AND sha256 = ?
		AND NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.call_id = recordings.call_id)`,
		size, sha256, string(manifest), callID, wantSHA256)
	if err != nil {
		return fmt.Errorf("replace recording %s: %w", callID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("recording %s changed or was deleted meanwhile: %w", callID, server.ErrConflict)
	}
	return nil
}

// UnredactedCardDetails returns the first review item of the call whose
// interval must be silenced at once (a card-detail flag, see the policy's
// redact_now) and is not yet: while there is one, nobody may play or
// download the recording. ok is false when there is none.
func (s *Store) UnredactedCardDetails(ctx context.Context, callID string) (it server.ReviewItem, ok bool, err error) {
	items, err := s.ReviewQueue(ctx, ReviewFilter{CallID: callID, States: []server.ReviewState{server.ReviewOpen, server.ReviewRedactionPending,
		server.ReviewAwaitingApproval, server.ReviewApproved}, Limit: 1000})
	if err != nil {
		return server.ReviewItem{}, false, err
	}
	for _, it := range items {
		if it.Kind == "flag" && s.redactNow(server.Flag{Reason: it.Reason, FromMS: it.FromMS, ToMS: it.ToMS}) {
			return it, true, nil
		}
	}
	return server.ReviewItem{}, false, nil
}
