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
	"github.com/callguard/callguard/wire"
)

// IngestResult says what happened to a batch of events.
type IngestResult struct {
	// Results has one answer per event given, in their order.
	Results   []wire.EventResult
	Accepted  int // stored and applied now
	Duplicate int // stored before: resent, harmless
	Discarded int // not applied: its call was deleted on the server
	Refused   int // never accepted (see the result's Reason)
	// AckedSeq is the highest seq through which every event of the batch
	// is stored (accepted, duplicate or discarded): what a desktop that
	// does not read Results may drop.
	AckedSeq uint64
	// Gaps counts places where the device's seqs skipped numbers since the
	// previous batch or within this one; each is logged and counted on the
	// device, as it means the device lost events before sending them.
	Gaps int
	// Calls are the server's ids of the calls the batch changed.
	Calls []string
	// Applied are the events accepted now, in seq order (the live board
	// follows them).
	Applied []server.Event
	// Redactions counts new flags whose interval is to be redacted at once
	// (card details): the server's worker takes them up.
	Redactions int
}

// Reply is the result as the API answers it.
func (r IngestResult) Reply() wire.IngestReply {
	res := r.Results
	if res == nil {
		res = []wire.EventResult{}
	}
	return wire.IngestReply{Accepted: r.Accepted, Duplicate: r.Duplicate, Discarded: r.Discarded, Refused: r.Refused,
		AckedSeq: r.AckedSeq, Gaps: r.Gaps, Results: res}
}

// insertChunk is how many events one INSERT carries (9 parameters each).
const insertChunk = 200

// Ingest stores a batch of valid events from the device p: IngestBatch
// without refusals made while decoding.
func (s *Store) Ingest(ctx context.Context, p server.Principal, events []server.Event) (IngestResult, error) {
	items := make([]server.BatchItem, len(events))
	for i, e := range events {
		items[i].Event = e
	}
	return s.IngestBatch(ctx, p, items)
}

// errNotAWriter: only agents' desktops write calls.
var errNotAWriter = fmt.Errorf("only an agent's desktop sends events: %w", server.ErrForbidden)

// IngestBatch stores a batch of events from the device p in one
// transaction and answers each event on its own: one that broke the
// contract while decoding (its Err), reuses an id another account used,
// or would take its call past wire.MaxEventsPerCall is refused, and the
// others go on. Events stored before (same id, same account) are
// duplicates; events of a call deleted on the server are discarded (only
// their ids are kept, so a resend is recognised). Events are stored with
// p's username as agent, whatever they claim, and each call is found by
// its owner and the desktop's id for it (see call_keys): a device speaks
// only for its own account and into its own calls. Only agents write.
func (s *Store) IngestBatch(ctx context.Context, p server.Principal, items []server.BatchItem) (IngestResult, error) {
	if p.Role != server.RoleAgent {
		return IngestResult{}, errNotAWriter
	}
	var res IngestResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = s.ingestTx(ctx, tx, p, items)
		return err
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest %d events: %w", len(items), err)
	}
	return res, nil
}

// pendingEvent is an event of the batch on its way in.
type pendingEvent struct {
	i int // its index in the batch
	e server.Event
}

