package server

import "time"

// Audit actions written by the server. Issue 9 adds play, download, delete,
// redact, hold and release.
const (
	AuditLogin        = "login"
	AuditLoginFailed  = "login.failed"
	AuditAuthzDenied  = "authz.denied"
	AuditTokenDenied  = "token.denied"
	AuditUserAdd      = "user.add"
	AuditUserDisable  = "user.disable"
	AuditDeviceRevoke = "device.revoke"
	AuditCallsSearch  = "calls.search"
	AuditCallRead     = "call.read"
)

// AuditRecord is one row of the append-only audit log. Hash is the sha256 of
// PrevHash and the record's other fields (see store.AuditHash), so changing
// or removing a row breaks the chain at that row.
type AuditRecord struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`  // username, or "" for anonymous
	Device   string    `json:"device"` // device id, if any
	Action   string    `json:"action"`
	Target   string    `json:"target"` // call id, username, device id…
	Detail   string    `json:"detail"` // JSON object with the particulars
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}
