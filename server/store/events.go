package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/callguard/callguard/server"
)

// IngestResult says what happened to a batch of events.
type IngestResult struct {
	Accepted  int `json:"accepted"`  // stored now
	Duplicate int `json:"duplicate"` // stored before: resent, harmless
	// AckedSeq is the highest seq of the batch: every event of the batch is
	// stored, so the device may drop its copies through this seq.
	AckedSeq uint64 `json:"acked_seq"`
	// Gaps counts places where the device's seqs skipped numbers since the
	// previous batch or within this one; each is logged and counted on the
	// device, as it means the device lost events before sending them.
	Gaps int `json:"gaps"`
	// Calls are the calls the batch changed.
	Calls []string `json:"-"`
	// Redactions counts new flags whose interval is to be redacted at once
	// (card details): the server's worker takes them up.
	Redactions int `json:"-"`
}

// insertChunk is how many events one INSERT carries (9 parameters each).
const insertChunk = 200

// Ingest stores a batch of events from the device p in one transaction,
// ignoring events stored before (same id), and re-folds every call the new
// events touch. Events are stored with p's username as agent, whatever they
// claim: a device speaks only for its own account.
func (s *Store) Ingest(ctx context.Context, p server.Principal, events []server.Event) (IngestResult, error) {
	// Dedupe within the batch and sort by seq.
	seen := make(map[string]bool, len(events))
	batch := make([]server.Event, 0, len(events))
	dupInBatch := 0
	for _, e := range events {
		if seen[e.ID] {
			dupInBatch++
			continue
		}
		seen[e.ID] = true
		batch = append(batch, e)
	}
	sort.SliceStable(batch, func(i, j int) bool { return batch[i].Seq < batch[j].Seq })
	var res IngestResult
	if len(batch) == 0 {
		return res, nil
	}
	now := ms(s.now())
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res = IngestResult{Duplicate: dupInBatch}
		var prevAcked int64
		if err := s.queryRow(ctx, tx, `SELECT acked_seq FROM devices WHERE id = ?`, p.DeviceID).Scan(&prevAcked); err != nil {
			return fmt.Errorf("device %s: %w", p.DeviceID, err)
		}
		accepted := map[string]bool{}
		for start := 0; start < len(batch); start += insertChunk {
			chunk := batch[start:min(start+insertChunk, len(batch))]
			var q strings.Builder
			q.WriteString(`INSERT INTO events (id, device_id, seq, type, agent, call_id, at, received_at, body) VALUES `)
			args := make([]any, 0, len(chunk)*9)
			for i, e := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
				var callID any
				if e.CallID != "" {
					callID = e.CallID
				}
				body := e.Raw
				if len(body) == 0 {
					b, err := json.Marshal(e)
					if err != nil {
						return err
					}
					body = b
				}
				args = append(args, e.ID, p.DeviceID, int64(e.Seq), string(e.Type), p.Username, callID, ms(e.Time), now, string(body))
			}
			q.WriteString(` ON CONFLICT (id) DO NOTHING RETURNING id`)
			rows, err := s.query(ctx, tx, q.String(), args...)
			if err != nil {
				return fmt.Errorf("insert events: %w", err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				accepted[id] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("insert events: %w", err)
			}
		}
		res.Accepted = len(accepted)
		res.Duplicate += len(batch) - len(accepted)

		// Gaps: seqs the device skipped since its last batch or inside this one.
		last := uint64(prevAcked)
		for _, e := range batch {
			if last > 0 && e.Seq > last+1 {
				res.Gaps++
				s.log.Warn("device skipped event seqs", "device", p.DeviceID, "from", last+1, "to", e.Seq-1)
			}
			last = max(last, e.Seq)
		}
		res.AckedSeq = batch[len(batch)-1].Seq

		touched := map[string]bool{}
		for _, e := range batch {
			if e.CallID != "" && accepted[e.ID] && !touched[e.CallID] {
				touched[e.CallID] = true
				res.Calls = append(res.Calls, e.CallID)
			}
		}
		sort.Strings(res.Calls)
		for _, id := range res.Calls {
			n, err := s.refold(ctx, tx, p, id)
			if err != nil {
				return fmt.Errorf("call %s: %w", id, err)
			}
			res.Redactions += n
		}
		if _, err := s.exec(ctx, tx, `UPDATE devices SET last_seen = ?, seq_gaps = seq_gaps + ?, acked_seq = CASE WHEN acked_seq < ? THEN ? ELSE acked_seq END WHERE id = ?`,
			now, res.Gaps, int64(res.AckedSeq), int64(res.AckedSeq), p.DeviceID); err != nil {
			return fmt.Errorf("device %s: %w", p.DeviceID, err)
		}
		return nil
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest %d events: %w", len(batch), err)
	}
	return res, nil
}

