package protect

import (
	"context"
	"fmt"
	"slices"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// The states each decision may be taken from. Decide and Allows both use
// them, so what a client is offered is what Decide accepts.
var (
	confirmFrom = []server.ReviewState{server.ReviewAutoRedacted}
	keepFrom    = []server.ReviewState{server.ReviewOpen, server.ReviewAwaitingApproval}
	deleteFrom  = []server.ReviewState{server.ReviewOpen, server.ReviewRedactionPending, server.ReviewAutoRedacted}
)

// cardDetailsPending reports whether it holds card details not yet
// redacted, which may never be kept (PCI DSS 3.3.1).
func (s *Service) cardDetailsPending(it server.ReviewItem) bool {
	r := s.o.Policy.FlagReason(it.Reason)
	return r != nil && r.RedactNow && it.FromMS != nil && it.Outcome == server.OutcomePending
}

// Allows lists what a dpo may do with it now (server.ReviewItem.Allows),
// by the same rules as Decide and Approve: a deletion needs the recording
// on the server (and the organisation key to silence an interval), card
// details not yet redacted cannot be kept, a redaction done at once is
// confirmed, and a decision awaiting approval is approved or rejected.
// Approve's further rule, that the approver is not the one who decided,
// depends on who asks and is checked when they do.
func (s *Service) Allows(it server.ReviewItem) []string {
	var out []string
	if slices.Contains(deleteFrom, it.State) && it.Recording == server.RecordingStored {
		out = append(out, server.DecisionDelete)
		if s.HasKey() {
			out = append(out, server.DecisionDeleteInterval)
		}
	}
	if slices.Contains(keepFrom, it.State) && !s.cardDetailsPending(it) {
		out = append(out, server.DecisionKeep)
	}
	if slices.Contains(confirmFrom, it.State) {
		out = append(out, server.DecisionConfirm)
	}
	if it.State == server.ReviewAwaitingApproval {
		out = append(out, server.ReviewApprove)
	}
	return out
}

// Decide records a dpo's decision on a review item and, unless the
// two-person rule asks for a second dpo's approval first, carries it out.
func (s *Service) Decide(ctx context.Context, p server.Principal, id string, d server.Decision) (server.ReviewItem, error) {
	if err := d.Validate(); err != nil {
		return server.ReviewItem{}, err
	}
	it, err := s.o.Store.ReviewItem(ctx, id)
	if err != nil {
		return server.ReviewItem{}, err
	}
	// change makes the decision and its audit record in one transaction.
	change := func(c store.ReviewChange) (server.ReviewItem, error) {
		var out server.ReviewItem
		err := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
			var err error
			out, err = s.o.Store.ChangeReview(ctx, id, c)
			return entry{server.AuditReviewDecide, out.CallID, map[string]any{"item": id, "action": d.Action, "from_ms": d.FromMS, "to_ms": d.ToMS, "state": out.State}}, err
		})
		return out, err
	}
	switch d.Action {
	case server.DecisionConfirm:
		return change(store.ReviewChange{From: confirmFrom, State: server.ReviewDone,
			Outcome: server.OutcomeRedacted, Decide: &d, DecidedBy: p.Username})
	case server.DecisionKeep:
		// Not yet redacted: waiting for the key or the recording, or for a
		// second dpo to approve its deletion.
		if s.cardDetailsPending(it) {
			return server.ReviewItem{}, fmt.Errorf("card details cannot be kept (PCI DSS 3.3.1): they are redacted as soon as the server can: %w", server.ErrConflict)
		}
		return change(store.ReviewChange{From: keepFrom, State: server.ReviewDone,
			Outcome: server.OutcomeKept, Decide: &d, DecidedBy: p.Username})
	case server.DecisionDeleteInterval:
		if d.FromMS == nil {
			d.FromMS, d.ToMS = it.FromMS, it.ToMS
		}
		if d.FromMS == nil {
			return server.ReviewItem{}, fmt.Errorf("the item has no interval: give from_ms and to_ms: %w", server.ErrInvalid)
		}
		fallthrough
	case server.DecisionDelete:
		if it.Recording != server.RecordingStored {
			return server.ReviewItem{}, fmt.Errorf("the recording is %s, not stored on the server: %w", it.Recording, server.ErrConflict)
		}
		if d.Action == server.DecisionDeleteInterval && !s.HasKey() {
			return server.ReviewItem{}, server.ErrNoKey
		}
	}
	from := deleteFrom
	state := server.ReviewApproved
	if s.o.Policy.Review.TwoPersonDeletion {
		state = server.ReviewAwaitingApproval
	}
	it, err = change(store.ReviewChange{From: from, State: state, Pending: it.Pending, Decide: &d, DecidedBy: p.Username})
	if err != nil || state == server.ReviewAwaitingApproval {
		return it, err
	}
	return s.carryOut(ctx, it)
}