func (s *Store) ingestTx(ctx context.Context, tx *sql.Tx, p server.Principal, items []server.BatchItem) (IngestResult, error) {
	res := IngestResult{Results: make([]wire.EventResult, len(items))}
	set := func(i int, st wire.EventStatus, reason string) {
		res.Results[i].Status, res.Results[i].Reason = st, reason
	}
	var cands []pendingEvent
	first := map[string]int{}
	for i, it := range items {
		res.Results[i].ID, res.Results[i].Seq = it.Event.ID, it.Event.Seq
		_, dup := first[it.Event.ID]
		switch {
		case it.Err != nil:
			set(i, wire.Refused, refusal(it.Err))
		case dup:
			set(i, wire.Duplicate, "") // settled below, with its first copy
		default:
			first[it.Event.ID] = i
			e := it.Event
			e.Device, e.Agent = p.DeviceID, p.Username
			cands = append(cands, pendingEvent{i, e})
		}
	}
	// Ids stored before: a resend of ours, or another account's id.
	stored, err := s.eventOwners(ctx, tx, cands)
	if err != nil {
		return res, err
	}
	fresh := cands[:0:0]
	for _, c := range cands {
		switch owner, ok := stored[c.e.ID]; {
		case !ok:
			fresh = append(fresh, c)
		case owner == p.Username:
			set(c.i, wire.Duplicate, "")
		default:
			set(c.i, wire.Refused, "event id "+c.e.ID+" is already used by another account's event")
		}
	}
	sort.SliceStable(fresh, func(a, b int) bool { return fresh[a].e.Seq < fresh[b].e.Seq })

	// Each call's events, against what the call holds already.
	calls := map[string]*callBatch{}
	var order []string
	for _, c := range fresh {
		if c.e.CallID == "" {
			continue
		}
		cb := calls[c.e.CallID]
		if cb == nil {
			if cb, err = s.openCallBatch(ctx, tx, p.Username, c.e.CallID); err != nil {
				return res, err
			}
			calls[c.e.CallID] = cb
			order = append(order, c.e.CallID)
		}
		if cb.count >= wire.MaxEventsPerCall {
			set(c.i, wire.Refused, fmt.Sprintf("call %s has %d events, the most the server keeps for one call", c.e.CallID, wire.MaxEventsPerCall))
			continue
		}
		cb.count++
		cb.events = append(cb.events, c)
	}
	var keep []pendingEvent
	for _, c := range fresh {
		if res.Results[c.i].Status == "" {
			keep = append(keep, c)
		}
	}
	inserted, err := s.insertEvents(ctx, tx, p, keep)
	if err != nil {
		return res, err
	}
	for _, c := range keep {
		if !inserted[c.e.ID] {
			// Another request stored the same id meanwhile (another
			// server instance): whose it is decides.
			owner, err := s.eventOwners(ctx, tx, []pendingEvent{c})
			if err != nil {
				return res, err
			}
			if owner[c.e.ID] == p.Username {
				set(c.i, wire.Duplicate, "")
			} else {
				set(c.i, wire.Refused, "event id "+c.e.ID+" is already used by another account's event")
			}
			continue
		}
		set(c.i, wire.Accepted, "")
	}
	for _, ref := range order {
		cb := calls[ref]
		var evs []server.Event
		for _, c := range cb.events {
			if inserted[c.e.ID] {
				evs = append(evs, c.e)
			}
		}
		if len(evs) == 0 {
			continue
		}
		if cb.gone {
			// Retention or an erasure deleted this call: a late event must
			// not bring it back, not even in the events table.
			if err := s.blankEvents(ctx, tx, cb.id); err != nil {
				return res, err
			}
			for _, c := range cb.events {
				if res.Results[c.i].Status == wire.Accepted {
					set(c.i, wire.Discarded, "the call was deleted on the server")
				}
			}
			continue
		}
		n, err := s.refold(ctx, tx, cb, evs)
		if err != nil {
			return res, fmt.Errorf("call %s: %w", cb.id, err)
		}
		// Events after the recording was stored (a flag raised once the
		// call ended) change its measures: it is scored again.
		if _, err := s.exec(ctx, tx, `INSERT INTO scoring_queue (call_id, queued_at) SELECT call_id, ? FROM recordings WHERE call_id = ? AND status = 'stored'
			ON CONFLICT (call_id) DO NOTHING`, ms(s.now()), cb.id); err != nil {
			return res, fmt.Errorf("call %s: queue for scoring: %w", cb.id, err)
		}
		res.Redactions += n
		res.Calls = append(res.Calls, cb.id)
	}
	sort.Strings(res.Calls)
	// A copy of an id within the batch shares its first copy's fate.
	for i, it := range items {
		if j, ok := first[it.Event.ID]; ok && j != i && it.Err == nil {
			switch st := res.Results[j].Status; st {
			case wire.Refused:
				set(i, st, res.Results[j].Reason)
			case wire.Discarded:
				set(i, st, res.Results[j].Reason)
			default:
				set(i, wire.Duplicate, "")
			}
		}
	}
	for _, c := range keep {
		if res.Results[c.i].Status == wire.Accepted {
			res.Applied = append(res.Applied, c.e)
		}
	}
	s.tally(&res)

	var prevAcked int64
	if err := s.queryRow(ctx, tx, `SELECT acked_seq FROM devices WHERE id = ?`, p.DeviceID).Scan(&prevAcked); err != nil {
		return res, fmt.Errorf("device %s: %w", p.DeviceID, err)
	}
	// Gaps: seqs the device skipped since its last batch or inside this
	// one. A refused event was not lost: its seq counts as heard.
	seqs := make([]uint64, 0, len(items))
	for _, r := range res.Results {
		if r.Seq > 0 {
			seqs = append(seqs, r.Seq)
		}
	}
	sort.Slice(seqs, func(a, b int) bool { return seqs[a] < seqs[b] })
	// Refusals are counted on the device once: a batch sent again (by a
	// desktop that does not keep refused events aside) adds nothing.
	refusedNew := 0
	for _, r := range res.Results {
		if r.Status == wire.Refused && (r.Seq == 0 || r.Seq > uint64(prevAcked)) {
			refusedNew++
		}
	}
	last, heard := uint64(prevAcked), uint64(prevAcked)
	for _, q := range seqs {
		if last > 0 && q > last+1 {
			res.Gaps++
			s.log.Warn("device skipped event seqs", "device", p.DeviceID, "from", last+1, "to", q-1)
		}
		last = max(last, q)
		heard = max(heard, q)
	}
	if _, err := s.exec(ctx, tx, `UPDATE devices SET last_seen = ?, seq_gaps = seq_gaps + ?, refused_events = refused_events + ?,
		acked_seq = CASE WHEN acked_seq < ? THEN ? ELSE acked_seq END WHERE id = ?`,
		ms(s.now()), res.Gaps, refusedNew, int64(heard), int64(heard), p.DeviceID); err != nil {
		return res, fmt.Errorf("device %s: %w", p.DeviceID, err)
	}
	return res, nil
}

