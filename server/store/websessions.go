package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/callguard/callguard/server"
)

// The web workspace's sessions and one-time links (migration 0005). Only
// token hashes are stored.

// CreateWebSession stores a new browser session.
func (s *Store) CreateWebSession(ctx context.Context, ws server.WebSession) error {
	via := ws.Via
	if via == "" {
		via = "password"
	}
	_, err := s.exec(ctx, s.db, `INSERT INTO web_sessions (token_hash, user_id, created_at, last_seen, expires_at, ip, via) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ws.TokenHash, ws.UserID, ms(ws.Created), ms(ws.LastSeen), ms(ws.Expires), ws.IP, via)
	if err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	return nil
}

// WebSession returns the session whose token has the hash, with its
// account as it is now. It fails with server.ErrNotFound for an unknown
// hash; whether the session is still valid is the caller's to decide.
func (s *Store) WebSession(ctx context.Context, tokenHash string) (server.WebSession, error) {
	var (
		ws                         server.WebSession
		role                       string
		created, lastSeen, expires int64
		ended                      sql.NullInt64
	)
	err := s.queryRow(ctx, s.db, `SELECT w.token_hash, w.user_id, u.username, u.role, u.disabled, w.created_at, w.last_seen, w.expires_at, w.ended_at, w.ip, w.via
		FROM web_sessions w JOIN users u ON u.id = w.user_id WHERE w.token_hash = ?`, tokenHash).
		Scan(&ws.TokenHash, &ws.UserID, &ws.Username, &role, &ws.Disabled, &created, &lastSeen, &expires, &ended, &ws.IP, &ws.Via)
	if errors.Is(err, sql.ErrNoRows) {
		return server.WebSession{}, fmt.Errorf("web session: %w", server.ErrNotFound)
	}
	if err != nil {
		return server.WebSession{}, fmt.Errorf("web session: %w", err)
	}
	ws.Role = server.Role(role)
	ws.Created, ws.LastSeen, ws.Expires, ws.Ended = fromMS(created), fromMS(lastSeen), fromMS(expires), fromNullMS(ended)
	return ws, nil
}

// TouchWebSession records activity on a session (for its idle expiry).
func (s *Store) TouchWebSession(ctx context.Context, tokenHash string, at time.Time) error {
	if _, err := s.exec(ctx, s.db, `UPDATE web_sessions SET last_seen = ? WHERE token_hash = ? AND ended_at IS NULL AND last_seen < ?`, ms(at), tokenHash, ms(at)); err != nil {
		return fmt.Errorf("touch web session: %w", err)
	}
	return nil
}

// EndWebSession ends a session (sign-out); ending it again does nothing.
func (s *Store) EndWebSession(ctx context.Context, tokenHash string, at time.Time) error {
	if _, err := s.exec(ctx, s.db, `UPDATE web_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL`, ms(at), tokenHash); err != nil {
		return fmt.Errorf("end web session: %w", err)
	}
	return nil
}

// PruneWebSessions deletes sessions and links that ended or expired
// before cutoff.
func (s *Store) PruneWebSessions(ctx context.Context, cutoff time.Time) error {
	if _, err := s.exec(ctx, s.db, `DELETE FROM web_sessions WHERE expires_at < ? OR ended_at < ? OR last_seen < ?`, ms(cutoff), ms(cutoff), ms(cutoff.Add(-24*time.Hour))); err != nil {
		return fmt.Errorf("prune web sessions: %w", err)
	}
	if _, err := s.exec(ctx, s.db, `DELETE FROM web_links WHERE expires_at < ?`, ms(cutoff)); err != nil {
		return fmt.Errorf("prune web links: %w", err)
	}
	return nil
}

// CreateWebLink stores a new one-time sign-in link.
func (s *Store) CreateWebLink(ctx context.Context, l server.WebLink) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO web_links (token_hash, user_id, device_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		l.TokenHash, l.UserID, l.DeviceID, ms(l.Created), ms(l.Expires))
	if err != nil {
		return fmt.Errorf("create web link: %w", err)
	}
	return nil
}

// UseWebLink marks the link used at at and returns it with its account as
// it is now. A link already used fails with server.ErrGone, whoever asks
// (two browsers racing with one link: one wins); an unknown one with
// server.ErrNotFound. Whether it expired is the caller's to decide (its
// Expires is returned).
func (s *Store) UseWebLink(ctx context.Context, tokenHash string, at time.Time) (server.WebLink, error) {
	var l server.WebLink
	err := s.Tx(ctx, func(ctx context.Context) error {
		var (
			role             string
			created, expires int64
			used             sql.NullInt64
		)
		err := s.queryRow(ctx, s.db, `SELECT l.token_hash, l.user_id, u.username, u.role, u.disabled, l.device_id, l.created_at, l.expires_at, l.used_at
			FROM web_links l JOIN users u ON u.id = l.user_id WHERE l.token_hash = ?`, tokenHash).
			Scan(&l.TokenHash, &l.UserID, &l.Username, &role, &l.Disabled, &l.DeviceID, &created, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sign-in link: %w", server.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sign-in link: %w", err)
		}
		l.Role, l.Created, l.Expires = server.Role(role), fromMS(created), fromMS(expires)
		if used.Valid {
			l.Used = fromNullMS(used)
			return fmt.Errorf("sign-in link already used: %w", server.ErrGone)
		}
		res, err := s.exec(ctx, s.db, `UPDATE web_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL`, ms(at), tokenHash)
		if err != nil {
			return fmt.Errorf("use sign-in link: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("sign-in link already used: %w", server.ErrGone)
		}
		t := fromMS(ms(at))
		l.Used = &t
		return nil
	})
	return l, err
}
