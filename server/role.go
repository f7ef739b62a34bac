package server

import "fmt"

// Role is what an account may do. The zero value is RoleUnknown, which may
// do nothing.
type Role string

// The roles.
const (
	RoleUnknown    Role = ""
	RoleAgent      Role = "agent"      // takes calls; reads only its own calls
	RoleSupervisor Role = "supervisor" // watches the live board, searches calls
	RoleDPO        Role = "dpo"        // data-protection officer: review, holds, audit
	RoleAdmin      Role = "admin"      // IT: users and devices, no personal data
	// RoleCollector is the collector beside the phone system's recorder:
	// it uploads the recordings of calls the phone system recorded, and
	// reads nothing.
	RoleCollector Role = "collector"
)

// Roles lists every valid role.
var Roles = []Role{RoleAgent, RoleSupervisor, RoleDPO, RoleAdmin, RoleCollector}

// ParseRole returns the role called s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return RoleUnknown, fmt.Errorf("role %q: want agent, supervisor, dpo, admin or collector: %w", s, ErrInvalid)
}

// String returns the role's name, "unknown" for the zero value.
func (r Role) String() string {
	if r == RoleUnknown {
		return "unknown"
	}
	return string(r)
}

// In reports whether r is one of roles.
func (r Role) In(roles ...Role) bool {
	for _, x := range roles {
		if r == x && r != RoleUnknown {
			return true
		}
	}
	return false
}
