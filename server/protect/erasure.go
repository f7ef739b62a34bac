package protect

import (
	"context"
	"fmt"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// RequestErasure starts the erasure of everything about a phone number:
// every call with it as the remote number that no hold keeps loses its
// recording and personal data, with a tombstone each. Under the two-person
// rule it waits for a second dpo (ApproveErasure); otherwise it is carried
// out at once.
func (s *Service) RequestErasure(ctx context.Context, p server.Principal, number, reference string) (server.Erasure, error) {
	key := server.NumberKey(number)
	if key == "" || len(key) > 128 {
		return server.Erasure{}, fmt.Errorf("the number is not a phone number: %w", server.ErrInvalid)
	}
	if len(reference) > 256 {
		return server.Erasure{}, fmt.Errorf("reference is longer than 256 bytes: %w", server.ErrInvalid)
	}
	state := store.ErasureApproved
	if s.o.Policy.Review.TwoPersonDeletion {
		state = server.ErasureAwaitingApproval
	}
	var e server.Erasure
	err := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
		var err error
		e, err = s.o.Store.CreateErasure(ctx, key, reference, p.Username, state)
		// The audit never holds a whole phone number.
		return entry{server.AuditErasureRequest, server.ErasureTarget(e.ID), map[string]any{"number": server.MaskNumber(key), "reference": reference,
			"erasure": e.ID, "state": e.State, "number_hmac": server.NumberHMAC(s.o.NumberSecret, key)}}, err
	})
	if err != nil || state != store.ErasureApproved {
		return e, err
	}
	return s.erase(ctx, e.ID)
}

// ApproveErasure is the second dpo's answer to an erasure request.
func (s *Service) ApproveErasure(ctx context.Context, p server.Principal, id int64, approve bool) (server.Erasure, error) {
	var e server.Erasure
	err := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
		action := server.AuditErasureApprove
		if !approve {
			action = server.AuditErasureReject
		}
		if approve {
			asked, _, err := s.o.Store.Erasure(ctx, id)
			if err != nil {
				return entry{}, err
			}
			if asked.RequestedBy != p.Username {
				if err := s.o.Store.Independent(ctx, asked.RequestedBy, p.Username, s.o.Policy.Review.IndependenceWindow()); err != nil {
					return entry{}, fmt.Errorf("erasure %d: %w", id, err)
				}
			}
		}
		var err error
		e, err = s.o.Store.ApproveErasure(ctx, id, p.Username, !approve)
		return entry{action, server.ErasureTarget(id), map[string]any{"erasure": id, "approve": approve, "state": e.State}}, err
	})
	if err != nil || !approve {
		return e, err
	}
	return s.erase(ctx, id)
}

// erase carries out an approved erasure; run again after a crash it
// finishes what it began.
func (s *Service) erase(ctx context.Context, id int64) (server.Erasure, error) {
	e, key, err := s.o.Store.Erasure(ctx, id)
	if err != nil {
		return e, err
	}
	if e.State != store.ErasureApproved {
		return e, fmt.Errorf("erasure %d is %s: %w", id, e.State, server.ErrConflict)
	}
	free, held, err := s.o.Store.NumberCandidates(ctx, key)
	if err != nil {
		return e, err
	}
	ref := fmt.Sprint(id)
	actor := e.RequestedBy
	if e.ApprovedBy != "" {
		actor += "+" + e.ApprovedBy
	}
	if _, err := s.o.Store.BeginDeletions(ctx, free, server.CauseErasure, ref, actor, s.o.Blobs.PartialSHA256); err != nil {
		return e, err
	}
	// What this erasure began (now or before a crash), and calls of the
	// number whose retention deletion was under way: all finish now.
	ids, err := s.o.Store.PendingDeletions(ctx, server.CauseErasure, ref, 1<<30)
	if err != nil {
		return e, err
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	for _, c := range free {
		if t, err := s.o.Store.Tombstone(ctx, c.CallID); err == nil && t.State == "pending" && !seen[c.CallID] {
			ids = append(ids, c.CallID)
		}
	}
	var rep server.ExpiryReport
	if _, err := s.delete(ctx, ids, &rep); err != nil {
		return e, err
	}
	erased, err := s.o.Store.ErasedBy(ctx, ref)
	if err != nil {
		return e, err
	}
	for _, id := range ids {
		if t, err := s.o.Store.Tombstone(ctx, id); err == nil && t.State == "done" && t.Cause != server.CauseErasure {
			erased = append(erased, id)
		}
	}
	err = s.audited(ctx, server.Principal{Username: actor}, func(ctx context.Context) (entry, error) {
		var err error
		e, err = s.o.Store.FinishErasure(ctx, id, erased, held)
		return entry{server.AuditErasureFinish, server.ErasureTarget(id), map[string]any{"erasure": id, "erased": e.Erased, "held": len(e.Held)}}, err
	})
	return e, err
}
