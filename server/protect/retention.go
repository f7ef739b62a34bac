package protect

import (
	"context"
	"fmt"
	"time"

	"github.com/callguard/callguard/server"
)

// Expire deletes every call past its delete_after that no hold keeps:
// first it finishes deletions an interrupted run began, then, batch by
// batch, it writes pending tombstones, deletes the recordings (a
// recording already gone is fine) and, in one transaction per batch,
// erases the calls' personal data and marks the tombstones done. Killed at
// any point, the next run ends with the same result, and no call is
// recorded as deleted twice.
func (s *Service) Expire(ctx context.Context) (rep server.ExpiryReport, err error) {
	now, began := s.o.Clock(), time.Now()
	rep = server.ExpiryReport{Started: now.UTC()}
	defer func() { rep.Took = time.Since(began) }()
	stage := func(name string) {
		if s.o.Stage != nil {
			s.o.Stage(name, rep.Batches)
		}
	}
	for {
		ids, err := s.o.Store.PendingDeletions(ctx, "", "", s.o.Batch)
		if err != nil || len(ids) == 0 {
			if err != nil {
				return rep, err
			}
			break
		}
		n, err := s.delete(ctx, ids, &rep)
		if err != nil {
			return rep, err
		}
		rep.Resumed += n
		rep.Batches++
		stage("resumed")
	}
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		cands, err := s.o.Store.ExpiryCandidates(ctx, now, s.o.Batch)
		if err != nil {
			return rep, err
		}
		if len(cands) == 0 {
			break
		}
		stage("candidates")
		begun, err := s.o.Store.BeginDeletions(ctx, cands, server.CauseRetention, "", "retention", s.o.Blobs.PartialSHA256)
		if err != nil {
			return rep, err
		}
		stage("begun")
		if len(begun) == 0 {
			break // taken by a concurrent run or a new hold: nothing left for us
		}
		if _, err := s.delete(ctx, begun, &rep); err != nil {
			return rep, err
		}
		rep.Batches++
		stage("finished")
	}
	rp, err := s.o.Store.RetentionReport(ctx, now, now, 0)
	if err == nil {
		rep.HeldPast = rp.HeldPastDate
	}
	return rep, nil
}

// delete removes the blobs of begun deletions and finishes them.
func (s *Service) delete(ctx context.Context, ids []string, rep *server.ExpiryReport) (int, error) {
	for _, id := range ids {
		unlock := s.lock(id)
		existed, err := s.o.Blobs.Remove(id)
		unlock()
		if err != nil {
			return 0, err
		}
		if existed {
			rep.Blobs++
		} else {
			rep.Missing++
		}
		if s.o.Stage != nil {
			s.o.Stage("blob", rep.Blobs+rep.Missing)
		}
	}
	// The removals must be durable before the tombstones say "done".
	if err := s.o.Blobs.SyncDirs(ids...); err != nil {
		return 0, err
	}
	if s.o.Stage != nil {
		s.o.Stage("blobs", rep.Batches)
	}
	done, err := s.o.Store.FinishDeletions(ctx, ids)
	if err != nil {
		return 0, err
	}
	rep.Deleted += len(done)
	return len(done), nil
}

// LiftHold lifts a hold for p, or, when the policy wants two dpos, records
// p's request or completes another dpo's (see store.LiftHold).
func (s *Service) LiftHold(ctx context.Context, p server.Principal, id int64, reason string) (server.Hold, bool, error) {
	var (
		h      server.Hold
		lifted bool
	)
	err := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
		twoPerson := s.o.Policy.Review.TwoPersonHoldLift
		if twoPerson {
			asked, err := s.o.Store.Hold(ctx, id)
			if err != nil {
				return entry{}, err
			}
			if asked.LiftRequestedBy != "" && asked.Lifted == nil && asked.LiftRequestedBy != p.Username {
				if err := s.o.Store.Independent(ctx, asked.LiftRequestedBy, p.Username, s.o.Policy.Review.IndependenceWindow()); err != nil {
					return entry{}, fmt.Errorf("hold %d: %w", id, err)
				}
			}
		}
		var err error
		h, lifted, err = s.o.Store.LiftHold(ctx, id, p.Username, reason, twoPerson)
		action := server.AuditHoldLiftRequest
		if lifted {
			action = server.AuditHoldLift
		}
		return entry{action, server.HoldTarget(h), map[string]any{"hold": id, "reason": reason, "calls": h.Calls}}, err
	})
	return h, lifted, err
}
