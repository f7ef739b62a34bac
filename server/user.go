package server

import "time"

// User is an account. Agents' usernames are the agent ids the desktops put
// in their events.
type User struct {
	ID       int64     `json:"id"`
	Username string    `json:"username"`
	Role     Role      `json:"role"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
	// JobRole is the job role the account holds as an authoriser of
	// releases ("Data Protection Officer"), matched against the policy's
	// release purposes; "" for none.
	JobRole string `json:"job_role,omitempty"`
}

// Device is an enrolled desktop (or other client) acting for a user with a
// bearer token. Only the token's hash is stored.
type Device struct {
	ID       string     `json:"id"`
	UserID   int64      `json:"user_id"`
	Username string     `json:"username"`
	Role     Role       `json:"role"`
	Name     string     `json:"name"`
	Created  time.Time  `json:"created"`
	LastSeen *time.Time `json:"last_seen,omitempty"`
	Revoked  *time.Time `json:"revoked,omitempty"`
	// Expires is when the device's token stops working (the policy's
	// device_token_days after it was issued or last rotated).
	Expires *time.Time `json:"expires,omitempty"`
	// AckedSeq is the highest event seq of this device the server
	// answered (stored, or refused: the desktop keeps those aside).
	AckedSeq uint64 `json:"acked_seq"`
	// SeqGaps counts batches that skipped seqs: a sign of lost events.
	SeqGaps int64 `json:"seq_gaps"`
	// Refused counts the events of this device the server refused.
	Refused int64 `json:"refused_events"`
}

// Principal is who a request acts for: the device and its user.
type Principal struct {
	UserID   int64
	Username string
	Role     Role
	DeviceID string
	// IP is the client's address, for the audit (the real client's when a
	// trusted proxy forwarded the request).
	IP string
	// TokenExpires is when the device's token stops working (zero: never).
	TokenExpires time.Time
}

// Rotation is what a device gets when it rotates its token: the new token
// (shown once) and when it expires. The old token keeps working for
// RotationGrace, in case the reply is lost.
type Rotation struct {
	Token    string    `json:"token"`
	DeviceID string    `json:"device_id"`
	Expires  time.Time `json:"expires"`
}

// RotationGrace is how long a rotated-out token still works.
const RotationGrace = 10 * time.Minute

// Enrolment is what a device gets when it enrols: its token (shown once),
// its id, and the account it acts for.
type Enrolment struct {
	Token    string `json:"token"`
	DeviceID string `json:"device_id"`
	Role     Role   `json:"role"`
	Agent    string `json:"agent"`
}