// tally counts the results and sets AckedSeq: the highest seq below the
// first refused one.
func (s *Store) tally(res *IngestResult) {
	var lowRefused uint64
	for _, r := range res.Results {
		switch r.Status {
		case wire.Accepted:
			res.Accepted++
		case wire.Duplicate:
			res.Duplicate++
		case wire.Discarded:
			res.Discarded++
		case wire.Refused:
			res.Refused++
			if r.Seq > 0 && (lowRefused == 0 || r.Seq < lowRefused) {
				lowRefused = r.Seq
			}
		}
	}
	for _, r := range res.Results {
		if r.Status != wire.Refused && (lowRefused == 0 || r.Seq < lowRefused) {
			res.AckedSeq = max(res.AckedSeq, r.Seq)
		}
	}
}

// refusal is an event's refusal in words, without the sentinel's.
func refusal(err error) string {
	msg := strings.TrimSuffix(err.Error(), ": "+server.ErrInvalid.Error())
	return strings.ReplaceAll(msg, "\n", "; ")
}

// eventOwners returns who stored each of evs' ids before, by id.
func (s *Store) eventOwners(ctx context.Context, q querier, evs []pendingEvent) (map[string]string, error) {
	out := map[string]string{}
	for start := 0; start < len(evs); start += inChunk {
		part := evs[start:min(start+inChunk, len(evs))]
		ids := make([]string, len(part))
		for i, c := range part {
			ids[i] = c.e.ID
		}
		ph, args := inList(ids)
		rows, err := s.query(ctx, q, `SELECT id, agent FROM events WHERE id IN (`+ph+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("stored events: %w", err)
		}
		for rows.Next() {
			var id, agent string
			if err := rows.Scan(&id, &agent); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = agent
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("stored events: %w", err)
		}
	}
	return out, nil
}

// insertEvents stores evs for p and returns the ids inserted now.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, p server.Principal, evs []pendingEvent) (map[string]bool, error) {
	inserted := map[string]bool{}
	now := ms(s.now())
	for start := 0; start < len(evs); start += insertChunk {
		chunk := evs[start:min(start+insertChunk, len(evs))]
		var q strings.Builder
		q.WriteString(`INSERT INTO events (id, device_id, seq, type, agent, call_id, at, received_at, body) VALUES `)
		args := make([]any, 0, len(chunk)*9)
		for i, c := range chunk {
			e := c.e
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
					return nil, err
				}
				body = b
			}
			args = append(args, e.ID, p.DeviceID, int64(e.Seq), string(e.Type), p.Username, callID, ms(e.Time), now, string(body))
		}
		q.WriteString(` ON CONFLICT (id) DO NOTHING RETURNING id`)
		rows, err := s.query(ctx, tx, q.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			inserted[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
	}
	return inserted, nil
}