// refold rebuilds one call from all its events of p's account, writes the
// calls row, its flags and declined item, and applies retention. It
// returns how many new flags wait for an immediate redaction.
func (s *Store) refold(ctx context.Context, tx *sql.Tx, p server.Principal, callID string) (int, error) {
	var (
		owner  string
		erased sql.NullInt64
	)
	err := s.queryRow(ctx, tx, `SELECT agent, personal_deleted_at FROM calls WHERE id = ?`, callID).Scan(&owner, &erased)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// A recording that came without its call was deleted with a
		// tombstone: its late events must not make a call of it again.
		var n int
		if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM tombstones WHERE call_id = ?`, callID).Scan(&n); err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, s.blankEvents(ctx, tx, callID)
		}
	case err != nil:
		return 0, err
	case owner != p.Username:
		s.log.Warn("events for another agent's call ignored", "call", callID, "device", p.DeviceID)
		return 0, nil
	case erased.Valid:
		// Retention erased this call's personal data: a late event must not
		// bring it back, not even in the events table.
		return 0, s.blankEvents(ctx, tx, callID)
	}
	rows, err := s.query(ctx, tx, `SELECT body, device_id FROM events WHERE call_id = ? AND agent = ? ORDER BY seq`, callID, p.Username)
	if err != nil {
		return 0, err
	}
	var evs []server.Event
	for rows.Next() {
		var body, device string
		if err := rows.Scan(&body, &device); err != nil {
			rows.Close()
			return 0, err
		}
		var e server.Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			rows.Close()
			return 0, fmt.Errorf("stored event: %w", err)
		}
		e.Device = device
		evs = append(evs, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	c := server.FoldCall(callID, evs)
	c.Agent = p.Username
	if c.Device == "" {
		c.Device = p.DeviceID
	}
	pauses, err := json.Marshal(c.Pauses)
	if err != nil {
		return 0, err
	}
	if c.Pauses == nil {
		pauses = []byte("[]")
	}
	// Retention (flag_reasons, retention_rule, delete_after) is set by
	// reapply below, from the review state of the call's items.
	_, err = s.exec(ctx, tx, `INSERT INTO calls (id, device_id, agent, direction, local_number, local_name, remote_number, remote_name, sip_call_id,
		started_at, answered_at, ended_at, recorded, state, state_reason, notice, declined, is_excluded, failed, pauses, paused_ms,
		flag_reasons, flag_count, retention_rule, delete_after, event_count, updated_at, remote_key, declined_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, '', NULL, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET device_id = excluded.device_id, direction = excluded.direction,
		local_number = excluded.local_number, local_name = excluded.local_name, remote_number = excluded.remote_number,
		remote_name = excluded.remote_name, sip_call_id = excluded.sip_call_id, started_at = excluded.started_at,
		answered_at = excluded.answered_at, ended_at = excluded.ended_at, recorded = excluded.recorded, state = excluded.state,
		state_reason = excluded.state_reason, notice = excluded.notice, declined = excluded.declined, is_excluded = excluded.is_excluded,
		failed = excluded.failed, pauses = excluded.pauses, paused_ms = excluded.paused_ms,
		event_count = excluded.event_count, updated_at = excluded.updated_at, remote_key = excluded.remote_key, declined_at = excluded.declined_at`,
		c.ID, c.Device, c.Agent, c.Direction, c.Local.Number, c.Local.Name, c.Remote.Number, c.Remote.Name, c.SIPCallID,
		ms(c.Started), msPtr(c.Answered), msPtr(c.Ended), c.Recorded, c.State, c.StateReason, c.Notice, c.Declined, c.Excluded,
		c.Failed, string(pauses), c.PausedMS, c.Events, ms(s.now()), server.NumberKey(c.Remote.Number), msPtr(c.DeclinedAt))
	if err != nil {
		return 0, fmt.Errorf("write call: %w", err)
	}
	now := ms(s.now())
	redactions := 0
	for _, f := range c.Flags {
		state, pending := server.ReviewOpen, ""
		if s.redactNow(f) {
			state, pending = server.ReviewRedactionPending, server.PendingNoRecording
		}
		res, err := s.exec(ctx, tx, `INSERT INTO call_flags (event_id, call_id, agent, reason, note, from_ms, to_ms, at, review_state, pending, kind, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'flag', ?) ON CONFLICT (event_id) DO NOTHING`,
			f.EventID, c.ID, c.Agent, f.Reason, f.Note, nullInt(f.FromMS), nullInt(f.ToMS), ms(f.At), state, pending, now)
		if err != nil {
			return 0, fmt.Errorf("write flag: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 && state == server.ReviewRedactionPending {
			redactions++
		}
	}
	if c.Declined && c.Recorded {
		note := "the caller objected to being recorded"
		if c.Notice != "objected" {
			note = "the call went to declined: nothing more was recorded"
		}
		at := c.Updated
		if c.DeclinedAt != nil {
			at = *c.DeclinedAt
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO call_flags (event_id, call_id, agent, reason, note, at, review_state, kind, updated_at)
			VALUES (?, ?, ?, 'declined', ?, ?, 'open', 'declined', ?) ON CONFLICT (event_id) DO NOTHING`,
			declinedItem(c.ID), c.ID, c.Agent, note, ms(at), now); err != nil {
			return 0, fmt.Errorf("write declined item: %w", err)
		}
	}
	if err := s.reapply(ctx, tx, c.ID); err != nil {
		return 0, err
	}
	return redactions, nil
}

