package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
)

// reapply sets a call's retention facts, rule and delete_after from the
// policy. Flag reasons and a declined call count only while their review
// items await a decision. Erased calls are left alone.
func (s *Store) reapply(ctx context.Context, q querier, callID string) error {
	if s.pol == nil {
		return nil
	}
	var (
		direction, local string
		declined         bool
		started          int64
		erased           sql.NullInt64
	)
	// counted_from: the server's clock decides (see server.CountFrom).
	err := s.queryRow(ctx, q, `SELECT direction, local_number, declined, COALESCE(counted_from, started_at), personal_deleted_at FROM calls WHERE id = ?`, callID).
		Scan(&direction, &local, &declined, &started, &erased)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && erased.Valid) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("retention of %s: %w", callID, err)
	}
	rows, err := s.query(ctx, q, `SELECT kind, reason, review_state FROM call_flags WHERE call_id = ?`, callID)
	if err != nil {
		return fmt.Errorf("retention of %s: %w", callID, err)
	}
	facts := policy.CallFacts{Direction: direction, Local: local, Declined: declined}
	flags, seen := 0, map[string]bool{}
	if err := eachRow(rows, func(rows *sql.Rows) error {
		var kind, reason string
		var state server.ReviewState
		if err := rows.Scan(&kind, &reason, &state); err != nil {
			return err
		}
		resolved := state == server.ReviewDone || state == server.ReviewAutoRedacted
		switch kind {
		case server.ReviewKindDeclined:
			if resolved {
				facts.Declined = false
			}
		default:
			flags++
			if !resolved && !seen[reason] {
				seen[reason] = true
				facts.FlagReasons = append(facts.FlagReasons, reason)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if facts.Released, err = s.released(ctx, q, callID); err != nil {
		return fmt.Errorf("retention of %s: %w", callID, err)
	}
	rule, at := server.Retention(s.pol, fromMS(started), facts)
	if _, err := s.exec(ctx, q, `UPDATE calls SET flag_reasons = ?, flag_count = ?, retention_rule = ?, delete_after = ? WHERE id = ?`,
		strings.Join(facts.FlagReasons, ","), flags, rule, ms(at), callID); err != nil {
		return fmt.Errorf("retention of %s: %w", callID, err)
	}
	return nil
}

// ReapplyRetention recomputes the retention of every call not yet erased
// from the store's policy, for when the policy changed; it returns how
// many calls it looked at.
func (s *Store) ReapplyRetention(ctx context.Context) (int, error) {
	after, n := "", 0
	for {
		rows, err := s.query(ctx, s.db, `SELECT id FROM calls WHERE personal_deleted_at IS NULL AND id > ? ORDER BY id LIMIT 500`, after)
		if err != nil {
			return n, fmt.Errorf("reapply retention: %w", err)
		}
		ids, err := scanStrings(rows)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			for _, id := range ids {
				if err := s.reapply(ctx, tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("reapply retention: %w", err)
		}
		n += len(ids)
		after = ids[len(ids)-1]
	}
}

// Candidate is a call chosen for deletion, with what its tombstone needs.
type Candidate struct {
	CallID    string
	Started   time.Time
	Ended     *time.Time
	Rule      string
	Recording string // "" (none), uploading, stored, deleted
	Size      int64
	SHA256    string // of the encrypted recording as stored
	metadata  string // sha256 of the personal fields
	orphan    bool   // a recording without a call
}

// PartialHasher hashes the part of an upload that reached the server:
// sha256, size, and whether there is one.
type PartialHasher func(callID string) (sum string, size int64, ok bool, err error)

const candidateCols = `c.id, c.started_at, c.ended_at, c.retention_rule, COALESCE(r.status, ''), COALESCE(r.size, 0), COALESCE(r.sha256, ''),
	c.remote_number, c.remote_name, c.local_name, c.sip_call_id`

// ExpiryCandidates returns up to limit calls whose delete_after has come by
// now, that no hold keeps, that are not erased and whose deletion has not
// begun, soonest first; and recordings that came without a call and are
// older than the default retention.
func (s *Store) ExpiryCandidates(ctx context.Context, now time.Time, limit int) ([]Candidate, error) {
	// A call with a done tombstone is erased; one with a pending tombstone
	// is another run's (few at a time, so the subquery stays small however
	// many tombstones there are).
	out, err := s.candidates(ctx, `WHERE c.personal_deleted_at IS NULL AND c.delete_after <= ? AND NOT `+heldExpr+`
		AND c.id NOT IN (SELECT t.call_id FROM tombstones t WHERE t.state = 'pending') ORDER BY c.delete_after, c.id LIMIT ?`, ms(now), limit)
	if err != nil || len(out) >= limit || s.pol == nil {
		return out, err
	}
	// Recordings whose events never came: kept as long as the default.
	cutoff := now.AddDate(0, -s.pol.Retention.Default.Months, -s.pol.Retention.Default.Days)
	rows, err := s.query(ctx, s.db, `SELECT r.call_id, r.created_at, r.status, r.size, r.sha256 FROM recordings r
		WHERE r.status <> 'deleted' AND r.created_at <= ? AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = r.call_id)
		AND NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.call_id = r.call_id)
		AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.lifted_at IS NULL AND h.call_id = r.call_id)
		ORDER BY r.created_at, r.call_id LIMIT ?`, ms(cutoff), limit-len(out))
	if err != nil {
		return nil, fmt.Errorf("expiry candidates: %w", err)
	}
	err = eachRow(rows, func(rows *sql.Rows) error {
		var (
			c       Candidate
			created int64
		)
		if err := rows.Scan(&c.CallID, &created, &c.Recording, &c.Size, &c.SHA256); err != nil {
			return fmt.Errorf("expiry candidates: %w", err)
		}
		c.Started, c.Rule, c.orphan = fromMS(created), "default", true
		c.metadata = metadataSum(map[string]any{})
		out = append(out, c)
		return nil
	})
	return out, err
}

// NumberCandidates returns the calls with the remote number key that are
// not erased, split into those free to erase and those holds keep.
func (s *Store) NumberCandidates(ctx context.Context, key string) ([]Candidate, []server.HeldCall, error) {
	if key == "" {
		return nil, nil, fmt.Errorf("empty number: %w", server.ErrInvalid)
	}
	free, err := s.candidates(ctx, `WHERE c.remote_key = ? AND c.personal_deleted_at IS NULL AND NOT `+heldExpr+` ORDER BY c.started_at, c.id`, key)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.query(ctx, s.db, `SELECT c.id FROM calls c WHERE c.remote_key = ? AND c.personal_deleted_at IS NULL AND `+heldExpr+` ORDER BY c.started_at, c.id`, key)
	if err != nil {
		return nil, nil, fmt.Errorf("held calls: %w", err)
	}
	ids, err := scanStrings(rows)
	if err != nil {
		return nil, nil, fmt.Errorf("held calls: %w", err)
	}
	held := make([]server.HeldCall, 0, len(ids))
	for _, id := range ids {
		hs, err := s.HoldsOf(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		hc := server.HeldCall{CallID: id, Holds: []int64{}}
		for _, h := range hs {
			hc.Holds = append(hc.Holds, h.ID)
		}
		held = append(held, hc)
	}
	return free, held, nil
}

func (s *Store) candidates(ctx context.Context, where string, args ...any) ([]Candidate, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+candidateCols+` FROM calls c LEFT JOIN recordings r ON r.call_id = c.id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("deletion candidates: %w", err)
	}
	var (
		out    []Candidate
		fields []map[string]any
	)
	if err := eachRow(rows, func(rows *sql.Rows) error {
		var (
			c                              Candidate
			started                        int64
			ended                          sql.NullInt64
			number, name, localName, sipID string
		)
		if err := rows.Scan(&c.CallID, &started, &ended, &c.Rule, &c.Recording, &c.Size, &c.SHA256, &number, &name, &localName, &sipID); err != nil {
			return err
		}
		c.Started, c.Ended = fromMS(started), fromNullMS(ended)
		out = append(out, c)
		fields = append(fields, map[string]any{"remote_number": number, "remote_name": name, "local_name": localName, "sip_call_id": sipID})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("deletion candidates: %w", err)
	}
	// The notes of the calls' flags are personal data too.
	for start := 0; start < len(out); start += inChunk {
		part := out[start:min(start+inChunk, len(out))]
		idx := map[string]int{}
		ids := make([]string, len(part))
		for i, c := range part {
			idx[c.CallID], ids[i] = start+i, c.CallID
		}
		ph, args := inList(ids)
		rows, err := s.query(ctx, s.db, `SELECT call_id, note FROM call_flags WHERE call_id IN (`+ph+`) AND note <> '' ORDER BY call_id, at, event_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("deletion candidates: %w", err)
		}
		if err := eachRow(rows, func(rows *sql.Rows) error {
			var id, note string
			if err := rows.Scan(&id, &note); err != nil {
				return err
			}
			f := fields[idx[id]]
			notes, _ := f["notes"].([]string)
			f["notes"] = append(notes, note)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("deletion candidates: %w", err)
		}
	}
	for i := range out {
		out[i].metadata = metadataSum(fields[i])
	}
	return out, nil
}

// dueIndex makes SQLite count calls by their date from the small index of
// calls not yet erased (calls_due) rather than read the table: when the
// range holds nearly every call its planner scans the table, 4 times
// slower over 100,000 calls. PostgreSQL chooses for itself.
func (s *Store) dueIndex() string {
	if s.dialect == SQLite {
		return " INDEXED BY calls_due"
	}
	return ""
}

// RetentionReport lists the holds due for review and the calls due for
// deletion before until, with up to limit calls.
func (s *Store) RetentionReport(ctx context.Context, now, until time.Time, limit int) (server.RetentionReport, error) {
	rep := server.RetentionReport{Now: now.UTC(), Until: until.UTC(), Due: []server.DueCall{}}
	var err error
	if rep.HoldsDue, err = s.holds(ctx, `WHERE h.lifted_at IS NULL AND h.review_at IS NOT NULL AND h.review_at < ? ORDER BY h.review_at, h.id`, ms(until)); err != nil {
		return rep, err
	}
	rows, err := s.query(ctx, s.db, `SELECT c.id, c.agent, c.started_at, c.delete_after, c.retention_rule, COALESCE(r.status, 'none')
		FROM calls c LEFT JOIN recordings r ON r.call_id = c.id
		WHERE c.personal_deleted_at IS NULL AND c.delete_after > ? AND c.delete_after < ? AND NOT `+heldExpr+`
		ORDER BY c.delete_after, c.id LIMIT ?`, ms(now), ms(until), limit)
	if err != nil {
		return rep, fmt.Errorf("retention report: %w", err)
	}
	if err := eachRow(rows, func(rows *sql.Rows) error {
		var (
			d            server.DueCall
			started, due int64
		)
		if err := rows.Scan(&d.CallID, &d.Agent, &started, &due, &d.Rule, &d.Recording); err != nil {
			return err
		}
		d.Started, d.DeleteAfter = fromMS(started), fromMS(due)
		rep.Due = append(rep.Due, d)
		return nil
	}); err != nil {
		return rep, fmt.Errorf("retention report: %w", err)
	}
	for _, c := range []struct {
		dst   *int
		query string
		args  []any
	}{
		// Counted as all the calls in range less the held ones, which are
		// found from the holds (few) rather than by testing every call
		// against every hold: a 90-day report over 100,000 calls took
		// 220 ms the other way.
		{&rep.DueCount, `SELECT (SELECT COUNT(*) FROM calls c` + s.dueIndex() + ` WHERE c.personal_deleted_at IS NULL AND c.delete_after > ? AND c.delete_after < ?)
			- (SELECT COUNT(*) FROM (` + heldCalls + `) x JOIN calls c ON c.id = x.call_id WHERE c.personal_deleted_at IS NULL AND c.delete_after > ? AND c.delete_after < ?)`,
			[]any{ms(now), ms(until), ms(now), ms(until)}},
		{&rep.HeldPastDate, `SELECT COUNT(*) FROM (` + heldCalls + `) x JOIN calls c ON c.id = x.call_id WHERE c.personal_deleted_at IS NULL AND c.delete_after <= ?`, []any{ms(now)}},
		{&rep.Overdue, `SELECT COUNT(*) FROM calls c` + s.dueIndex() + ` WHERE c.personal_deleted_at IS NULL AND c.delete_after <= ?`, []any{ms(now)}},
		{&rep.Unfinished, `SELECT COUNT(*) FROM tombstones WHERE state = 'pending'`, nil},
	} {
		if err := s.queryRow(ctx, s.db, c.query, c.args...).Scan(c.dst); err != nil {
			return rep, fmt.Errorf("retention report: %w", err)
		}
	}
	rep.Overdue -= rep.HeldPastDate
	return rep, nil
}
