package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/callguard/callguard/server"
)

// CreateUser adds an account. passwordHash may be empty for accounts that
// never log in with a password (the embedded desktop's local agent, marked
// local). It fails with server.ErrExists if the username is taken.
func (s *Store) CreateUser(ctx context.Context, username string, role server.Role, passwordHash string, local bool) (server.User, error) {
	if username == "" || len(username) > 128 {
		return server.User{}, fmt.Errorf("username must have 1–128 characters: %w", server.ErrInvalid)
	}
	if !role.In(server.Roles...) {
		return server.User{}, fmt.Errorf("role %q: %w", role, server.ErrInvalid)
	}
	now := s.now()
	var id int64
	err := s.queryRow(ctx, s.db, `INSERT INTO users (username, password_hash, role, disabled, is_local, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		username, passwordHash, string(role), false, local, ms(now)).Scan(&id)
	if isUnique(err) {
		return server.User{}, fmt.Errorf("user %q: %w", username, server.ErrExists)
	}
	if err != nil {
		return server.User{}, fmt.Errorf("create user %q: %w", username, err)
	}
	return server.User{ID: id, Username: username, Role: role, Created: fromMS(ms(now))}, nil
}

// UserByName returns the account and its password hash.
func (s *Store) UserByName(ctx context.Context, username string) (server.User, string, error) {
	var (
		u    server.User
		role string
		hash string
		at   int64
	)
	err := s.queryRow(ctx, s.db, `SELECT id, username, role, disabled, created_at, password_hash FROM users WHERE username = ?`, username).
		Scan(&u.ID, &u.Username, &role, &u.Disabled, &at, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return server.User{}, "", fmt.Errorf("user %q: %w", username, server.ErrNotFound)
	}
	if err != nil {
		return server.User{}, "", fmt.Errorf("user %q: %w", username, err)
	}
	u.Role, u.Created = server.Role(role), fromMS(at)
	return u, hash, nil
}

// Users lists every account by username.
func (s *Store) Users(ctx context.Context) ([]server.User, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, username, role, disabled, created_at, COALESCE(job_role, '') FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []server.User
	for rows.Next() {
		var (
			u    server.User
			role string
			at   int64
		)
		if err := rows.Scan(&u.ID, &u.Username, &role, &u.Disabled, &at, &u.JobRole); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.Role, u.Created = server.Role(role), fromMS(at)
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetUserDisabled disables (or enables) an account. A disabled account's
// devices are refused with server.ErrDisabled.
func (s *Store) SetUserDisabled(ctx context.Context, username string, disabled bool) error {
	res, err := s.exec(ctx, s.db, `UPDATE users SET disabled = ? WHERE username = ?`, disabled, username)
	if err != nil {
		return fmt.Errorf("disable user %q: %w", username, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %q: %w", username, server.ErrNotFound)
	}
	return nil
}

// SetPassword replaces an account's password hash.
func (s *Store) SetPassword(ctx context.Context, username, passwordHash string) error {
	res, err := s.exec(ctx, s.db, `UPDATE users SET password_hash = ? WHERE username = ?`, passwordHash, username)
	if err != nil {
		return fmt.Errorf("set password of %q: %w", username, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %q: %w", username, server.ErrNotFound)
	}
	return nil
}

// tokenExpiry is when a token issued now expires (the policy's
// device_token_days).
func (s *Store) tokenExpiry() int64 { return ms(s.now().Add(s.pol.TokenLifetime())) }

// CreateDevice enrols a device for a user with the hash of its token,
// which expires after the policy's device_token_days.
func (s *Store) CreateDevice(ctx context.Context, id string, userID int64, name, tokenHash string) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO devices (id, user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, userID, name, tokenHash, ms(s.now()), s.tokenExpiry())
	if err != nil {
		return fmt.Errorf("enrol device %q: %w", name, err)
	}
	return nil
}

// RotateDevice gives the user's device called name a new token hash (and
// lifts a revocation), keeping its id and the seq it reached; it returns
// the device id, or "" if the user has no such device.
func (s *Store) RotateDevice(ctx context.Context, userID int64, name, tokenHash string) (string, error) {
	var id string
	err := s.queryRow(ctx, s.db, `UPDATE devices SET token_hash = ?, revoked_at = NULL, expires_at = ?, prev_token_hash = NULL, prev_valid_until = NULL
		WHERE id = (SELECT id FROM devices WHERE user_id = ? AND name = ? ORDER BY created_at LIMIT 1) RETURNING id`,
		tokenHash, s.tokenExpiry(), userID, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("rotate device %q: %w", name, err)
	}
	return id, nil
}

const deviceCols = `d.id, d.user_id, u.username, u.role, d.name, d.created_at, d.last_seen, d.revoked_at, d.acked_seq, d.seq_gaps, d.expires_at, d.refused_events`

func scanDevice(sc interface{ Scan(...any) error }, extra ...any) (server.Device, error) {
	var (
		d                 server.Device
		role              string
		created           int64
		lastSeen, revoked sql.NullInt64
		expires           sql.NullInt64
		acked             int64
	)
	dest := append([]any{&d.ID, &d.UserID, &d.Username, &role, &d.Name, &created, &lastSeen, &revoked, &acked, &d.SeqGaps, &expires, &d.Refused}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return server.Device{}, err
	}
	d.Role, d.Created = server.Role(role), fromMS(created)
	d.LastSeen, d.Revoked, d.Expires = fromNullMS(lastSeen), fromNullMS(revoked), fromNullMS(expires)
	d.AckedSeq = uint64(acked)
	return d, nil
}

// Authenticate finds the device whose token hashes to tokenHash (or whose
// token was rotated from it less than server.RotationGrace ago) and
// returns who it acts for. Unknown tokens give server.ErrUnauthorized,
// revoked ones server.ErrTokenRevoked, expired ones
// server.ErrTokenExpired, disabled accounts server.ErrDisabled.
func (s *Store) Authenticate(ctx context.Context, tokenHash string) (server.Principal, error) {
	var disabled bool
	d, err := scanDevice(s.queryRow(ctx, s.db, `SELECT `+deviceCols+`, u.disabled FROM devices d JOIN users u ON u.id = d.user_id
		WHERE d.token_hash = ? OR (d.prev_token_hash = ? AND d.prev_valid_until > ?)`, tokenHash, tokenHash, ms(s.now())), &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return server.Principal{}, server.ErrUnauthorized
	}
	if err != nil {
		return server.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	p := server.Principal{UserID: d.UserID, Username: d.Username, Role: d.Role, DeviceID: d.ID}
	if d.Expires != nil {
		p.TokenExpires = *d.Expires
	}
	switch {
	case d.Revoked != nil:
		return p, server.ErrTokenRevoked
	case d.Expires != nil && !s.now().Before(*d.Expires):
		return p, server.ErrTokenExpired
	case disabled:
		return p, server.ErrDisabled
	}
	return p, nil
}

// RotateToken gives the device a new token hash with a new lifetime; the
// token it was rotated from (oldHash) keeps working for
// server.RotationGrace. It returns when the new token expires.
func (s *Store) RotateToken(ctx context.Context, deviceID, oldHash, newHash string) (time.Time, error) {
	exp := s.tokenExpiry()
	res, err := s.exec(ctx, s.db, `UPDATE devices SET token_hash = ?, expires_at = ?, prev_token_hash = ?, prev_valid_until = ? WHERE id = ? AND revoked_at IS NULL`,
		newHash, exp, oldHash, ms(s.now().Add(server.RotationGrace)), deviceID)
	if err != nil {
		return time.Time{}, fmt.Errorf("rotate the token of device %s: %w", deviceID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return time.Time{}, fmt.Errorf("device %s: %w", deviceID, server.ErrNotFound)
	}
	return fromMS(exp), nil
}

// Devices lists every device, newest first.
func (s *Store) Devices(ctx context.Context) ([]server.Device, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+deviceCols+` FROM devices d JOIN users u ON u.id = d.user_id ORDER BY d.created_at DESC, d.id`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	out, err := scanAll(rows, func(r interface{ Scan(...any) error }) (server.Device, error) { return scanDevice(r) })
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return out, nil
}

// Device returns one device.
func (s *Store) Device(ctx context.Context, id string) (server.Device, error) {
	d, err := scanDevice(s.queryRow(ctx, s.db, `SELECT `+deviceCols+` FROM devices d JOIN users u ON u.id = d.user_id WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return server.Device{}, fmt.Errorf("device %q: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return server.Device{}, fmt.Errorf("device %q: %w", id, err)
	}
	return d, nil
}

// RevokeDevice revokes a device's token: its next request gets 401.
func (s *Store) RevokeDevice(ctx context.Context, id string) error {
	res, err := s.exec(ctx, s.db, `UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ms(s.now()), id)
	if err != nil {
		return fmt.Errorf("revoke device %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Device(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// TouchDevice records that the device was heard from now.
func (s *Store) TouchDevice(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, s.db, `UPDATE devices SET last_seen = ? WHERE id = ?`, ms(s.now()), id); err != nil {
		return fmt.Errorf("touch device: %w", err)
	}
	return nil
}

// SetRole changes an account's role and returns the role it had.
func (s *Store) SetRole(ctx context.Context, username string, role server.Role) (server.Role, error) {
	if !role.In(server.Roles...) {
		return server.RoleUnknown, fmt.Errorf("role %q: %w", role, server.ErrInvalid)
	}
	var old server.Role
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var r string
		err := s.queryRow(ctx, tx, `SELECT role FROM users WHERE username = ?`, username).Scan(&r)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", username, server.ErrNotFound)
		}
		if err != nil {
			return err
		}
		old = server.Role(r)
		_, err = s.exec(ctx, tx, `UPDATE users SET role = ? WHERE username = ?`, string(role), username)
		return err
	})
	if err != nil {
		return server.RoleUnknown, fmt.Errorf("set role of %q: %w", username, err)
	}
	return old, nil
}
