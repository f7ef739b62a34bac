package server

import "time"

// WebSession is a browser's sign-in to the web workspace. Only the hash of
// its token is stored; the token itself lives in the browser's cookie.
type WebSession struct {
	TokenHash string
	UserID    int64
	// Username, Role and Disabled are the account's now (read with the
	// session), so a role change or a disabled account takes effect at the
	// next request.
	Username string
	Role     Role
	Disabled bool
	Created  time.Time
	LastSeen time.Time
	// Expires is the absolute end, whatever the activity.
	Expires time.Time
	// Ended is when the person signed out.
	Ended *time.Time
	IP    string
	// Via is how the session began: "password" or "link" (the desktop's
	// one-time link).
	Via string
}

// WebLink is a one-time link that signs a browser in as the account of
// the desktop that asked for it. Only the hash of its token is stored.
type WebLink struct {
	TokenHash string
	UserID    int64
	Username  string
	Role      Role
	Disabled  bool
	DeviceID  string
	Created   time.Time
	Expires   time.Time
	Used      *time.Time
}

// Audit actions of the web workspace.
const (
	AuditLogout      = "logout"
	AuditLinkIssue   = "workspace.link"
	AuditLinkRefused = "workspace.link-refused"
	AuditCallsExport = "calls.export"
)
