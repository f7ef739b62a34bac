package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/callguard/callguard/server"
)

// maxJobRole is the longest job role an account may hold.
const maxJobRole = 128

// SetJobRole gives an account the job role it holds as an authoriser of
// releases ("" clears it) and returns the one it had.
func (s *Store) SetJobRole(ctx context.Context, username, jobRole string) (string, error) {
	jobRole = strings.TrimSpace(jobRole)
	if len(jobRole) > maxJobRole {
		return "", fmt.Errorf("job role is longer than %d characters: %w", maxJobRole, server.ErrInvalid)
	}
	var old string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var r sql.NullString
		err := s.queryRow(ctx, tx, `SELECT job_role FROM users WHERE username = ?`, username).Scan(&r)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", username, server.ErrNotFound)
		}
		if err != nil {
			return err
		}
		old = r.String
		_, err = s.exec(ctx, tx, `UPDATE users SET job_role = ? WHERE username = ?`, nullString(jobRole), username)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("set the job role of %q: %w", username, err)
	}
	return old, nil
}

// User returns an account with its job role.
func (s *Store) User(ctx context.Context, username string) (server.User, error) {
	var (
		u       server.User
		role    string
		at      int64
		jobRole sql.NullString
	)
	err := s.queryRow(ctx, s.db, `SELECT id, username, role, disabled, created_at, job_role FROM users WHERE username = ?`, username).
		Scan(&u.ID, &u.Username, &role, &u.Disabled, &at, &jobRole)
	if errors.Is(err, sql.ErrNoRows) {
		return server.User{}, fmt.Errorf("user %q: %w", username, server.ErrNotFound)
	}
	if err != nil {
		return server.User{}, fmt.Errorf("user %q: %w", username, err)
	}
	u.Role, u.Created, u.JobRole = server.Role(role), fromMS(at), jobRole.String
	return u, nil
}

const releaseCols = `r.id, r.call_date, r.call_time, r.number, r.requester, r.purpose, r.purpose_label, r.lawful_basis, r.on_behalf, r.third_party,
	r.requested_on, r.recipient_name, r.recipient_title, r.state, r.entered_by, r.entered_at, r.authorised_by, r.authorised_as, r.authorised_at,
	r.disclosed_on, r.released_by, r.released_at, r.package_sha256`

func scanRelease(sc interface{ Scan(...any) error }) (server.Release, error) {
	var (
		r                                server.Release
		entered                          int64
		authBy, authAs, disc, relBy, pkg sql.NullString
		authAt, relAt                    sql.NullInt64
	)
	if err := sc.Scan(&r.ID, &r.CallDate, &r.CallTime, &r.Number, &r.Requester, &r.Purpose, &r.PurposeLabel, &r.LawfulBasis, &r.OnBehalf, &r.ThirdParty,
		&r.RequestedOn, &r.RecipientName, &r.RecipientTitle, &r.State, &r.EnteredBy, &entered, &authBy, &authAs, &authAt,
		&disc, &relBy, &relAt, &pkg); err != nil {
		return server.Release{}, err
	}
	r.Entered = fromMS(entered)
	r.AuthorisedBy, r.AuthorisedAs, r.AuthorisedAt = authBy.String, authAs.String, fromNullMS(authAt)
	r.DisclosedOn, r.ReleasedBy, r.ReleasedAt, r.PackageSHA256 = disc.String, relBy.String, fromNullMS(relAt), pkg.String
	return r, nil
}

