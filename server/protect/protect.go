package protect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/blob"
	"github.com/callguard/callguard/server/store"
)

// Options configure a Service.
type Options struct {
	Store *store.Store
	Blobs *blob.Store
	// Policy gives retention, recipients and the review rules (default:
	// the store's policy).
	Policy *policy.Policy
	// Identities is the organisation's age key; without it recordings
	// cannot be played or redacted (downloading the encrypted file works).
	Identities []age.Identity
	Clock      func() time.Time
	Logger     *slog.Logger
	// Batch is how many calls one expiry transaction deletes [500].
	Batch int
	// Every is how often Run expires calls [1 h]; RetryEvery how often it
	// retries pending redactions and signs a catch-up checkpoint [1 min].
	Every      time.Duration
	RetryEvery time.Duration
	// NumberSecret keys the hash of phone numbers in the audit (see
	// server.NumberHMAC).
	NumberSecret []byte
	// Stage, if set, is called after each stage of an expiry batch
	// ("candidates", "begun", "blob" after each recording, "blobs",
	// "finished"); tests kill the process there.
	Stage func(stage string, batch int)
}

// Service does the data-protection work on one store and blob store.
type Service struct {
	o    Options
	kick chan struct{}

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// New returns a Service; Run starts its worker.
func New(o Options) *Service {
	if o.Policy == nil {
		o.Policy = o.Store.Policy()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Every <= 0 {
		o.Every = time.Hour
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = time.Minute
	}
	return &Service{o: o, kick: make(chan struct{}, 1), locks: map[string]*sync.Mutex{}}
}

// HasKey reports whether the service can decrypt (play, redact).
func (s *Service) HasKey() bool { return len(s.o.Identities) > 0 }

// Kick wakes the worker to take up pending work (a card flag came in, a
// recording was stored) at once.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run is the worker: it finishes what a crash left half done, then expires
// calls every Every, and does pending redactions and decided deletions when
// kicked and every RetryEvery, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	if err := s.Recover(ctx); err != nil && ctx.Err() == nil {
		s.o.Logger.Error("data protection: recovery failed", "err", err)
	}
	expire := time.NewTicker(s.o.Every)
	defer expire.Stop()
	retry := time.NewTicker(s.o.RetryEvery)
	defer retry.Stop()
	s.expire(ctx)
	s.work(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			s.work(ctx)
		case <-retry.C:
			s.work(ctx)
			if _, err := s.o.Store.CatchUpCheckpoint(ctx); err != nil && ctx.Err() == nil {
				s.o.Logger.Error("audit checkpoint failed", "err", err)
			}
		case <-expire.C:
			s.expire(ctx)
		}
	}
}

func (s *Service) expire(ctx context.Context) {
	rep, err := s.Expire(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.o.Logger.Error("retention run failed; the next run resumes it", "err", err)
		}
		return
	}
	if rep.Deleted > 0 || rep.HeldPast > 0 {
		s.o.Logger.Info("retention run", "deleted", rep.Deleted, "resumed", rep.Resumed, "recordings", rep.Blobs, "held_past_date", rep.HeldPast, "took", rep.Took)
	}
}

func (s *Service) work(ctx context.Context) {
	if _, err := s.Work(ctx); err != nil && ctx.Err() == nil {
		s.o.Logger.Error("data protection: pending work failed; retrying later", "err", err)
	}
}

