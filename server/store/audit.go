package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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

// CheckpointMessage is what a checkpoint's signature covers.
func CheckpointMessage(seq int64, hash string, at time.Time) []byte {
	return fmt.Appendf(nil, "callguard audit checkpoint v1\nseq=%d\nhash=%s\nat=%d\n", seq, hash, at.UnixMilli())
}

// WithAuditKey signs a checkpoint of the audit chain with key every
// `every` records (0: only on demand, see Checkpoint).
func WithAuditKey(key ed25519.PrivateKey, every int) Option {
	return func(s *Store) { s.auditKey, s.checkpointEvery = key, every }
}

// SetAuditKey is WithAuditKey for a store already open; call it before
// the store is used.
func (s *Store) SetAuditKey(key ed25519.PrivateKey, every int) {
	s.auditKey, s.checkpointEvery = key, every
}

// Checkpoint errors.
var (
	// ErrNoAuditKey: a checkpoint was asked for but the store has no signing key.
	ErrNoAuditKey = errors.New("no audit signing key: checkpoints cannot be signed")
	// ErrAuditEmpty: a checkpoint was asked for but the audit log has no
	// record yet, so there is nothing to sign.
	ErrAuditEmpty = errors.New("the audit log is empty: there is nothing to sign yet")
)

// Audit appends a record to the audit log, chaining it to the last one.
// r.Detail must be a JSON object or empty; Seq, At and the hashes are set
// here. Inside Tx it joins the transaction, so the record commits with the
// read or change it records. Its errors wrap server.ErrAuditFailed.
func (s *Store) Audit(ctx context.Context, r server.AuditRecord) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error { return s.auditTx(ctx, tx, r) })
	if err != nil {
		return fmt.Errorf("audit %s: %w: %w", r.Action, server.ErrAuditFailed, err)
	}
	return nil
}

