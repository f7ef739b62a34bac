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
	ErrDisabled     = errors.New("account disabled")
	ErrExists       = errors.New("already exists")
)