// lock serialises changes to one call's recording in this process.
func (s *Service) lock(callID string) func() {
	s.mu.Lock()
	l := s.locks[callID]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[callID] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// auto is who the service's own work (card-detail redactions) is
// audited as.
var auto = server.Principal{Username: "auto"}

// entry is an audit record as the service describes it.
type entry struct {
	action, target string
	detail         map[string]any
}

// audited makes change and writes the audit record it returns, for p, in
// the same transaction: a change whose record cannot be written does not
// commit (the error wraps server.ErrAuditFailed).
func (s *Service) audited(ctx context.Context, p server.Principal, change func(ctx context.Context) (entry, error)) error {
	return s.o.Store.Tx(ctx, func(ctx context.Context) error {
		e, err := change(ctx)
		if err != nil {
			return err
		}
		if e.detail == nil {
			e.detail = map[string]any{}
		}
		if p.IP != "" {
			e.detail["ip"] = p.IP
		}
		b, _ := json.Marshal(e.detail)
		return s.o.Store.Audit(ctx, server.AuditRecord{Actor: p.Username, Device: p.DeviceID, Action: e.action, Target: e.target, Detail: string(b)})
	})
}

// Recover settles what a crash between staging a redacted recording and
// committing it left behind: a staged file the database already names is
// committed, any other is discarded.
func (s *Service) Recover(ctx context.Context) error {
	ids, err := s.o.Blobs.StagedIDs()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.settle(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) settle(ctx context.Context, callID string) error {
	sum, ok, err := s.o.Blobs.Staged(callID)
	if err != nil || !ok {
		return err
	}
	rec, err := s.o.Store.Recording(ctx, callID)
	if err == nil && rec.Status == "stored" && rec.SHA256 == sum {
		s.o.Logger.Info("committing a redacted recording a crash left staged", "call", callID)
		return s.o.Blobs.Commit(callID, rec.Manifest)
	}
	return s.o.Blobs.Discard(callID)
}

// ---- Retention ----------------------------------------------------------

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

// ---- Redaction and review -----------------------------------------------

// Work does what is pending: card-detail redactions waiting for the key or
// the recording, and decided deletions a crash interrupted. It returns how
// many items it completed.
func (s *Service) Work(ctx context.Context) (int, error) {
	n := 0
	items, err := s.o.Store.PendingRedactions(ctx, 100)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		done, err := s.autoRedact(ctx, it)
		if err != nil {
			s.o.Logger.Error("redaction of card details failed; retrying later", "item", it.ID, "call", it.CallID, "err", err)
			// The dpo sees it on the item; the recording stays unplayable.
			if it.Pending != server.PendingFailed {
				s.o.Store.ChangeReview(ctx, it.ID, store.ReviewChange{From: []string{server.ReviewRedactionPending}, State: server.ReviewRedactionPending, Pending: server.PendingFailed})
			}
			continue
		}
		if done {
			n++
		}
	}
	approved, err := s.o.Store.ReviewQueue(ctx, store.ReviewFilter{States: []string{ReviewApproved}, Limit: 100})
	if err != nil {
		return n, err
	}
	for _, it := range approved {
		if _, err := s.carryOut(ctx, it); err != nil {
			s.o.Logger.Error("a decided deletion failed; retrying later", "item", it.ID, "call", it.CallID, "err", err)
			continue
		}
		n++
	}
	erasures, err := s.o.Store.Erasures(ctx, store.ErasureApproved)
	if err != nil {
		return n, err
	}
	for _, e := range erasures {
		if _, err := s.erase(ctx, e.ID); err != nil {
			s.o.Logger.Error("an erasure failed; retrying later", "erasure", e.ID, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// ReviewApproved is the state of a review item whose deletion is decided
// (and approved, under the two-person rule) and being carried out.
const ReviewApproved = "approved"

func (s *Service) autoRedact(ctx context.Context, it server.ReviewItem) (bool, error) {
	// A dpo may decide the item meanwhile: work on it as it is under the lock.
	defer s.lock(it.CallID)()
	it, err := s.o.Store.ReviewItem(ctx, it.ID)
	if err != nil || it.State != server.ReviewRedactionPending {
		return false, err
	}
	pending := func(why string) (bool, error) {
		if it.Pending == why {
			return false, nil
		}
		change := store.ReviewChange{From: []string{server.ReviewRedactionPending}, State: server.ReviewRedactionPending, Pending: why}
		if why != server.PendingNoKey {
			_, err := s.o.Store.ChangeReview(ctx, it.ID, change)
			return false, err
		}
		return false, s.audited(ctx, auto, func(ctx context.Context) (entry, error) {
			_, err := s.o.Store.ChangeReview(ctx, it.ID, change)
			return entry{server.AuditRedactPending, it.CallID, map[string]any{"item": it.ID, "why": "the server has no organisation key"}}, err
		})
	}
	if it.Recording != server.RecordingStored {
		return pending(server.PendingNoRecording)
	}
	if !s.HasKey() {
		return pending(server.PendingNoKey)
	}
	if it.FromMS == nil || it.ToMS == nil {
		return false, errors.New("no interval to redact")
	}
	iv := artefact.Interval{FromMS: *it.FromMS, ToMS: *it.ToMS}
	if err := s.redact(ctx, it.CallID, iv, it.Reason, auto, it.ID); err != nil {
		return false, err
	}
	if _, err := s.o.Store.ChangeReview(ctx, it.ID, store.ReviewChange{From: []string{server.ReviewRedactionPending}, State: server.ReviewAutoRedacted, Outcome: server.OutcomeRedacted}); err != nil {
		return false, err
	}
	return true, nil
}

// recipients are whom a redacted recording is encrypted to: the policy's
// organisation keys, else those it was made for, else the server's key.
func (s *Service) recipients(manifest []byte) ([]age.Recipient, error) {
	if s.o.Policy != nil && len(s.o.Policy.Recipients) > 0 {
		return artefact.ParseRecipients(s.o.Policy.Recipients)
	}
	if m, err := artefact.ParseManifest(manifest); err == nil && len(m.Recipients) > 0 {
		return artefact.ParseRecipients(m.Recipients)
	}
	if r := artefact.RecipientsOf(s.o.Identities); len(r) > 0 {
		return r, nil
	}
	return nil, errors.New("no recipient to re-encrypt to: set the policy's recipients")
}

// redact silences iv in a stored recording and re-encrypts it: the new
// file is staged beside the old one, the database then names it (only if
// the recording is still the one redacted), and it replaces the old one.
// The caller holds the call's lock.
func (s *Service) redact(ctx context.Context, callID string, iv artefact.Interval, reason string, by server.Principal, ref string) error {
	if !s.HasKey() {
		return server.ErrNoKey
	}
	if err := s.settle(ctx, callID); err != nil {
		return err
	}
	rec, err := s.o.Store.Recording(ctx, callID)
	if err != nil {
		return err
	}
	if rec.Status != "stored" {
		return fmt.Errorf("recording %s is %s: %w", callID, rec.Status, server.ErrConflict)
	}
	manifest := rec.Manifest
	if len(manifest) == 0 {
		manifest = []byte(`{}`)
	}
	rcps, err := s.recipients(manifest)
	if err != nil {
		return err
	}
	var res artefact.RedactResult
	size, sum, err := s.o.Blobs.Stage(callID, func(w io.Writer) error {
		src, err := s.o.Blobs.Open(callID)
		if err != nil {
			return err
		}
		defer src.Close()
		h := sha256.New()
		res, err = artefact.Redact(io.TeeReader(src, h), s.o.Identities, rcps, []artefact.Interval{iv}, w)
		if err != nil {
			return err
		}
		if _, err := io.Copy(h, src); err != nil { // whatever followed an interrupted stream
			return err
		}
		if got := hexSum(h); got != rec.SHA256 {
			return fmt.Errorf("recording %s on disk has sha256 %s, the database %s: %w", callID, got, rec.SHA256, server.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redact %s: %w", callID, err)
	}
	red := artefact.Redaction{FromMS: iv.FromMS, ToMS: iv.ToMS, Reason: reason, By: by.Username, At: s.o.Clock().UTC(), Ref: ref,
		SHA256PlaintextBefore: res.BeforePlaintextSHA256, SHA256EncryptedBefore: rec.SHA256}
	newManifest, err := artefact.RecordRedaction(manifest, red, res)
	if err != nil {
		s.o.Blobs.Discard(callID)
		return fmt.Errorf("redact %s: %w", callID, err)
	}
	err = s.audited(ctx, by, func(ctx context.Context) (entry, error) {
		return entry{server.AuditRedact, callID, map[string]any{"item": ref, "reason": reason, "from_ms": iv.FromMS, "to_ms": iv.ToMS,
			"sha256_before": rec.SHA256, "sha256_after": sum, "silenced_bytes": res.SilencedBytes}}, s.o.Store.ReplaceRecording(ctx, callID, rec.SHA256, size, sum, newManifest)
	})
	if err != nil {
		s.o.Blobs.Discard(callID)
		return fmt.Errorf("redact %s: %w", callID, err)
	}
	if err := s.o.Blobs.Commit(callID, newManifest); err != nil {
		return fmt.Errorf("redact %s: %w", callID, err)
	}
	return nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

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
		return change(store.ReviewChange{From: []string{server.ReviewAutoRedacted}, State: server.ReviewDone,
			Outcome: server.OutcomeRedacted, Decide: &d, DecidedBy: p.Username})
	case server.DecisionKeep:
		// Not yet redacted: waiting for the key or the recording, or for a
		// second dpo to approve its deletion.
		if r := s.o.Policy.FlagReason(it.Reason); r != nil && r.RedactNow && it.FromMS != nil && it.Outcome == server.OutcomePending {
			return server.ReviewItem{}, fmt.Errorf("card details cannot be kept (PCI DSS 3.3.1): they are redacted as soon as the server can: %w", server.ErrConflict)
		}
		return change(store.ReviewChange{From: []string{server.ReviewOpen, server.ReviewAwaitingApproval}, State: server.ReviewDone,
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
	from := []string{server.ReviewOpen, server.ReviewRedactionPending, server.ReviewAutoRedacted}
	state := ReviewApproved
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
		if r := s.o.Policy.FlagReason(it.Reason); r != nil && r.RedactNow && it.FromMS != nil && it.Outcome == server.OutcomePending {
			state = server.ReviewRedactionPending
		}
		return change(store.ReviewChange{From: []string{server.ReviewAwaitingApproval}, State: state, Pending: it.Pending, ClearDecision: true})
	}
	it, err = change(store.ReviewChange{From: []string{server.ReviewAwaitingApproval}, State: ReviewApproved, Pending: it.Pending, ApprovedBy: p.Username})
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
	if err != nil || it.State != ReviewApproved {
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
		return s.o.Store.ChangeReview(ctx, it.ID, store.ReviewChange{From: []string{ReviewApproved}, State: server.ReviewDone, Outcome: server.OutcomeRedacted})
	}
	return it, fmt.Errorf("review item %s: nothing to carry out for %q: %w", it.ID, it.Decision, server.ErrConflict)
}

// ---- Playing ------------------------------------------------------------

// Play decrypts a stored recording and writes it to w as a playable WAV.
// before is called once the recording is found and decryptable, before
// anything is written (to set headers).
func (s *Service) Play(ctx context.Context, callID string, w io.Writer, before func()) (artefact.DecryptReport, error) {
	if !s.HasKey() {
		return artefact.DecryptReport{}, server.ErrNoKey
	}
	defer s.lock(callID)()
	if err := s.settle(ctx, callID); err != nil {
		return artefact.DecryptReport{}, err
	}
	rec, err := s.o.Store.Recording(ctx, callID)
	if err != nil {
		return artefact.DecryptReport{}, err
	}
	switch rec.Status {
	case "deleted":
		return artefact.DecryptReport{}, fmt.Errorf("recording %s: %w", callID, server.ErrGone)
	case "stored":
	default:
		return artefact.DecryptReport{}, fmt.Errorf("recording %s is still uploading: %w", callID, server.ErrConflict)
	}
	// Checked under the call's lock, which the redaction holds too.
	if err := s.CheckRedacted(ctx, callID); err != nil {
		return artefact.DecryptReport{}, err
	}
	started := false
	rep, err := artefact.Decrypt(s.o.Blobs.AudioPath(callID), s.o.Identities, writerFunc(func(p []byte) (int, error) {
		if !started {
			started = true
			if before != nil {
				before()
			}
		}
		return w.Write(p)
	}))
	return rep, err
}

// CheckRedacted fails with server.ErrRedactionPending, saying which review
// item waits and why, while the call's recording holds card details not
// yet silenced: nobody may play or download it until they are.
func (s *Service) CheckRedacted(ctx context.Context, callID string) error {
	it, pending, err := s.o.Store.UnredactedCardDetails(ctx, callID)
	if err != nil || !pending {
		return err
	}
	why := "is waiting to be silenced"
	switch {
	case it.State == server.ReviewAwaitingApproval || it.State == ReviewApproved:
		why = "waits for a decided deletion to be carried out"
	case it.Pending == server.PendingNoKey:
		why = "waits for the organisation key (start the server with --identity)"
	case it.Pending == server.PendingNoRecording:
		why = "waits for the recording to be uploaded"
	case it.Pending == server.PendingFailed:
		why = "could not be silenced (see the server's log; it is retried every minute)"
	}
	return fmt.Errorf("%w: review item %s (%s) %s; until then the recording of call %s cannot be played or downloaded",
		server.ErrRedactionPending, it.ID, it.Reason, why, callID)
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

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

// ---- Erasure ------------------------------------------------------------

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
