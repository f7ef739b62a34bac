package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/callguard/callguard/server"
)

// AuditHash is the hash of an audit record: sha256 over the previous
// record's hash and this record's fields, in a fixed order.
func AuditHash(prevHash string, r server.AuditRecord) string {
	h := sha256.New()
	fields, _ := json.Marshal([]string{prevHash, strconv.FormatInt(r.Seq, 10), strconv.FormatInt(r.At.UnixMilli(), 10),
		r.Actor, r.Device, r.Action, r.Target, r.Detail})
	h.Write(fields)
	return hex.EncodeToString(h.Sum(nil))
}

// Audit appends a record to the audit log, chaining it to the last one.
// r.Detail must be a JSON object or empty; Seq, At and the hashes are set here.
func (s *Store) Audit(ctx context.Context, r server.AuditRecord) error {
	if r.Detail == "" {
		r.Detail = "{}"
	}
	if !json.Valid([]byte(r.Detail)) {
		return fmt.Errorf("audit %s: detail is not JSON: %w", r.Action, server.ErrInvalid)
	}
	r.At = fromMS(ms(s.now()))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect == PostgreSQL {
			// Writers on every instance take turns, so the chain never forks
			// and nobody has to retry.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7465002)`); err != nil {
				return err
			}
		}
		var (
			last int64
			prev string
		)
		err := s.queryRow(ctx, tx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&last, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		r.Seq, r.PrevHash = last+1, prev
		r.Hash = AuditHash(prev, r)
		_, err = s.exec(ctx, tx, `INSERT INTO audit (seq, at, actor, device_id, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Seq, ms(r.At), r.Actor, r.Device, r.Action, r.Target, r.Detail, r.PrevHash, r.Hash)
		if isUnique(err) {
			// Another writer took this seq: read the new tail and try again.
			return errRetry
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", r.Action, err)
	}
	return nil
}

// AuditLog returns up to limit records after seq, oldest first.
func (s *Store) AuditLog(ctx context.Context, afterSeq int64, limit int) ([]server.AuditRecord, error) {
	rows, err := s.query(ctx, s.db, `SELECT seq, at, actor, device_id, action, target, detail, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	var out []server.AuditRecord
	for rows.Next() {
		var (
			r  server.AuditRecord
			at int64
		)
		if err := rows.Scan(&r.Seq, &at, &r.Actor, &r.Device, &r.Action, &r.Target, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		r.At = fromMS(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ErrAuditBroken is returned by VerifyAudit when the chain is broken.
var ErrAuditBroken = errors.New("audit chain broken")

// VerifyAudit walks the whole audit chain and returns the seq of the first
// record whose hash or link does not match, with ErrAuditBroken; 0 and nil
// when the chain is whole.
func (s *Store) VerifyAudit(ctx context.Context) (int64, error) {
	var (
		after int64
		prev  string
	)
	for {
		recs, err := s.AuditLog(ctx, after, 1000)
		if err != nil {
			return 0, err
		}
		if len(recs) == 0 {
			return 0, nil
		}
		for _, r := range recs {
			if r.Seq != after+1 || r.PrevHash != prev || AuditHash(prev, r) != r.Hash {
				return r.Seq, fmt.Errorf("record %d: %w", r.Seq, ErrAuditBroken)
			}
			after, prev = r.Seq, r.Hash
		}
	}
}