// Approve is the second dpo's answer to a decided deletion: approve
// carries it out, reject returns the item to the queue.
func (s *Service) Approve(ctx context.Context, p server.Principal, id string, approve bool) (server.ReviewItem, error) {
	it, err := s.o.Store.ReviewItem(ctx, id)
	if err != nil {
		return server.ReviewItem{}, err
	}
	if it.State != server.ReviewAwaitingApproval {
		return it, fmt.Errorf("review item %s is %s, not awaiting approval: %w", id, it.State, server.ErrConflict)
	}
	if err := s.o.Store.Independent(ctx, it.DecidedBy, p.Username, s.o.Policy.Review.IndependenceWindow()); err != nil {
		return it, fmt.Errorf("review item %s: %w", id, err)
	}
	change := func(c store.ReviewChange) (server.ReviewItem, error) {
		action := server.AuditReviewApprove
		if !approve {
			action = server.AuditReviewReject
		}
		var out server.ReviewItem
		err := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
			var err error
			out, err = s.o.Store.ChangeReview(ctx, id, c)
			return entry{action, out.CallID, map[string]any{"item": id}}, err
		})
		return out, err
	}
	if !approve {
		state := server.ReviewOpen
		if s.cardDetailsPending(it) {
			state = server.ReviewRedactionPending
		}
		return change(store.ReviewChange{From: []server.ReviewState{server.ReviewAwaitingApproval}, State: state, Pending: it.Pending, ClearDecision: true})
	}
	it, err = change(store.ReviewChange{From: []server.ReviewState{server.ReviewAwaitingApproval}, State: server.ReviewApproved, Pending: it.Pending, ApprovedBy: p.Username})
	if err != nil {
		return it, err
	}
	return s.carryOut(ctx, it)
}

// carryOut does an approved deletion: the whole recording, or an interval.
// The item is read again under the call's lock, so the worker and a
// request never carry out the same decision twice.
func (s *Service) carryOut(ctx context.Context, it server.ReviewItem) (server.ReviewItem, error) {
	defer s.lock(it.CallID)()
	it, err := s.o.Store.ReviewItem(ctx, it.ID)
	if err != nil || it.State != server.ReviewApproved {
		return it, err
	}
	by := server.Principal{Username: it.DecidedBy}
	switch it.Decision {
	case server.DecisionDelete:
		rec, err := s.o.Store.Recording(ctx, it.CallID)
		if err == nil {
			_, err = s.o.Blobs.Delete(it.CallID)
		}
		if err == nil {
			err = s.audited(ctx, by, func(ctx context.Context) (entry, error) {
				return entry{server.AuditRecordingDelete, it.CallID, map[string]any{"item": it.ID, "approved_by": it.ApprovedBy, "sha256": rec.SHA256, "bytes": rec.Size}},
					s.o.Store.DeleteRecording(ctx, it.CallID)
			})
		}
		if err != nil {
			return it, fmt.Errorf("delete recording of %s: %w", it.CallID, err)
		}
		return s.o.Store.ReviewItem(ctx, it.ID)
	case server.DecisionDeleteInterval:
		if it.DecisionFromMS == nil || it.DecisionToMS == nil {
			return it, fmt.Errorf("review item %s: no interval: %w", it.ID, server.ErrInvalid)
		}
		iv := artefact.Interval{FromMS: *it.DecisionFromMS, ToMS: *it.DecisionToMS}
		if err := s.redact(ctx, it.CallID, iv, it.Reason, by, it.ID); err != nil {
			return it, err
		}
		return s.o.Store.ChangeReview(ctx, it.ID, store.ReviewChange{From: []server.ReviewState{server.ReviewApproved}, State: server.ReviewDone, Outcome: server.OutcomeRedacted})
	}
	return it, fmt.Errorf("review item %s: nothing to carry out for %q: %w", it.ID, it.Decision, server.ErrConflict)
}
