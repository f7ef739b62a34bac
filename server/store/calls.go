package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/callguard/callguard/server"
)

const callCols = `c.id, c.device_id, c.agent, c.direction, c.local_number, c.local_name, c.remote_number, c.remote_name, c.sip_call_id,
	c.started_at, c.answered_at, c.ended_at, c.recorded, c.state, c.state_reason, c.notice, c.declined, c.is_excluded, c.failed,
	c.pauses, c.paused_ms, c.retention_rule, c.delete_after, c.event_count, c.updated_at, COALESCE(r.status, ''),
	c.declined_at, c.personal_deleted_at, COALESCE(k.call_ref, c.id), c.received_at, COALESCE(c.counted_from, c.started_at), c.clock_skew, ` + heldExpr + `, c.keypad_masked, c.keypad_masks`

// heldExpr is true when an active hold covers the call c: on the call
// itself, on its remote number or on its agent, within the hold's dates.
// Three EXISTS rather than one OR, so each uses its own index. The dates
// are compared with counted_from, the server's idea of when the call was
// (see server.CountFrom), never with a start a desktop could set.
const heldExpr = `(EXISTS (SELECT 1 FROM holds h WHERE h.lifted_at IS NULL AND h.call_id = c.id)
	OR EXISTS (SELECT 1 FROM holds h WHERE h.lifted_at IS NULL AND h.number = c.remote_key AND c.remote_key <> ''
		AND (h.from_at IS NULL OR c.counted_from >= h.from_at) AND (h.to_at IS NULL OR c.counted_from < h.to_at))
	OR EXISTS (SELECT 1 FROM holds h WHERE h.lifted_at IS NULL AND h.agent = c.agent
		AND (h.from_at IS NULL OR c.counted_from >= h.from_at) AND (h.to_at IS NULL OR c.counted_from < h.to_at)))`

// heldCalls selects (as call_id) the calls active holds keep, the same
// calls heldExpr matches, found from the holds through the calls' indexes:
// for counting over many calls, where heldExpr would test each.
const heldCalls = `SELECT h.call_id FROM holds h WHERE h.lifted_at IS NULL AND h.call_id IS NOT NULL
	UNION SELECT c.id FROM holds h JOIN calls c ON c.remote_key = h.number WHERE h.lifted_at IS NULL AND h.number IS NOT NULL AND c.remote_key <> ''
		AND (h.from_at IS NULL OR c.counted_from >= h.from_at) AND (h.to_at IS NULL OR c.counted_from < h.to_at)
	UNION SELECT c.id FROM holds h JOIN calls c ON c.agent = h.agent WHERE h.lifted_at IS NULL AND h.agent IS NOT NULL
		AND (h.from_at IS NULL OR c.counted_from >= h.from_at) AND (h.to_at IS NULL OR c.counted_from < h.to_at)`

const callFrom = ` FROM calls c LEFT JOIN recordings r ON r.call_id = c.id LEFT JOIN call_keys k ON k.call_id = c.id`

