package server

import (
	"fmt"
	"time"
)

// Team is a group of accounts: a supervisor sees the board, the calls and
// the recordings of the agents who share a team with her, and no others.
// A server with no team at all is one team: every supervisor sees every
// agent, as before teams existed.
type Team struct {
	Name    string    `json:"name"`
	Members []string  `json:"members"`
	Created time.Time `json:"created"`
}

// ValidTeamName checks a team's name: 1–64 characters, no control characters.
func ValidTeamName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("team name must have 1–64 characters: %w", ErrInvalid)
	}
	for _, r := range name {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("team name has a control character: %w", ErrInvalid)
		}
	}
	return nil
}