// declinedItem is the review item id of a declined call. Event ids have no
// ':', so it never collides with a flag's.
func declinedItem(callID string) string { return "declined:" + callID }

// redactNow reports whether a flag's interval is redacted at once.
func (s *Store) redactNow(f server.Flag) bool {
	if s.pol == nil || f.FromMS == nil || f.ToMS == nil || *f.ToMS <= *f.FromMS {
		return false
	}
	r := s.pol.FlagReason(f.Reason)
	return r != nil && r.RedactNow
}

// blankEvents empties the stored bodies of a deleted call's events; their
// ids stay, so a resend is still recognised.
func (s *Store) blankEvents(ctx context.Context, q querier, callIDs ...string) error {
	for start := 0; start < len(callIDs); start += inChunk {
		part := callIDs[start:min(start+inChunk, len(callIDs))]
		ph, args := inList(part)
		if _, err := s.exec(ctx, q, `UPDATE events SET body = '{}' WHERE call_id IN (`+ph+`) AND body <> '{}'`, args...); err != nil {
			return fmt.Errorf("blank events: %w", err)
		}
	}
	return nil
}

// inChunk is how many ids one IN (…) list carries.
const inChunk = 500

// inList returns "?, ?, …" for ids and the ids as arguments.
func inList[T any](ids []T) (string, []any) {
	ph := strings.Repeat("?, ", len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(ph, ", "), args
}

func nullInt(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

// EventCount returns how many events the device stored, and how many
// distinct seqs they cover: tests use it to prove nothing was lost or
// doubled.
func (s *Store) EventCount(ctx context.Context, deviceID string) (events, seqs int, err error) {
	err = s.queryRow(ctx, s.db, `SELECT COUNT(*), COUNT(DISTINCT seq) FROM events WHERE device_id = ?`, deviceID).Scan(&events, &seqs)
	if err != nil {
		return 0, 0, fmt.Errorf("count events: %w", err)
	}
	return events, seqs, nil
}