// auditTx appends r inside tx, so a change and its audit record commit
// together; every checkpointEvery records it also signs a checkpoint.
func (s *Store) auditTx(ctx context.Context, tx *sql.Tx, r server.AuditRecord) error {
	if r.Detail == "" {
		r.Detail = "{}"
	}
	if !json.Valid([]byte(r.Detail)) {
		return fmt.Errorf("audit %s: detail is not JSON: %w", r.Action, server.ErrInvalid)
	}
	r.At = fromMS(ms(s.now()))
	last, prev, err := s.auditTail(ctx, tx)
	if err != nil {
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
	if err != nil {
		return err
	}
	if s.auditKey != nil && s.checkpointEvery > 0 && r.Seq%int64(s.checkpointEvery) == 0 {
		return s.signCheckpoint(ctx, tx, r.Seq, r.Hash)
	}
	return nil
}

// auditTail returns the last record's seq and hash. On PostgreSQL it first
// takes the audit lock for the transaction, so writers on every instance
// take turns and the chain never forks.
func (s *Store) auditTail(ctx context.Context, tx *sql.Tx) (int64, string, error) {
	if s.dialect == PostgreSQL {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7465002)`); err != nil {
			return 0, "", err
		}
	}
	var (
		last int64
		prev string
	)
	err := s.queryRow(ctx, tx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, "", err
	}
	return last, prev, nil
}

func (s *Store) signCheckpoint(ctx context.Context, tx *sql.Tx, seq int64, hash string) error {
	at := fromMS(ms(s.now()))
	sig := ed25519.Sign(s.auditKey, CheckpointMessage(seq, hash, at))
	pub := s.auditKey.Public().(ed25519.PublicKey)
	_, err := s.exec(ctx, tx, `INSERT INTO audit_checkpoints (seq, hash, at, public_key, signature) VALUES (?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING`,
		seq, hash, ms(at), hex.EncodeToString(pub), hex.EncodeToString(sig))
	return err
}

// Checkpoint signs a checkpoint of the audit chain as it stands now (if the
// last record has none yet) and returns it. With no audit record yet there
// is nothing to sign: it returns ErrAuditEmpty.
func (s *Store) Checkpoint(ctx context.Context) (server.AuditCheckpoint, error) {
	if s.auditKey == nil {
		return server.AuditCheckpoint{}, ErrNoAuditKey
	}
	var seq int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		last, hash, err := s.auditTail(ctx, tx)
		if err != nil {
			return err
		}
		if last == 0 {
			return ErrAuditEmpty
		}
		seq = last
		return s.signCheckpoint(ctx, tx, last, hash)
	})
	if err != nil {
		return server.AuditCheckpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	cps, err := s.checkpoints(ctx, `WHERE seq = ?`, seq)
	if err != nil {
		return server.AuditCheckpoint{}, fmt.Errorf("audit checkpoint at %d: %w", seq, err)
	}
	if len(cps) == 0 {
		return server.AuditCheckpoint{}, fmt.Errorf("audit checkpoint at %d: signed but not found", seq)
	}
	return cps[0], nil
}

// CatchUpCheckpoint signs a checkpoint at the end of the chain when at
// least checkpointEvery records (written, say, by a command without the
// key) have none after them. It reports whether it signed one.
func (s *Store) CatchUpCheckpoint(ctx context.Context) (bool, error) {
	if s.auditKey == nil || s.checkpointEvery <= 0 {
		return false, nil
	}
	var last, cp sql.NullInt64
	if err := s.queryRow(ctx, s.db, `SELECT (SELECT MAX(seq) FROM audit), (SELECT MAX(seq) FROM audit_checkpoints)`).Scan(&last, &cp); err != nil {
		return false, fmt.Errorf("audit checkpoint: %w", err)
	}
	if last.Int64-cp.Int64 < int64(s.checkpointEvery) {
		return false, nil
	}
	_, err := s.Checkpoint(ctx)
	return err == nil, err
}

// LastAuditSeq returns the seq of the last audit record (0: none yet).
func (s *Store) LastAuditSeq(ctx context.Context) (int64, error) {
	var last sql.NullInt64
	if err := s.queryRow(ctx, s.db, `SELECT MAX(seq) FROM audit`).Scan(&last); err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	return last.Int64, nil
}

// CheckpointIfUnsigned signs a checkpoint at the end of the chain when the
// last record has none; it reports whether it signed one.
func (s *Store) CheckpointIfUnsigned(ctx context.Context) (bool, error) {
	if s.auditKey == nil {
		return false, nil
	}
	var last, cp sql.NullInt64
	if err := s.queryRow(ctx, s.db, `SELECT (SELECT MAX(seq) FROM audit), (SELECT MAX(seq) FROM audit_checkpoints)`).Scan(&last, &cp); err != nil {
		return false, fmt.Errorf("audit checkpoint: %w", err)
	}
	if last.Int64 == 0 || last.Int64 <= cp.Int64 {
		return false, nil
	}
	_, err := s.Checkpoint(ctx)
	return err == nil, err
}

// CheckpointsAfter returns the checkpoints after seq, oldest first.
func (s *Store) CheckpointsAfter(ctx context.Context, seq int64) ([]server.AuditCheckpoint, error) {
	return s.checkpoints(ctx, `WHERE seq > ? ORDER BY seq`, seq)
}

// Checkpoints returns every checkpoint, oldest first.
func (s *Store) Checkpoints(ctx context.Context) ([]server.AuditCheckpoint, error) {
	return s.checkpoints(ctx, `ORDER BY seq`)
}

func (s *Store) checkpoints(ctx context.Context, where string, args ...any) ([]server.AuditCheckpoint, error) {
	rows, err := s.query(ctx, s.db, `SELECT seq, hash, at, public_key, signature FROM audit_checkpoints `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []server.AuditCheckpoint
	for rows.Next() {
		var (
			c  server.AuditCheckpoint
			at int64
		)
		if err := rows.Scan(&c.Seq, &c.Hash, &at, &c.PublicKey, &c.Signature); err != nil {
			return nil, fmt.Errorf("audit checkpoints: %w", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AuditLog returns up to limit records after seq, oldest first.
func (s *Store) AuditLog(ctx context.Context, afterSeq int64, limit int) ([]server.AuditRecord, error) {
	return s.auditRecords(ctx, `WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
}

// SearchAudit returns the records that match f, oldest first.
func (s *Store) SearchAudit(ctx context.Context, f server.AuditFilter) ([]server.AuditRecord, error) {
	where, args := []string{`seq > ?`}, []any{f.AfterSeq}
	targets := f.Targets
	if f.Target != "" {
		targets = append([]string{f.Target}, targets...)
	}
	if len(targets) > 0 {
		where = append(where, `target IN (`+strings.TrimSuffix(strings.Repeat("?,", len(targets)), ",")+`)`)
		for _, t := range targets {
			args = append(args, t)
		}
	}
	if f.Actor != "" {
		where, args = append(where, `actor = ?`), append(args, f.Actor)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			where, args = append(where, `action LIKE ? ESCAPE '\'`), append(args, escapeLike(f.Action)+"%")
		} else {
			where, args = append(where, `action = ?`), append(args, f.Action)
		}
	}
	if !f.From.IsZero() {
		where, args = append(where, `at >= ?`), append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, `at < ?`), append(args, ms(f.To))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return s.auditRecords(ctx, `WHERE `+strings.Join(where, " AND ")+` ORDER BY seq LIMIT ?`, append(args, min(limit, 1000))...)
}

func (s *Store) auditRecords(ctx context.Context, where string, args ...any) ([]server.AuditRecord, error) {
	rows, err := s.query(ctx, s.db, `SELECT seq, at, actor, device_id, action, target, detail, prev_hash, hash FROM audit `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	out := []server.AuditRecord{}
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

// AuditVerification is what VerifyAuditChain found.
type AuditVerification struct {
	Records     int64 `json:"records"`
	LastSeq     int64 `json:"last_seq"`
	Checkpoints int   `json:"checkpoints"`
	// LastCheckpoint is the seq of the last valid checkpoint; the
	// Unprotected records after it are protected by the chain only, which
	// whoever holds the database can rewrite.
	LastCheckpoint int64 `json:"last_checkpoint"`
	Unprotected    int64 `json:"unprotected"`
	// Exported is how many checkpoints from outside the database (the
	// checkpoint log, syslog) were checked against it.
	Exported int `json:"exported"`
	// Keys are the public keys (hex) that signed the checkpoints.
	Keys []string `json:"keys"`
	// Trusted is true when every checkpoint was checked against a key the
	// caller gave (the server's own), not only against the key it names.
	Trusted bool `json:"trusted"`
	// BrokenAt is the seq of the first record that does not verify (0:
	// none); Problem says why.
	BrokenAt int64  `json:"broken_at,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// VerifyAudit walks the whole audit chain and returns the seq of the first
// record whose hash or link does not match, with ErrAuditBroken; 0 and nil
// when the chain is whole. Checkpoints are checked against the keys they
// name.
func (s *Store) VerifyAudit(ctx context.Context) (int64, error) {
	v, err := s.VerifyAuditChain(ctx, nil)
	return v.BrokenAt, err
}

// VerifyAuditChain walks the audit chain record by record and checks every
// signed checkpoint: its record exists, has the hash it signed, and the
// signature is valid under trusted (the server's public keys; none given:
// under the key the checkpoint names, which an attacker with the database
// could have replaced). exported are checkpoints kept outside the database
// (the checkpoint log, syslog): each must still be in the database, and its
// record must still be there with the hash it signed. A log with records
// but no checkpoint fails: nothing shows it was not rewritten. It stops at
// the first break and returns it with ErrAuditBroken.
func (s *Store) VerifyAuditChain(ctx context.Context, trusted []ed25519.PublicKey, exported ...server.AuditCheckpoint) (AuditVerification, error) {
	v := AuditVerification{Trusted: len(trusted) > 0, Keys: []string{}, Exported: len(exported)}
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		return v, err
	}
	bySeq := make(map[int64]server.AuditCheckpoint, len(cps))
	keys := map[string]bool{}
	for _, c := range cps {
		bySeq[c.Seq] = c
		if !keys[c.PublicKey] {
			keys[c.PublicKey] = true
			v.Keys = append(v.Keys, c.PublicKey)
		}
	}
	broken := func(seq int64, format string, a ...any) (AuditVerification, error) {
		v.BrokenAt, v.Problem = seq, fmt.Sprintf(format, a...)
		return v, fmt.Errorf("record %d: %s: %w", seq, v.Problem, ErrAuditBroken)
	}
	outside := make(map[int64]server.AuditCheckpoint, len(exported))
	for _, c := range exported {
		if problem := checkSignature(c, trusted); problem != "" {
			return broken(c.Seq, "the exported checkpoint signed at %s: %s", c.At.Format(time.RFC3339), problem)
		}
		if in, ok := bySeq[c.Seq]; !ok || in.Hash != c.Hash || in.Signature != c.Signature {
			return broken(c.Seq, "the checkpoint exported at %s was deleted or replaced in the database: the log was tampered with", c.At.Format(time.RFC3339))
		}
		outside[c.Seq] = c
	}
	var (
		after int64
		prev  string
	)
	for {
		recs, err := s.AuditLog(ctx, after, 5000)
		if err != nil {
			return v, err
		}
		for _, r := range recs {
			switch {
			case r.Seq != after+1:
				return broken(after+1, "record %d is missing (the next one is %d)", after+1, r.Seq)
			case r.PrevHash != prev:
				return broken(r.Seq, "its prev_hash does not match record %d's hash", after)
			case AuditHash(prev, r) != r.Hash:
				return broken(r.Seq, "its hash does not match its fields: the record was changed")
			}
			if c, ok := bySeq[r.Seq]; ok {
				if c.Hash != r.Hash {
					return broken(r.Seq, "the checkpoint signed at %s holds another hash: the chain up to here was rewritten after checkpoint %d",
						c.At.Format(time.RFC3339), v.LastCheckpoint)
				}
				if problem := checkSignature(c, trusted); problem != "" {
					return broken(r.Seq, "checkpoint: %s", problem)
				}
				v.Checkpoints++
				v.LastCheckpoint = r.Seq
			}
			after, prev = r.Seq, r.Hash
			v.Records++
		}
		if len(recs) == 0 {
			break
		}
	}
	v.LastSeq = after
	v.Unprotected = v.LastSeq - v.LastCheckpoint
	for _, c := range cps {
		if c.Seq > after {
			return broken(c.Seq, "a checkpoint signed at %s names record %d, which is missing: records were removed from the end",
				c.At.Format(time.RFC3339), c.Seq)
		}
	}
	for _, c := range outside {
		if c.Seq > after {
			return broken(c.Seq, "the checkpoint exported at %s names record %d, which is missing: records were removed from the end",
				c.At.Format(time.RFC3339), c.Seq)
		}
	}
	if v.Records > 0 && v.Checkpoints == 0 {
		return broken(1, "the log has %d record(s) and no signed checkpoint: nothing shows it was not rewritten (run \"audit checkpoint\", and check against the exported checkpoints with --checkpoints)", v.Records)
	}
	return v, nil
}

func checkSignature(c server.AuditCheckpoint, trusted []ed25519.PublicKey) string {
	pub, err := hex.DecodeString(c.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return "its public key is malformed"
	}
	sig, err := hex.DecodeString(c.Signature)
	if err != nil {
		return "its signature is malformed"
	}
	if len(trusted) > 0 {
		ok := false
		for _, k := range trusted {
			ok = ok || bytes.Equal(k, pub)
		}
		if !ok {
			return "it was signed by key " + c.PublicKey[:16] + "…, which is not the server's"
		}
	}
	if !ed25519.Verify(pub, CheckpointMessage(c.Seq, c.Hash, c.At), sig) {
		return "its signature is not valid"
	}
	return ""
}
