package protect

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"filippo.io/age"

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
				s.o.Store.ChangeReview(ctx, it.ID, store.ReviewChange{From: []server.ReviewState{server.ReviewRedactionPending}, State: server.ReviewRedactionPending, Pending: server.PendingFailed})
			}
			continue
		}
		if done {
			n++
		}
	}
	approved, err := s.o.Store.ReviewQueue(ctx, store.ReviewFilter{States: []server.ReviewState{server.ReviewApproved}, Limit: 100})
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
