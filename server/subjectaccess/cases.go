package subjectaccess

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// Recordings is what a bundle needs of the data-protection service: to
// know whether it can decrypt, whether a recording is withheld until its
// card details are silenced, and to decrypt one (protect.Service).
type Recordings interface {
	HasKey() bool
	CheckRedacted(ctx context.Context, callID string) error
	Play(ctx context.Context, callID string, w io.Writer, before func()) (artefact.DecryptReport, error)
}

// Options configure a Service.
type Options struct {
	Store *store.Store
	// Recordings decrypts the recordings for a bundle; without it a bundle
	// cannot be made.
	Recordings Recordings
	// Policy says how officers are named in a bundle and which days are
	// public holidays (default: the store's).
	Policy *policy.Policy
	Clock  func() time.Time
	// Location is where the organisation's calendar runs: the dates a
	// request is received and due, the times in a bundle [Europe/London].
	Location *time.Location
	Logger   *slog.Logger
}

// Service runs subject-access cases on one store.
type Service struct{ o Options }

// New returns a Service.
func New(o Options) *Service {
	if o.Policy == nil {
		o.Policy = o.Store.Policy()
	}
	if o.Policy == nil {
		o.Policy = &policy.Policy{}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Location == nil {
		loc, err := time.LoadLocation("Europe/London")
		if err != nil {
			o.Logger.Warn("no time zone database: subject-access dates are in UTC", "err", err)
			loc = time.UTC
		}
		o.Location = loc
	}
	return &Service{o: o}
}

// Location is the calendar's time zone.
func (s *Service) Location() *time.Location { return s.o.Location }

// Today is today's date on the organisation's calendar.
func (s *Service) Today() time.Time { return server.Date(s.o.Clock(), s.o.Location) }

// Holiday reports whether date d is a public holiday in the policy.
func (s *Service) Holiday(d time.Time) bool { return s.o.Policy.SubjectAccess.Holiday(d) }

// allowed refuses anyone but a dpo.
func allowed(p server.Principal) error {
	if p.Role != server.RoleDPO {
		return fmt.Errorf("subject-access requests are for data-protection officers, not %s: %w", p.Role, server.ErrForbidden)
	}
	return nil
}

// audited runs step and writes the audit record it returns, for p, in one
// transaction: a step whose record cannot be written changes nothing.
func (s *Service) audited(ctx context.Context, p server.Principal, step func(ctx context.Context) (action, target string, detail map[string]any, err error)) error {
	if err := allowed(p); err != nil {
		return err
	}
	return s.o.Store.Tx(ctx, func(ctx context.Context) error {
		action, target, detail, err := step(ctx)
		if err != nil {
			return err
		}
		if detail == nil {
			detail = map[string]any{}
		}
		if p.IP != "" {
			detail["ip"] = p.IP
		}
		b, _ := json.Marshal(detail)
		return s.o.Store.Audit(ctx, server.AuditRecord{Actor: p.Username, Device: p.DeviceID, Action: action, Target: target, Detail: string(b)})
	})
}

// masked are the numbers with all but their last three digits hidden, as
// the audit shows them.
func masked(numbers []string) []string {
	out := make([]string, len(numbers))
	for i, n := range numbers {
		e, err := server.E164(n)
		if err != nil {
			e = server.NumberKey(n)
		}
		out[i] = server.MaskNumber(e)
	}
	return out
}

// Open opens a case for r as dpo p. The request is checked against today
// first; its errors wrap server.ErrInvalid and say every problem.
func (s *Service) Open(ctx context.Context, p server.Principal, r server.SARRequest) (server.SARCase, error) {
	if err := allowed(p); err != nil {
		return server.SARCase{}, err
	}
	if err := r.Validate(s.Today()); err != nil {
		return server.SARCase{}, err
	}
	var c server.SARCase
	err := s.audited(ctx, p, func(ctx context.Context) (string, string, map[string]any, error) {
		var err error
		c, err = s.o.Store.CreateSAR(ctx, server.NewSARCase(r, p.Username, s.o.Clock(), s.Holiday))
		return server.AuditSAROpen, c.Target(), map[string]any{"received": c.Received.Format(server.DateLayout),
			"deadline": c.Deadline.Format(server.DateLayout), "numbers": masked(c.Numbers), "reference": c.Reference}, err
	})
	if err != nil {
		return server.SARCase{}, fmt.Errorf("open a subject-access case: %w", err)
	}
	return c, nil
}

// Case returns case id, read by p (audited).
func (s *Service) Case(ctx context.Context, p server.Principal, id int64) (server.SARCase, error) {
	var c server.SARCase
	err := s.audited(ctx, p, func(ctx context.Context) (string, string, map[string]any, error) {
		var err error
		c, err = s.o.Store.SAR(ctx, id)
		return server.AuditSARRead, server.SARTarget(id), nil, err
	})
	return c, err
}

// Cases lists the cases, those running first and the soonest deadline
// first, so overdue cases lead (audited).
func (s *Service) Cases(ctx context.Context, p server.Principal) ([]server.SARCase, error) {
	var cs []server.SARCase
	err := s.audited(ctx, p, func(ctx context.Context) (string, string, map[string]any, error) {
		var err error
		cs, err = s.o.Store.SARs(ctx, 0)
		return server.AuditSARList, "", map[string]any{"cases": len(cs)}, err
	})
	return cs, err
}

// change applies f to case id at version (the version p saw) and stores
// it with its audit record. A case changed since p saw it is not changed:
// the error wraps server.ErrConflict.
func (s *Service) change(ctx context.Context, p server.Principal, id, version int64, action string, f func(c *server.SARCase) (map[string]any, error)) (server.SARCase, error) {
	var out server.SARCase
	err := s.audited(ctx, p, func(ctx context.Context) (string, string, map[string]any, error) {
		c, err := s.o.Store.SAR(ctx, id)
		if err != nil {
			return "", "", nil, err
		}
		if c.Version != version {
			return "", "", nil, fmt.Errorf("subject-access case %d was changed by someone else since you opened it; look at it again: %w", id, server.ErrConflict)
		}
		detail, err := f(&c)
		if err != nil {
			return "", "", nil, err
		}
		out, err = s.o.Store.UpdateSAR(ctx, c, version)
		return action, c.Target(), detail, err
	})
	return out, err
}

// Extend moves case id's deadline to the date to, for reason, as p (see
// server.SARCase.Extend for what is refused).
func (s *Service) Extend(ctx context.Context, p server.Principal, id, version int64, to time.Time, reason string) (server.SARCase, error) {
	return s.change(ctx, p, id, version, server.AuditSARExtend, func(c *server.SARCase) (map[string]any, error) {
		from := c.Deadline
		if err := c.Extend(to, reason, p.Username, s.o.Clock(), s.Today(), s.Holiday); err != nil {
			return nil, err
		}
		return map[string]any{"from": from.Format(server.DateLayout), "to": to.Format(server.DateLayout), "reason": c.Extensions[len(c.Extensions)-1].Reason,
			"extension": len(c.Extensions)}, nil
	})
}

// SetStatus moves case id to status to (sent or closed) with a note, as p.
func (s *Service) SetStatus(ctx context.Context, p server.Principal, id, version int64, to server.SARStatus, note string) (server.SARCase, error) {
	return s.change(ctx, p, id, version, server.AuditSARStatus, func(c *server.SARCase) (map[string]any, error) {
		from := c.Status
		if err := c.SetStatus(to, note, p.Username, s.o.Clock()); err != nil {
			return nil, err
		}
		return map[string]any{"from": from.String(), "to": to.String(), "note": note}, nil
	})
}

// span is the case's date range as instants on the organisation's
// calendar: from the start of From to the end of To.
func (s *Service) span(c server.SARCase) (from, until time.Time) {
	at := func(d time.Time) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, s.o.Location)
	}
	if !c.From.IsZero() {
		from = at(c.From)
	}
	if !c.To.IsZero() {
		until = at(c.To.AddDate(0, 0, 1))
	}
	return from, until
}

// Calls returns the case and the calls it finds: those of its numbers in
// its date range that are still kept, oldest first (audited, with the
// calls' ids).
func (s *Service) Calls(ctx context.Context, p server.Principal, id int64) (server.SARCase, []server.Call, error) {
	var (
		c     server.SARCase
		calls []server.Call
	)
	err := s.audited(ctx, p, func(ctx context.Context) (string, string, map[string]any, error) {
		var err error
		if c, err = s.o.Store.SAR(ctx, id); err != nil {
			return "", "", nil, err
		}
		from, until := s.span(c)
		calls, err = s.o.Store.CallsForSubject(ctx, c.Numbers, from, until)
		return server.AuditSARSearch, c.Target(), map[string]any{"calls": callIDs(calls)}, err
	})
	return c, calls, err
}

func callIDs(calls []server.Call) []string {
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	return ids
}