func scanCall(sc interface{ Scan(...any) error }) (server.Call, error) {
	var (
		c                            server.Call
		started, updated             int64
		answered, ended, deleteAfter sql.NullInt64
		declinedAt, erased, received sql.NullInt64
		countedFrom                  int64
		pauses, recording, keypad    string
	)
	err := sc.Scan(&c.ID, &c.Device, &c.Agent, &c.Direction, &c.Local.Number, &c.Local.Name, &c.Remote.Number, &c.Remote.Name, &c.SIPCallID,
		&started, &answered, &ended, &c.Recorded, &c.State, &c.StateReason, &c.Notice, &c.Declined, &c.Excluded, &c.Failed,
		&pauses, &c.PausedMS, &c.RetentionRule, &deleteAfter, &c.Events, &updated, &recording, &declinedAt, &erased,
		&c.DesktopID, &received, &countedFrom, &c.ClockSkewed, &c.Held, &c.KeypadMasked, &keypad)
	if err != nil {
		return server.Call{}, err
	}
	c.Started, c.Updated, c.Received, c.CountedFrom = fromMS(started), fromMS(updated), fromNullMS(received), fromMS(countedFrom)
	c.Answered, c.Ended, c.DeleteAfter = fromNullMS(answered), fromNullMS(ended), fromNullMS(deleteAfter)
	c.DeclinedAt, c.Erased = fromNullMS(declinedAt), fromNullMS(erased)
	if err := json.Unmarshal([]byte(pauses), &c.Pauses); err != nil {
		return server.Call{}, fmt.Errorf("call %s: pauses: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(keypad), &c.KeypadMasks); err != nil {
		return server.Call{}, fmt.Errorf("call %s: keypad_masks: %w", c.ID, err)
	}
	if c.KeypadMasks == nil {
		c.KeypadMasks = []server.KeypadMask{}
	}
	switch recording {
	case "uploading":
		c.Recording = server.RecordingUploading
	case "stored":
		c.Recording = server.RecordingStored
	case "deleted":
		c.Recording = server.RecordingDeleted
	default:
		c.Recording = server.RecordingNone
	}
	return c, nil
}

// Call returns one call with its flags.
func (s *Store) Call(ctx context.Context, id string) (server.Call, error) {
	c, err := scanCall(s.queryRow(ctx, s.db, `SELECT `+callCols+callFrom+` WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return server.Call{}, fmt.Errorf("call %s: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return server.Call{}, fmt.Errorf("call %s: %w", id, err)
	}
	calls := []server.Call{c}
	if err := s.loadFlags(ctx, calls); err != nil {
		return server.Call{}, err
	}
	return calls[0], nil
}

// SearchCalls returns the calls that match f, newest first.
func (s *Store) SearchCalls(ctx context.Context, f server.CallFilter) ([]server.Call, error) {
	var (
		where []string
		args  []any
	)
	if f.Number != "" {
		like := "%" + escapeLike(f.Number) + "%"
		where = append(where, `(c.remote_number LIKE ? ESCAPE '\' OR c.local_number LIKE ? ESCAPE '\')`)
		args = append(args, like, like)
	}
	if f.Agent != "" {
		where = append(where, `c.agent = ?`)
		args = append(args, f.Agent)
	}
	if f.Supervisor != "" {
		where = append(where, fmt.Sprintf(teamScope, "c.agent"))
		args = append(args, f.Supervisor)
	}
	if !f.From.IsZero() {
		where = append(where, `c.started_at >= ?`)
		args = append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, `c.started_at < ?`)
		args = append(args, ms(f.To))
	}
	where, args = callConditions(f, where, args)
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT ` + callCols + callFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY c.started_at DESC, c.id LIMIT ? OFFSET ?`
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.query(ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search calls: %w", err)
	}
	out, err := scanAll(rows, scanCall)
	if err != nil {
		return nil, fmt.Errorf("search calls: %w", err)
	}
	if err := s.loadFlags(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// CallsOfNumber returns the calls, not erased, whose remote number has
// the key (server.NumberKey), oldest first: a subject's calls.
func (s *Store) CallsOfNumber(ctx context.Context, key string) ([]server.Call, error) {
	if key == "" {
		return nil, fmt.Errorf("empty number: %w", server.ErrInvalid)
	}
	rows, err := s.query(ctx, s.db, `SELECT `+callCols+callFrom+` WHERE c.remote_key = ? AND c.personal_deleted_at IS NULL ORDER BY c.started_at, c.id`, key)
	if err != nil {
		return nil, fmt.Errorf("calls of a number: %w", err)
	}
	out, err := scanAll(rows, scanCall)
	if err != nil {
		return nil, fmt.Errorf("calls of a number: %w", err)
	}
	return out, s.loadFlags(ctx, out)
}

func (s *Store) loadFlags(ctx context.Context, calls []server.Call) error {
	if len(calls) == 0 {
		return nil
	}
	idx := make(map[string]int, len(calls))
	ph := make([]string, len(calls))
	args := make([]any, len(calls))
	for i, c := range calls {
		idx[c.ID] = i
		ph[i] = "?"
		args[i] = c.ID
		calls[i].Flags = []server.Flag{}
	}
	rows, err := s.query(ctx, s.db, `SELECT call_id, event_id, reason, note, from_ms, to_ms, at, review_state, outcome FROM call_flags
		WHERE kind = 'flag' AND call_id IN (`+strings.Join(ph, ",")+`) ORDER BY at, event_id`, args...)
	if err != nil {
		return fmt.Errorf("load flags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			callID   string
			f        server.Flag
			from, to sql.NullInt64
			at       int64
			state    server.ReviewState
			outcome  string
		)
		if err := rows.Scan(&callID, &f.EventID, &f.Reason, &f.Note, &from, &to, &at, &state, &outcome); err != nil {
			return fmt.Errorf("load flags: %w", err)
		}
		if from.Valid {
			f.FromMS = &from.Int64
		}
		if to.Valid {
			f.ToMS = &to.Int64
		}
		f.At = fromMS(at)
		f.Review, f.Outcome = state, officerOutcome(state, outcome)
		if i, ok := idx[callID]; ok {
			calls[i].Flags = append(calls[i].Flags, f)
		}
	}
	return rows.Err()
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
