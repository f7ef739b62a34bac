package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/callguard/callguard/server"
)

// CreateTeam adds an empty team; server.ErrExists if the name is taken.
func (s *Store) CreateTeam(ctx context.Context, name string) (server.Team, error) {
	if err := server.ValidTeamName(name); err != nil {
		return server.Team{}, err
	}
	now := s.now()
	_, err := s.exec(ctx, s.db, `INSERT INTO teams (name, created_at) VALUES (?, ?)`, name, ms(now))
	if isUnique(err) {
		return server.Team{}, fmt.Errorf("team %q: %w", name, server.ErrExists)
	}
	if err != nil {
		return server.Team{}, fmt.Errorf("create team %q: %w", name, err)
	}
	return server.Team{Name: name, Members: []string{}, Created: fromMS(ms(now))}, nil
}

// DeleteTeam removes a team and its memberships.
func (s *Store) DeleteTeam(ctx context.Context, name string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		id, err := s.teamID(ctx, tx, name)
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM team_members WHERE team_id = ?`, id); err != nil {
			return fmt.Errorf("delete team %q: %w", name, err)
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM teams WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete team %q: %w", name, err)
		}
		return nil
	})
}

func (s *Store) teamID(ctx context.Context, q querier, name string) (int64, error) {
	var id int64
	err := s.queryRow(ctx, q, `SELECT id FROM teams WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("team %q: %w", name, server.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("team %q: %w", name, err)
	}
	return id, nil
}

// AddTeamMember puts an existing account in a team (again: no change).
func (s *Store) AddTeamMember(ctx context.Context, team, username string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		id, err := s.teamID(ctx, tx, team)
		if err != nil {
			return err
		}
		var n int
		if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM users WHERE username = ?`, username).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user %q: %w", username, server.ErrNotFound)
		}
		_, err = s.exec(ctx, tx, `INSERT INTO team_members (team_id, username, added_at) VALUES (?, ?, ?) ON CONFLICT (team_id, username) DO NOTHING`,
			id, username, ms(s.now()))
		return err
	})
}

// RemoveTeamMember takes an account out of a team.
func (s *Store) RemoveTeamMember(ctx context.Context, team, username string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		id, err := s.teamID(ctx, tx, team)
		if err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, `DELETE FROM team_members WHERE team_id = ? AND username = ?`, id, username)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s is not in team %q: %w", username, team, server.ErrNotFound)
		}
		return nil
	})
}

// Teams lists every team with its members, by name.
func (s *Store) Teams(ctx context.Context) ([]server.Team, error) {
	rows, err := s.query(ctx, s.db, `SELECT t.name, t.created_at, COALESCE(m.username, '') FROM teams t
		LEFT JOIN team_members m ON m.team_id = t.id ORDER BY t.name, m.username`)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	out := []server.Team{}
	for rows.Next() {
		var (
			name, member string
			at           int64
		)
		if err := rows.Scan(&name, &at, &member); err != nil {
			return nil, fmt.Errorf("list teams: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, server.Team{Name: name, Members: []string{}, Created: fromMS(at)})
		}
		if member != "" {
			out[len(out)-1].Members = append(out[len(out)-1].Members, member)
		}
	}
	return out, rows.Err()
}

// teamScope is the SQL condition that agent (a column or ?) shares a team
// with the supervisor given as its one argument, or that the server has
// no team at all.
const teamScope = `(NOT EXISTS (SELECT 1 FROM teams) OR %s IN (SELECT m2.username FROM team_members m1
	JOIN team_members m2 ON m2.team_id = m1.team_id WHERE m1.username = ?))`

// Supervises reports whether supervisor may see agent: they share a team,
// or the server has no team.
func (s *Store) Supervises(ctx context.Context, supervisor, agent string) (bool, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM (SELECT 1 AS x) one WHERE `+fmt.Sprintf(teamScope, "?"), agent, supervisor).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("teams of %s: %w", supervisor, err)
	}
	return n > 0, nil
}

// Supervised returns the agents supervisor may see; all is true when the
// server has no team (then agents is nil).
func (s *Store) Supervised(ctx context.Context, supervisor string) (all bool, agents map[string]bool, err error) {
	var teams int
	if err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM teams`).Scan(&teams); err != nil {
		return false, nil, fmt.Errorf("teams: %w", err)
	}
	if teams == 0 {
		return true, nil, nil
	}
	rows, err := s.query(ctx, s.db, `SELECT DISTINCT m2.username FROM team_members m1 JOIN team_members m2 ON m2.team_id = m1.team_id WHERE m1.username = ?`, supervisor)
	if err != nil {
		return false, nil, fmt.Errorf("teams of %s: %w", supervisor, err)
	}
	defer rows.Close()
	agents = map[string]bool{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return false, nil, err
		}
		agents[a] = true
	}
	return false, agents, rows.Err()
}
