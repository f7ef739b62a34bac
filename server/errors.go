package server

import "errors"

// Errors the store and the HTTP layer share; callers test them with errors.Is.
// The HTTP layer maps them to statuses (see httpapi).
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrInvalid      = errors.New("invalid input")
	ErrUnauthorized = errors.New("not authenticated")
	ErrForbidden    = errors.New("not allowed for this role")
	ErrTokenRevoked = errors.New("device token revoked")
	ErrTokenExpired = errors.New("device token expired")
	ErrDisabled     = errors.New("account disabled")
	ErrExists       = errors.New("already exists")
	// ErrGone: the thing was deleted (by retention, review or erasure).
	ErrGone = errors.New("deleted")
	// ErrNoKey: the server has no organisation identity to decrypt with.
	ErrNoKey = errors.New("the server has no organisation key (start it with --identity)")
	// ErrRedactionPending: a recording holds card details not yet silenced
	// (the redaction waits or failed), so nobody may play or download it.
	ErrRedactionPending = errors.New("card details in this recording are not yet silenced")
	// ErrAuditFailed: the audit record of a read or a change could not be
	// written, so the read was not served and the change not made.
	ErrAuditFailed = errors.New("the audit log cannot be written")
)
