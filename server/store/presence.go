package store

import (
	"context"
	"fmt"
	"time"
)

// PresenceRow is the last live-board state of one agent, as JSON.
type PresenceRow struct {
	Agent    string
	Device   string
	State    []byte
	LastSeen time.Time
}

// SavePresence records an agent's latest board state.
func (s *Store) SavePresence(ctx context.Context, r PresenceRow) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO presence (agent, device_id, state, last_seen) VALUES (?, ?, ?, ?)
		ON CONFLICT (agent) DO UPDATE SET device_id = excluded.device_id, state = excluded.state, last_seen = excluded.last_seen`,
		r.Agent, r.Device, string(r.State), ms(r.LastSeen))
	if err != nil {
		return fmt.Errorf("save presence of %s: %w", r.Agent, err)
	}
	return nil
}

// Presence returns every agent's last board state.
func (s *Store) Presence(ctx context.Context) ([]PresenceRow, error) {
	rows, err := s.query(ctx, s.db, `SELECT agent, device_id, state, last_seen FROM presence ORDER BY agent`)
	if err != nil {
		return nil, fmt.Errorf("load presence: %w", err)
	}
	defer rows.Close()
	var out []PresenceRow
	for rows.Next() {
		var (
			r     PresenceRow
			state string
			seen  int64
		)
		if err := rows.Scan(&r.Agent, &r.Device, &state, &seen); err != nil {
			return nil, fmt.Errorf("load presence: %w", err)
		}
		r.State, r.LastSeen = []byte(state), fromMS(seen)
		out = append(out, r)
	}
	return out, rows.Err()
}