// callBatch is one call's share of a batch.
type callBatch struct {
	agent, ref string // the owner and the desktop's id for the call
	id         string // the server's id
	exists     bool   // the call has a row
	gone       bool   // deleted on the server: events are discarded
	count      int    // events the call holds, with those of this batch kept so far
	fold       string // the stored server.Fold, "" if none
	received   sql.NullInt64
	events     []pendingEvent
}

// openCallBatch finds (or makes) the call agent's desktop calls ref, and
// what it holds.
func (s *Store) openCallBatch(ctx context.Context, tx *sql.Tx, agent, ref string) (*callBatch, error) {
	id, made, err := s.callKey(ctx, tx, agent, ref, true)
	if err != nil {
		return nil, err
	}
	cb := &callBatch{agent: agent, ref: ref, id: id}
	if made {
		return cb, nil // a call never seen: nothing stored for it yet
	}
	var erased sql.NullInt64
	err = s.queryRow(ctx, tx, `SELECT event_count, fold, received_at, personal_deleted_at FROM calls WHERE id = ?`, id).
		Scan(&cb.count, &cb.fold, &cb.received, &erased)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// A recording that came without its call was deleted with a
		// tombstone: its late events must not make a call of it again.
		var n int
		if err := s.queryRow(ctx, tx, `SELECT (SELECT COUNT(*) FROM tombstones WHERE call_id = ?), (SELECT COUNT(*) FROM events WHERE call_id = ? AND agent = ?)`,
			id, ref, agent).Scan(&n, &cb.count); err != nil {
			return nil, err
		}
		cb.gone = n > 0
	case err != nil:
		return nil, err
	default:
		cb.exists, cb.gone = true, erased.Valid
	}
	return cb, nil
}

