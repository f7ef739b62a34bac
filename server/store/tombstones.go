package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
)

func metadataSum(fields map[string]any) string {
	b, _ := json.Marshal(fields) // map keys sort: the encoding is canonical
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// BeginDeletions writes a pending tombstone for each candidate that is
// still free to delete (not erased, not held, no tombstone yet), in one
// transaction, before anything is deleted. A partial upload is hashed with
// partial so the tombstone says what went. It returns the candidates that
// got a tombstone now.
func (s *Store) BeginDeletions(ctx context.Context, cands []Candidate, cause, ref, actor string, partial PartialHasher) ([]string, error) {
	for i := range cands {
		c := &cands[i]
		if c.Recording == "uploading" && partial != nil {
			sum, size, ok, err := partial(c.CallID)
			if err != nil {
				return nil, fmt.Errorf("hash partial upload of %s: %w", c.CallID, err)
			}
			if ok {
				c.SHA256, c.Size = sum, size
			}
		}
		if c.Recording == "deleted" || c.Recording == "" {
			c.SHA256, c.Size = "", 0
		}
	}
	var begun []string
	now := ms(s.now())
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		begun = begun[:0]
		for start := 0; start < len(cands); start += inChunk {
			part := cands[start:min(start+inChunk, len(cands))]
			// Still free to delete: not erased, not held, (for a recording
			// without a call) not deleted and still without a call.
			ids := make([]string, len(part))
			for i, c := range part {
				ids[i] = c.CallID
			}
			ph, args := inList(ids)
			free := map[string]bool{}
			for _, q := range []string{
				`SELECT c.id FROM calls c WHERE c.id IN (` + ph + `) AND c.personal_deleted_at IS NULL AND NOT ` + heldExpr,
				`SELECT r.call_id FROM recordings r WHERE r.call_id IN (` + ph + `) AND r.status <> 'deleted'
					AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = r.call_id)
					AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.lifted_at IS NULL AND h.call_id = r.call_id)`,
			} {
				rows, err := s.query(ctx, tx, q, args...)
				if err != nil {
					return err
				}
				still, err := scanStrings(rows)
				if err != nil {
					return err
				}
				for _, id := range still {
					free[id] = true
				}
			}
			var (
				values []string
				vargs  []any
			)
			for _, c := range part {
				if !free[c.CallID] {
					continue
				}
				values = append(values, "(?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)")
				vargs = append(vargs, c.CallID, ms(c.Started), msPtr(c.Ended), c.Rule, now, c.SHA256, cause, ref, actor, now,
					recordingStatus(c.Recording), c.Size, c.metadata)
			}
			if len(values) == 0 {
				continue
			}
			rows, err := s.query(ctx, tx, `INSERT INTO tombstones (call_id, started_at, ended_at, rule, deleted_at, sha256_deleted, state, cause, ref, actor,
				begun_at, recording_status, recording_bytes, sha256_metadata) VALUES `+strings.Join(values, ", ")+`
				ON CONFLICT (call_id) DO NOTHING RETURNING call_id`, vargs...)
			if err != nil {
				return fmt.Errorf("tombstones: %w", err)
			}
			inserted, err := scanStrings(rows)
			if err != nil {
				return err
			}
			begun = append(begun, inserted...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("begin deletions: %w", err)
	}
	return begun, nil
}

func recordingStatus(s string) string {
	if s == "" {
		return server.RecordingNone
	}
	return s
}

// PendingDeletions returns up to limit deletions that were begun and not
// finished, oldest first, optionally only those of one cause and ref.
func (s *Store) PendingDeletions(ctx context.Context, cause, ref string, limit int) ([]string, error) {
	q, args := `SELECT call_id FROM tombstones WHERE state = 'pending'`, []any{}
	if cause != "" {
		q += ` AND cause = ? AND ref = ?`
		args = append(args, cause, ref)
	}
	rows, err := s.query(ctx, s.db, q+` ORDER BY begun_at, call_id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("pending deletions: %w", err)
	}
	return scanStrings(rows)
}

// FinishDeletions completes begun deletions once their blobs are gone: in
// one transaction it erases the calls' personal data (numbers, names,
// notes, the events' bodies, the manifest), marks the recordings deleted,
// closes their review items as deleted, marks the tombstones done and
// writes one audit record per cause naming the calls. A call finished
// before is skipped, so nothing is recorded as deleted twice. It returns
// the calls finished now.
func (s *Store) FinishDeletions(ctx context.Context, ids []string) ([]string, error) {
	var done []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		done = done[:0]
		now := ms(s.now())
		byCause := map[[3]string][]string{}
		var order [][3]string
		for start := 0; start < len(ids); start += inChunk {
			part := ids[start:min(start+inChunk, len(ids))]
			ph, args := inList(part)
			rows, err := s.query(ctx, tx, `UPDATE tombstones SET state = 'done', deleted_at = ? WHERE state = 'pending' AND call_id IN (`+ph+`)
				RETURNING call_id, cause, ref, actor`, append([]any{now}, args...)...)
			if err != nil {
				return err
			}
			var finished []string
			if err := eachRow(rows, func(rows *sql.Rows) error {
				var id, cause, ref, actor string
				if err := rows.Scan(&id, &cause, &ref, &actor); err != nil {
					return err
				}
				k := [3]string{cause, ref, actor}
				if _, ok := byCause[k]; !ok {
					order = append(order, k)
				}
				byCause[k] = append(byCause[k], id)
				finished = append(finished, id)
				return nil
			}); err != nil {
				return err
			}
			if len(finished) == 0 {
				continue
			}
			done = append(done, finished...)
			ph, args = inList(finished)
			for _, q := range []string{
				`UPDATE calls SET remote_number = '', remote_name = '', local_name = '', sip_call_id = '', remote_key = '', remote_e164 = '', personal_deleted_at = ?
					WHERE personal_deleted_at IS NULL AND id IN (` + ph + `)`,
				`UPDATE recordings SET status = 'deleted', manifest = '', deleted_at = ? WHERE status <> 'deleted' AND call_id IN (` + ph + `)`,
				// A recording that had not arrived yet is refused when it does.
				`INSERT INTO recordings (call_id, device_id, status, created_at, deleted_at) SELECT c.id, c.device_id, 'deleted', c.started_at, ?
					FROM calls c WHERE c.id IN (` + ph + `) ON CONFLICT (call_id) DO NOTHING`,
				`UPDATE call_flags SET note = '', decision_note = '', pending = '', updated_at = ?,
					outcome = CASE WHEN review_state = 'done' THEN outcome ELSE 'deleted' END, review_state = 'done' WHERE call_id IN (` + ph + `)`,
			} {
				if _, err := s.exec(ctx, tx, q, append([]any{now}, args...)...); err != nil {
					return err
				}
			}
			// What a collector would look the call up by goes with the
			// call's SIP Call-ID.
			if _, err := s.exec(ctx, tx, `DELETE FROM phone_recordings WHERE call_id IN (`+ph+`)`, args...); err != nil {
				return err
			}
			if err := s.blankEvents(ctx, tx, finished...); err != nil {
				return err
			}
		}
		for _, k := range order {
			calls := byCause[k]
			action := server.AuditRetentionDelete
			detail := map[string]any{"calls": calls, "count": len(calls)}
			if k[0] == server.CauseErasure {
				action = server.AuditErasureDone
				detail["erasure"] = k[1]
			}
			b, _ := json.Marshal(detail)
			target := "calls"
			if len(calls) == 1 {
				target = calls[0]
			}
			if err := s.auditTx(ctx, tx, server.AuditRecord{Actor: k[2], Action: action, Target: target, Detail: string(b)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finish deletions: %w", err)
	}
	return done, nil
}

// Tombstone returns the tombstone of a call.
func (s *Store) Tombstone(ctx context.Context, callID string) (server.Tombstone, error) {
	ts, err := s.tombstones(ctx, `WHERE call_id = ?`, callID)
	if err != nil {
		return server.Tombstone{}, err
	}
	if len(ts) == 0 {
		return server.Tombstone{}, fmt.Errorf("tombstone of %s: %w", callID, server.ErrNotFound)
	}
	return ts[0], nil
}

// ErasedBy returns the calls an erasure (its id as ref) finished deleting.
func (s *Store) ErasedBy(ctx context.Context, ref string) ([]string, error) {
	ts, err := s.tombstones(ctx, `WHERE cause = ? AND ref = ? AND state = 'done' ORDER BY started_at, call_id`, server.CauseErasure, ref)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.CallID
	}
	return ids, nil
}

// Tombstones returns the tombstones of deletions finished in [from, to)
// (zero times: unbounded), oldest first, up to limit.
func (s *Store) Tombstones(ctx context.Context, from, to time.Time, limit int) ([]server.Tombstone, error) {
	return s.TombstonesAfter(ctx, from, to, nil, limit)
}

// TombstonesAfter is Tombstones after the tombstone after (nil: from the
// first), to page on: a deletion batch stamps all its tombstones with the
// same time, so paging by time alone would skip or repeat some.
func (s *Store) TombstonesAfter(ctx context.Context, from, to time.Time, after *server.Tombstone, limit int) ([]server.Tombstone, error) {
	where, args := `WHERE state = 'done'`, []any{}
	if after != nil {
		where += ` AND (deleted_at > ? OR (deleted_at = ? AND call_id > ?))`
		args = append(args, ms(after.Deleted), ms(after.Deleted), after.CallID)
	}
	if !from.IsZero() {
		where += ` AND deleted_at >= ?`
		args = append(args, ms(from))
	}
	if !to.IsZero() {
		where += ` AND deleted_at < ?`
		args = append(args, ms(to))
	}
	return s.tombstones(ctx, where+` ORDER BY deleted_at, call_id LIMIT ?`, append(args, limit)...)
}

func (s *Store) tombstones(ctx context.Context, where string, args ...any) ([]server.Tombstone, error) {
	rows, err := s.query(ctx, s.db, `SELECT call_id, started_at, ended_at, rule, cause, ref, actor, state, COALESCE(begun_at, deleted_at), deleted_at,
		recording_status, recording_bytes, sha256_deleted, sha256_metadata FROM tombstones `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	out := []server.Tombstone{}
	err = eachRow(rows, func(rows *sql.Rows) error {
		var (
			t                       server.Tombstone
			started, begun, deleted int64
			ended                   sql.NullInt64
		)
		if err := rows.Scan(&t.CallID, &started, &ended, &t.Rule, &t.Cause, &t.Ref, &t.Actor, &t.State, &begun, &deleted,
			&t.RecordingStatus, &t.RecordingBytes, &t.SHA256Recording, &t.SHA256Metadata); err != nil {
			return fmt.Errorf("tombstones: %w", err)
		}
		t.Started, t.Ended, t.Begun, t.Deleted = fromMS(started), fromNullMS(ended), fromMS(begun), fromMS(deleted)
		out = append(out, t)
		return nil
	})
	return out, err
}