// CreateRelease enters a validated request (see server.ReleaseRequest) in
// the register for the account called by. Every call it names must exist
// and not be erased.
func (s *Store) CreateRelease(ctx context.Context, r server.Release, by string) (server.Release, error) {
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range r.Calls {
			var erased sql.NullInt64
			err := s.queryRow(ctx, tx, `SELECT personal_deleted_at FROM calls WHERE id = ?`, c).Scan(&erased)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("call %s: %w", c, server.ErrNotFound)
			case err != nil:
				return err
			case erased.Valid:
				return fmt.Errorf("call %s was deleted (see its tombstone): %w", c, server.ErrGone)
			}
		}
		err := s.queryRow(ctx, tx, `INSERT INTO releases (call_date, call_time, number, number_key, requester, purpose, purpose_label, lawful_basis,
			on_behalf, third_party, requested_on, recipient_name, recipient_title, state, entered_by, entered_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.CallDate, r.CallTime, r.Number, server.NumberKey(r.Number), r.Requester, r.Purpose, r.PurposeLabel, r.LawfulBasis,
			r.OnBehalf, r.ThirdParty, r.RequestedOn, r.RecipientName, r.RecipientTitle, server.ReleaseRequested, by, ms(s.now())).Scan(&id)
		if err != nil {
			return err
		}
		for _, c := range r.Calls {
			if _, err := s.exec(ctx, tx, `INSERT INTO release_calls (release_id, call_id) VALUES (?, ?)`, id, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return server.Release{}, fmt.Errorf("enter release request: %w", err)
	}
	return s.Release(ctx, id)
}

// Release returns one entry of the register.
func (s *Store) Release(ctx context.Context, id int64) (server.Release, error) {
	rs, err := s.releases(ctx, `WHERE r.id = ?`, id)
	if err != nil {
		return server.Release{}, err
	}
	if len(rs) == 0 {
		return server.Release{}, fmt.Errorf("release %d: %w", id, server.ErrNotFound)
	}
	return rs[0], nil
}

// Releases returns the register entries that match f, newest first.
func (s *Store) Releases(ctx context.Context, f server.ReleaseFilter) ([]server.Release, error) {
	var (
		where []string
		args  []any
	)
	if t := strings.TrimSpace(f.Text); t != "" {
		like := "%" + escapeLike(strings.ToLower(t)) + "%"
		where = append(where, `(LOWER(r.requester) LIKE ? ESCAPE '\' OR LOWER(r.recipient_name) LIKE ? ESCAPE '\' OR LOWER(r.recipient_title) LIKE ? ESCAPE '\'
			OR LOWER(r.third_party) LIKE ? ESCAPE '\' OR EXISTS (SELECT 1 FROM release_calls rc WHERE rc.release_id = r.id AND rc.call_id = ?))`)
		args = append(args, like, like, like, like, t)
	}
	if k := server.NumberKey(f.Number); k != "" {
		where, args = append(where, `r.number_key LIKE ? ESCAPE '\'`), append(args, "%"+escapeLike(k)+"%")
	}
	if f.Purpose != "" {
		where, args = append(where, `r.purpose = ?`), append(args, f.Purpose)
	}
	if f.State != "" {
		where, args = append(where, `r.state = ?`), append(args, f.State)
	}
	if f.Supervisor != "" {
		where = append(where, `NOT EXISTS (SELECT 1 FROM release_calls rc JOIN calls c ON c.id = rc.call_id WHERE rc.release_id = r.id AND NOT `+
			fmt.Sprintf(teamScope, "c.agent")+`)`)
		args = append(args, f.Supervisor)
	}
	if f.From != "" {
		where, args = append(where, `r.requested_on >= ?`), append(args, f.From)
	}
	if f.To != "" {
		where, args = append(where, `r.requested_on <= ?`), append(args, f.To)
	}
	q := ""
	if len(where) > 0 {
		q = `WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return s.releases(ctx, q+` ORDER BY r.id DESC LIMIT ? OFFSET ?`, append(args, min(limit, 1000), max(f.Offset, 0))...)
}

func (s *Store) releases(ctx context.Context, where string, args ...any) ([]server.Release, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+releaseCols+` FROM releases r `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("release register: %w", err)
	}
	out := []server.Release{}
	byID := map[int64]int{}
	if err := eachRow(rows, func(rows *sql.Rows) error {
		r, err := scanRelease(rows)
		if err != nil {
			return err
		}
		r.Calls = []string{}
		byID[r.ID] = len(out)
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("release register: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]any, 0, len(out))
	for _, r := range out {
		ids = append(ids, r.ID)
	}
	rows, err = s.query(ctx, s.db, `SELECT release_id, call_id FROM release_calls WHERE release_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY call_id`, ids...)
	if err != nil {
		return nil, fmt.Errorf("release register: %w", err)
	}
	if err := eachRow(rows, func(rows *sql.Rows) error {
		var (
			id   int64
			call string
		)
		if err := rows.Scan(&id, &call); err != nil {
			return err
		}
		out[byID[id]].Calls = append(out[byID[id]].Calls, call)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("release register: %w", err)
	}
	return out, nil
}

// ErrReleaseState: the release is not in the state the step needs (it was
// authorised already, or is not authorised yet).
var ErrReleaseState = fmt.Errorf("the release is not in the state this step needs: %w", server.ErrConflict)

// AuthoriseRelease records that by, holding jobRole, authorised a
// requested release. Only one authorisation succeeds: a second, even at
// the same moment on another instance, fails with ErrReleaseState. The
// database itself refuses an authoriser who entered the request.
func (s *Store) AuthoriseRelease(ctx context.Context, id int64, by, jobRole string) (server.Release, error) {
	res, err := s.exec(ctx, s.db, `UPDATE releases SET state = ?, authorised_by = ?, authorised_as = ?, authorised_at = ? WHERE id = ? AND state = ?`,
		server.ReleaseAuthorised, by, jobRole, ms(s.now()), id, server.ReleaseRequested)
	if err != nil {
		return server.Release{}, fmt.Errorf("authorise release %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		r, err := s.Release(ctx, id)
		if err != nil {
			return server.Release{}, err
		}
		return server.Release{}, fmt.Errorf("release %d is %s: %w", id, r.State, ErrReleaseState)
	}
	return s.Release(ctx, id)
}

// MarkReleased records that by handed over an authorised release's package
// (sha256 pkg) on disclosedOn, and moves its calls to the released
// retention category. Releasing again (another copy) keeps the first
// release's record; it fails with ErrReleaseState before authorisation.
func (s *Store) MarkReleased(ctx context.Context, id int64, by, disclosedOn, pkg string) (server.Release, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `UPDATE releases SET state = ?, released_by = ?, released_at = ?, disclosed_on = ?, package_sha256 = ? WHERE id = ? AND state = ?`,
			server.ReleaseReleased, by, ms(s.now()), disclosedOn, pkg, id, server.ReleaseAuthorised); err != nil {
			return err
		}
		var state string
		err := s.queryRow(ctx, tx, `SELECT state FROM releases WHERE id = ?`, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("release %d: %w", id, server.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if state != server.ReleaseReleased {
			return fmt.Errorf("release %d is %s: %w", id, state, ErrReleaseState)
		}
		rows, err := s.query(ctx, tx, `SELECT call_id FROM release_calls WHERE release_id = ?`, id)
		if err != nil {
			return err
		}
		calls, err := scanStrings(rows)
		if err != nil {
			return err
		}
		for _, c := range calls {
			if err := s.reapply(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return server.Release{}, fmt.Errorf("release %d: %w", id, err)
	}
	return s.Release(ctx, id)
}

// released reports whether a call was released to a third party.
func (s *Store) released(ctx context.Context, q querier, callID string) (bool, error) {
	var n int
	err := s.queryRow(ctx, q, `SELECT COUNT(*) FROM release_calls rc JOIN releases r ON r.id = rc.release_id WHERE rc.call_id = ? AND r.state = ?`,
		callID, server.ReleaseReleased).Scan(&n)
	return n > 0, err
}
