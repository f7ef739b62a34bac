package server

import (
	"strconv"
	"time"
)

// Audit actions written by the server. Playing and downloading a
// recording are different actions: a play decrypts on the server and
// streams audio, a download hands out the encrypted file.
const (
	AuditLogin        = "login"
	AuditLoginFailed  = "login.failed"
	AuditAuthzDenied  = "authz.denied"
	AuditTokenDenied  = "token.denied"
	AuditUserAdd      = "user.add"
	AuditUserDisable  = "user.disable"
	AuditUserEnable   = "user.enable"
	AuditRoleChange   = "user.role"
	AuditDeviceRevoke = "device.revoke"
	AuditDeviceRotate = "device.rotate"
	AuditCallsSearch  = "calls.search"
	AuditCallRead     = "call.read"

	AuditPlay            = "recording.play"
	AuditDownload        = "recording.download"
	AuditRecordingDelete = "recording.delete"
	AuditRecordingStore  = "recording.store" // its device is the uploader's
	AuditRedact          = "recording.redact"
	AuditRedactPending   = "recording.redact-pending"
	AuditReviewList      = "review.list"
	AuditReviewDecide    = "review.decide"
	AuditReviewApprove   = "review.approve"
	AuditReviewReject    = "review.reject"
	AuditHoldPlace       = "hold.place"
	AuditHoldLiftRequest = "hold.lift-request"
	AuditHoldLift        = "hold.lift"
	AuditHoldsList       = "hold.list"
	AuditRetentionDelete = "retention.delete"
	AuditRetentionReport = "retention.report"
	AuditErasureRequest  = "erasure.request"
	AuditErasureApprove  = "erasure.approve"
	AuditErasureDone     = "erasure.done"   // calls deleted by an erasure
	AuditErasureFinish   = "erasure.finish" // an erasure carried out: what it erased, what holds kept
	AuditErasureReject   = "erasure.reject"
	AuditSubjectAccess   = "subject-access.export"
	AuditSearch          = "audit.search"
	AuditExport          = "audit.export"
	AuditCheckpointed    = "audit.checkpoint"
	AuditVerify          = "audit.verify" // the chain verified from the workspace
	AuditNumberLookups   = "audit.number" // a dpo asked who looked up a number

	AuditReleaseRequest   = "release.request"
	AuditReleaseAuthorise = "release.authorise"
	// AuditReleaseRefused: an account tried to authorise a release it may
	// not (the wrong job role, its own request).
	AuditReleaseRefused = "release.authorise-refused"
	AuditReleasePackage = "release.package" // the package was generated and handed over
	AuditReleaseList    = "release.list"
	AuditReleaseRead    = "release.read"
	AuditReleaseExport  = "release.export" // the register as CSV
	AuditUserJobRole    = "user.job-role"  // an account's authoriser job role set or cleared

	AuditTeamAdd          = "team.add"
	AuditTeamRemove       = "team.remove"
	AuditTeamMemberAdd    = "team.member-add"
	AuditTeamMemberRemove = "team.member-remove"
)

// AuditDenialsSuppressed says how many more of one principal's refused
// requests a minute had, past AuditDenialsPerMinute recorded one by one.
const AuditDenialsSuppressed = "authz.denied.suppressed"

// AuditDenialsPerMinute is how many of one principal's refused requests
// (authz.denied, token.denied) a minute are audited one by one; the rest
// are counted in one authz.denied.suppressed record, so forbidden requests
// cannot grow the audit log without bound.
const AuditDenialsPerMinute = 10

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

// HoldTarget is the audit target of a hold: its call, or "hold:<id>".
func HoldTarget(h Hold) string {
	if h.CallID != "" {
		return h.CallID
	}
	return "hold:" + strconv.FormatInt(h.ID, 10)
}

// ErasureTarget is the audit target of an erasure: "erasure:<id>".
func ErasureTarget(id int64) string { return "erasure:" + strconv.FormatInt(id, 10) }
