package wire

import "strconv"

// EventStatus is what the server did with one event of a batch.
type EventStatus string

// The statuses of an event. Only Refused asks anything of the desktop: it
// keeps the event aside (never sends it again) and counts it; the others
// mean the desktop may drop its copy.
const (
	// Accepted: stored and applied to its call now.
	Accepted EventStatus = "accepted"
	// Duplicate: stored before (same id from the same account); resending
	// is harmless.
	Duplicate EventStatus = "duplicate"
	// Discarded: not applied because its call was deleted on the server
	// (retention, review or erasure); only its id is kept, so a resend is
	// recognised. The desktop drops it: the call is gone.
	Discarded EventStatus = "discarded"
	// Refused: the server can never accept this event (out of contract,
	// past a limit, its id taken by another account); Reason says why.
	Refused EventStatus = "refused"
)

// EventResult is the server's answer for one event.
type EventResult struct {
	ID     string      `json:"id"`
	Seq    uint64      `json:"seq"`
	Status EventStatus `json:"status"`
	// Reason says, in words, why an event was refused or discarded.
	Reason string `json:"reason,omitempty"`
}

// IngestReply is the body answering POST /api/v1/events.
type IngestReply struct {
	Accepted  int `json:"accepted"`
	Duplicate int `json:"duplicate"`
	Discarded int `json:"discarded"`
	Refused   int `json:"refused"`
	// AckedSeq is the highest seq through which every event of the batch
	// was stored (accepted, duplicate or discarded): what a desktop that
	// does not read Results may drop. It stops below the first refused
	// event.
	AckedSeq uint64 `json:"acked_seq"`
	// Gaps counts places where the device's seqs skipped numbers since its
	// previous batch or within this one (a sign of events lost before they
	// were sent).
	Gaps int `json:"gaps"`
	// Results has one entry per event of the request, in its order.
	Results []EventResult `json:"results"`
}

// RefusedText is how the officer's status line and the supervisors' board
// put a count of refused events: "3 events refused by the server".
func RefusedText(n int) string {
	if n == 1 {
		return "1 event refused by the server"
	}
	return strconv.Itoa(n) + " events refused by the server"
}
