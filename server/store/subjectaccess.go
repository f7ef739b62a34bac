package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
)

const sarCols = `id, reference, requester_name, requester_contact, identity_method, identity_checked_by, received_on, numbers,
	from_on, to_on, status, deadline_on, extensions, history, created_by, created_at, updated_at, version`

func scanSAR(sc interface{ Scan(...any) error }) (server.SARCase, error) {
	var (
		c                            server.SARCase
		received, status, deadline   string
		numbers, extensions, history string
		from, to                     sql.NullString
		created, updated             int64
	)
	if err := sc.Scan(&c.ID, &c.Reference, &c.RequesterName, &c.RequesterContact, &c.IdentityMethod, &c.IdentityCheckedBy,
		&received, &numbers, &from, &to, &status, &deadline, &extensions, &history, &c.CreatedBy, &created, &updated, &c.Version); err != nil {
		return server.SARCase{}, err
	}
	var err error
	bad := func(what string, e error) error { return fmt.Errorf("subject-access case %d: %s: %w", c.ID, what, e) }
	if c.Received, err = server.ParseDate(received); err != nil {
		return server.SARCase{}, bad("received", err)
	}
	if c.Deadline, err = server.ParseDate(deadline); err != nil {
		return server.SARCase{}, bad("deadline", err)
	}
	if from.Valid {
		if c.From, err = server.ParseDate(from.String); err != nil {
			return server.SARCase{}, bad("from", err)
		}
	}
	if to.Valid {
		if c.To, err = server.ParseDate(to.String); err != nil {
			return server.SARCase{}, bad("to", err)
		}
	}
	if c.Status, err = server.ParseSARStatus(status); err != nil {
		return server.SARCase{}, bad("status", err)
	}
	for _, j := range []struct {
		what string
		src  string
		dst  any
	}{{"numbers", numbers, &c.Numbers}, {"extensions", extensions, &c.Extensions}, {"history", history, &c.History}} {
		if err := json.Unmarshal([]byte(j.src), j.dst); err != nil {
			return server.SARCase{}, bad(j.what, err)
		}
	}
	c.Created, c.Updated = fromMS(created), fromMS(updated)
	return c, nil
}

// dateOrNull writes a date, or NULL for the zero time.
func dateOrNull(d time.Time) any {
	if d.IsZero() {
		return nil
	}
	return d.Format(server.DateLayout)
}

func sarJSON(c server.SARCase) (numbers, extensions, history string) {
	if c.Numbers == nil {
		c.Numbers = []string{}
	}
	if c.Extensions == nil {
		c.Extensions = []server.SARExtension{}
	}
	if c.History == nil {
		c.History = []server.SARStep{}
	}
	n, _ := json.Marshal(c.Numbers)
	e, _ := json.Marshal(c.Extensions)
	h, _ := json.Marshal(c.History)
	return string(n), string(e), string(h)
}

// CreateSAR stores a new subject-access case and returns it with its id
// (version 1).
func (s *Store) CreateSAR(ctx context.Context, c server.SARCase) (server.SARCase, error) {
	numbers, extensions, history := sarJSON(c)
	var id int64
	err := s.queryRow(ctx, s.db, `INSERT INTO subject_access_cases (reference, requester_name, requester_contact, identity_method,
		identity_checked_by, received_on, numbers, from_on, to_on, status, deadline_on, extensions, history, created_by, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id`,
		c.Reference, c.RequesterName, c.RequesterContact, c.IdentityMethod, c.IdentityCheckedBy, c.Received.Format(server.DateLayout),
		numbers, dateOrNull(c.From), dateOrNull(c.To), c.Status.String(), c.Deadline.Format(server.DateLayout), extensions, history,
		c.CreatedBy, ms(c.Created), ms(c.Updated)).Scan(&id)
	if err != nil {
		return server.SARCase{}, fmt.Errorf("open a subject-access case: %w", err)
	}
	return s.SAR(ctx, id)
}

// SAR returns one subject-access case.
func (s *Store) SAR(ctx context.Context, id int64) (server.SARCase, error) {
	c, err := scanSAR(s.queryRow(ctx, s.db, `SELECT `+sarCols+` FROM subject_access_cases WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return server.SARCase{}, fmt.Errorf("subject-access case %d: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return server.SARCase{}, fmt.Errorf("subject-access case %d: %w", id, err)
	}
	return c, nil
}

// SARs lists the subject-access cases: those still running first, the
// soonest deadline first (so overdue ones lead), then the sent and closed
// ones, the latest changed first; at most limit (default and cap 1000).
func (s *Store) SARs(ctx context.Context, limit int) ([]server.SARCase, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.query(ctx, s.db, `SELECT `+sarCols+` FROM subject_access_cases
		ORDER BY CASE WHEN status IN ('open', 'extended') THEN 0 ELSE 1 END,
			CASE WHEN status IN ('open', 'extended') THEN deadline_on ELSE '' END, updated_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("subject-access cases: %w", err)
	}
	out, err := scanAll(rows, scanSAR)
	if err != nil {
		return nil, fmt.Errorf("subject-access cases: %w", err)
	}
	return out, nil
}

// UpdateSAR writes a changed case (status, deadline, extensions,
// history) over the stored one if that is still at version, and bumps the
// version. A case changed meanwhile is not overwritten: the error wraps
// server.ErrConflict, so of two concurrent changes only one wins.
func (s *Store) UpdateSAR(ctx context.Context, c server.SARCase, version int64) (server.SARCase, error) {
	_, extensions, history := sarJSON(c)
	res, err := s.exec(ctx, s.db, `UPDATE subject_access_cases SET status = ?, deadline_on = ?, extensions = ?, history = ?, updated_at = ?,
		version = version + 1 WHERE id = ? AND version = ?`,
		c.Status.String(), c.Deadline.Format(server.DateLayout), extensions, history, ms(c.Updated), c.ID, version)
	if err != nil {
		return server.SARCase{}, fmt.Errorf("subject-access case %d: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return server.SARCase{}, fmt.Errorf("subject-access case %d was changed by someone else meanwhile; look at it again: %w", c.ID, server.ErrConflict)
	}
	return s.SAR(ctx, c.ID)
}

// CallsForSubject returns the calls, not erased, whose remote number is
// one of numbers (as a person typed them, in any common form: matched in
// E.164, see server.E164) and that started at or after from and before
// until (zero: open-ended), oldest first, with their flags.
func (s *Store) CallsForSubject(ctx context.Context, numbers []string, from, until time.Time) ([]server.Call, error) {
	var args []any
	for _, n := range numbers {
		e, err := server.E164(n)
		if err != nil {
			return nil, fmt.Errorf("calls of a subject: %w", err)
		}
		args = append(args, e)
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("no number: %w", server.ErrInvalid)
	}
	where := `c.remote_e164 IN (` + strings.TrimSuffix(strings.Repeat("?,", len(args)), ",") + `) AND c.personal_deleted_at IS NULL`
	if !from.IsZero() {
		where, args = where+` AND c.started_at >= ?`, append(args, ms(from))
	}
	if !until.IsZero() {
		where, args = where+` AND c.started_at < ?`, append(args, ms(until))
	}
	rows, err := s.query(ctx, s.db, `SELECT `+callCols+callFrom+` WHERE `+where+` ORDER BY c.started_at, c.id LIMIT 10000`, args...)
	if err != nil {
		return nil, fmt.Errorf("calls of a subject: %w", err)
	}
	out, err := scanAll(rows, scanCall)
	if err != nil {
		return nil, fmt.Errorf("calls of a subject: %w", err)
	}
	return out, s.loadFlags(ctx, out)
}