// refold brings the call of cb up to date with its new events evs (stored
// already): on top of its stored fold when every one comes after the
// events folded (higher seqs), else from all its events. It writes the
// calls row, its flags and declined item, and applies retention. It
// returns how many new flags wait for an immediate redaction.
func (s *Store) refold(ctx context.Context, tx *sql.Tx, cb *callBatch, evs []server.Event) (int, error) {
	evs = server.SortBySeq(evs)
	var f *server.Fold
	received := ms(s.now())
	if cb.received.Valid {
		received = cb.received.Int64
	}
	if cb.exists && cb.fold != "" {
		var kept server.Fold
		if err := json.Unmarshal([]byte(cb.fold), &kept); err == nil && evs[0].Seq > kept.LastSeq {
			f = &kept
		}
	}
	var flags []server.Flag
	if f != nil {
		for _, e := range evs {
			f.Apply(e)
		}
	} else {
		// Out of order (or no fold kept yet): every event of the call again.
		all, first, err := s.callEvents(ctx, tx, cb.agent, cb.ref)
		if err != nil {
			return 0, err
		}
		received = min(received, first)
		f = server.NewFold(cb.id)
		seen := map[string]bool{}
		for _, e := range all {
			if !seen[e.ID] {
				seen[e.ID] = true
				f.Apply(e)
			}
		}
	}
	c := f.Call()
	flags = c.Flags
	c.ID, c.DesktopID, c.Agent = cb.id, cb.ref, cb.agent
	countedFrom, skewed := server.CountFrom(c.Started, fromMS(received), s.skew)
	f.State.Flags = nil
	fold, err := json.Marshal(f)
	if err != nil {
		return 0, err
	}
	pauses, err := json.Marshal(c.Pauses)
	if err != nil {
		return 0, err
	}
	if c.Pauses == nil {
		pauses = []byte("[]")
	}
	keypad, err := json.Marshal(c.KeypadMasks)
	if err != nil {
		return 0, err
	}
	if c.KeypadMasks == nil {
		keypad = []byte("[]")
	}
	// Retention (flag_reasons, retention_rule, delete_after) is set by
	// reapply below, from the review state of the call's items.
	_, err = s.exec(ctx, tx, `INSERT INTO calls (id, device_id, agent, direction, local_number, local_name, remote_number, remote_name, sip_call_id,
		started_at, answered_at, ended_at, recorded, state, state_reason, notice, declined, is_excluded, failed, pauses, paused_ms,
		flag_reasons, flag_count, retention_rule, delete_after, event_count, updated_at, remote_key, declined_at,
		received_at, counted_from, clock_skew, fold, remote_e164, local_e164, keypad_masked, keypad_masks)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, '', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET device_id = excluded.device_id, direction = excluded.direction,
		local_number = excluded.local_number, local_name = excluded.local_name, remote_number = excluded.remote_number,
		remote_name = excluded.remote_name, sip_call_id = excluded.sip_call_id, started_at = excluded.started_at,
		answered_at = excluded.answered_at, ended_at = excluded.ended_at, recorded = excluded.recorded, state = excluded.state,
		state_reason = excluded.state_reason, notice = excluded.notice, declined = excluded.declined, is_excluded = excluded.is_excluded,
		failed = excluded.failed, pauses = excluded.pauses, paused_ms = excluded.paused_ms,
		event_count = excluded.event_count, updated_at = excluded.updated_at, remote_key = excluded.remote_key, declined_at = excluded.declined_at,
		received_at = excluded.received_at, counted_from = excluded.counted_from, clock_skew = excluded.clock_skew, fold = excluded.fold,
		remote_e164 = excluded.remote_e164, local_e164 = excluded.local_e164,
		keypad_masked = excluded.keypad_masked, keypad_masks = excluded.keypad_masks`,
		c.ID, c.Device, c.Agent, c.Direction, c.Local.Number, c.Local.Name, c.Remote.Number, c.Remote.Name, c.SIPCallID,
		ms(c.Started), msPtr(c.Answered), msPtr(c.Ended), c.Recorded, c.State, c.StateReason, c.Notice, c.Declined, c.Excluded,
		c.Failed, string(pauses), c.PausedMS, c.Events, ms(s.now()), server.NumberKey(c.Remote.Number), msPtr(c.DeclinedAt),
		received, ms(countedFrom), skewed, string(fold), server.E164OrEmpty(c.Remote.Number), server.E164OrEmpty(c.Local.Number),
		c.KeypadMasked, string(keypad))
	if err != nil {
		return 0, fmt.Errorf("write call: %w", err)
	}
	now := ms(s.now())
	redactions := 0
	for _, fl := range flags {
		state, pending := server.ReviewOpen, ""
		if s.redactNow(fl) {
			state, pending = server.ReviewRedactionPending, server.PendingNoRecording
		}
		res, err := s.exec(ctx, tx, `INSERT INTO call_flags (event_id, call_id, agent, reason, note, from_ms, to_ms, at, review_state, pending, kind, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'flag', ?) ON CONFLICT (event_id) DO NOTHING`,
			fl.EventID, c.ID, c.Agent, fl.Reason, fl.Note, nullInt(fl.FromMS), nullInt(fl.ToMS), ms(fl.At), state, pending, now)
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

// callEvents returns every stored event agent's desktop sent for its call
// ref, in seq order, and when the first of them arrived.
func (s *Store) callEvents(ctx context.Context, q querier, agent, ref string) ([]server.Event, int64, error) {
	rows, err := s.query(ctx, q, `SELECT body, device_id, received_at FROM events WHERE call_id = ? AND agent = ? ORDER BY seq`, ref, agent)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var (
		evs   []server.Event
		first int64
	)
	for rows.Next() {
		var (
			body, device string
			received     int64
		)
		if err := rows.Scan(&body, &device, &received); err != nil {
			return nil, 0, err
		}
		if first == 0 || received < first {
			first = received
		}
		var e server.Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return nil, 0, fmt.Errorf("stored event: %w", err)
		}
		e.Device = device
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if first == 0 {
		first = ms(s.now())
	}
	return server.SortBySeq(evs), first, nil
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

// blankEvents empties the stored bodies of the events of deleted calls
// (by the server's ids); their ids stay, so a resend is still recognised.
func (s *Store) blankEvents(ctx context.Context, q querier, callIDs ...string) error {
	for start := 0; start < len(callIDs); start += inChunk {
		part := callIDs[start:min(start+inChunk, len(callIDs))]
		ph, args := inList(part)
		rows, err := s.query(ctx, q, `SELECT agent, call_ref FROM call_keys WHERE call_id IN (`+ph+`)`, args...)
		if err != nil {
			return fmt.Errorf("blank events: %w", err)
		}
		var keys [][2]string
		for rows.Next() {
			var k [2]string
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				rows.Close()
				return fmt.Errorf("blank events: %w", err)
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("blank events: %w", err)
		}
		for _, k := range keys {
			if _, err := s.exec(ctx, q, `UPDATE events SET body = '{}' WHERE call_id = ? AND agent = ? AND body <> '{}'`, k[1], k[0]); err != nil {
				return fmt.Errorf("blank events: %w", err)
			}
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
