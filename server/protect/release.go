package protect

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// Release errors.
var (
	// ErrNotAuthoriser: the account holds no job role the policy lists
	// for the release's purpose.
	ErrNotAuthoriser = fmt.Errorf("this account may not authorise a release for this purpose: %w", server.ErrForbidden)
	// ErrOwnRequest: the account that entered a release request tried to
	// authorise it; a second person must.
	ErrOwnRequest = fmt.Errorf("whoever entered a release request cannot authorise it; a second person must: %w", server.ErrForbidden)
	// ErrNotAuthorised: the package was asked for before the release was
	// authorised.
	ErrNotAuthorised = fmt.Errorf("the release is not authorised yet: its package is made only after authorisation: %w", store.ErrReleaseState)
)

// releaseRoles are the server roles that work the release register: an
// admin sees no personal data, an agent only her own calls.
var releaseRoles = []server.Role{server.RoleSupervisor, server.RoleDPO}

// mayHandle checks that p may work a release of calls: a dpo may, a
// supervisor only when every call is of an agent she supervises.
func (s *Service) mayHandle(ctx context.Context, p server.Principal, calls []string) error {
	if !p.Role.In(releaseRoles...) {
		return fmt.Errorf("the release register is for supervisors and dpos: %w", server.ErrForbidden)
	}
	if p.Role == server.RoleDPO {
		return nil
	}
	for _, id := range calls {
		c, err := s.o.Store.Call(ctx, id)
		if err != nil {
			return err
		}
		ok, err := s.o.Store.Supervises(ctx, p.Username, c.Agent)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("call %s is not of an agent in your teams: %w", id, server.ErrForbidden)
		}
	}
	return nil
}

// RequestRelease enters a third-party release request in the register for
// p, after checking the form against the policy's release purposes.
func (s *Service) RequestRelease(ctx context.Context, p server.Principal, req server.ReleaseRequest) (server.Release, error) {
	if !p.Role.In(releaseRoles...) {
		return server.Release{}, fmt.Errorf("the release register is for supervisors and dpos: %w", server.ErrForbidden)
	}
	rel, err := req.Validate(s.o.Policy, s.o.Clock())
	if err != nil {
		return server.Release{}, err
	}
	if err := s.mayHandle(ctx, p, rel.Calls); err != nil {
		return server.Release{}, err
	}
	err = s.audited(ctx, p, func(ctx context.Context) (entry, error) {
		var err error
		rel, err = s.o.Store.CreateRelease(ctx, rel, p.Username)
		d := map[string]any{"release": rel.ID, "purpose": rel.Purpose, "calls": rel.Calls, "on_behalf": rel.OnBehalf}
		if rel.Number != "" {
			// The audit never holds a whole phone number.
			d["number"], d["number_hmac"] = server.MaskNumber(server.NumberKey(rel.Number)), server.NumberHMAC(s.o.NumberSecret, rel.Number)
		}
		return entry{server.AuditReleaseRequest, server.ReleaseTarget(rel.ID), d}, err
	})
	return rel, err
}

// AuthoriseRelease authorises a requested release for p, who must hold a
// job role the policy lists for its purpose, must not have entered it, and
// must be independent of whoever did (see store.Independent). A refusal
// is written to the audit too.
func (s *Service) AuthoriseRelease(ctx context.Context, p server.Principal, id int64) (server.Release, error) {
	var (
		rel     server.Release
		refused error
	)
	err := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
		refused = nil
		var err error
		if rel, err = s.o.Store.Release(ctx, id); err != nil {
			return entry{}, err
		}
		if err := s.mayHandle(ctx, p, rel.Calls); err != nil {
			return entry{}, err
		}
		if rel.State != server.ReleaseRequested {
			return entry{}, fmt.Errorf("release %d is %s already: %w", id, rel.State, store.ErrReleaseState)
		}
		u, err := s.o.Store.User(ctx, p.Username)
		if err != nil {
			return entry{}, err
		}
		pu := s.o.Policy.ReleasePurpose(rel.Purpose)
		switch {
		case pu == nil:
			refused = fmt.Errorf("the policy no longer lists the purpose %q, so release %d cannot be authorised: %w", rel.Purpose, id, server.ErrForbidden)
		case u.Disabled:
			refused = fmt.Errorf("%s: %w", p.Username, server.ErrDisabled)
		case !pu.Authorises(u.JobRole):
			held := "no authoriser job role"
			if u.JobRole != "" {
				held = "the job role " + strconv.Quote(u.JobRole)
			}
			refused = fmt.Errorf("%s holds %s; a release for %q may be authorised only by: %s: %w",
				p.Username, held, pu.Label, strings.Join(pu.Authorisers, ", "), ErrNotAuthoriser)
		case rel.EnteredBy == p.Username:
			refused = fmt.Errorf("%s entered release %d: %w", p.Username, id, ErrOwnRequest)
		default:
			if err := s.o.Store.Independent(ctx, rel.EnteredBy, p.Username, s.o.Policy.Review.IndependenceWindow()); err != nil {
				refused = fmt.Errorf("release %d: %w", id, err)
			}
		}
		if refused != nil {
			return entry{}, refused
		}
		rel, err = s.o.Store.AuthoriseRelease(ctx, id, p.Username, u.JobRole)
		return entry{server.AuditReleaseAuthorise, server.ReleaseTarget(id),
			map[string]any{"release": id, "purpose": rel.Purpose, "job_role": u.JobRole, "entered_by": rel.EnteredBy, "calls": rel.Calls}}, err
	})
	if refused != nil {
		aerr := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
			return entry{server.AuditReleaseRefused, server.ReleaseTarget(id), map[string]any{"release": id, "why": refused.Error()}}, nil
		})
		return server.Release{}, errors.Join(refused, aerr)
	}
	if err != nil {
		return server.Release{}, err
	}
	return rel, nil
}

// Releases lists the register entries that match f for p (a supervisor
// sees those of her teams' calls), audited as a read of personal data.
func (s *Service) Releases(ctx context.Context, p server.Principal, f server.ReleaseFilter) ([]server.Release, error) {
	if err := s.mayHandle(ctx, p, nil); err != nil {
		return nil, err
	}
	if p.Role == server.RoleSupervisor {
		f.Supervisor = p.Username
	}
	var out []server.Release
	err := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
		var err error
		out, err = s.o.Store.Releases(ctx, f)
		return entry{server.AuditReleaseList, "releases", releaseFilterDetail(s, f, len(out))}, err
	})
	return out, err
}

// Release returns one register entry for p, audited.
func (s *Service) Release(ctx context.Context, p server.Principal, id int64) (server.Release, error) {
	var rel server.Release
	err := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
		var err error
		if rel, err = s.o.Store.Release(ctx, id); err != nil {
			return entry{}, err
		}
		if err := s.mayHandle(ctx, p, rel.Calls); err != nil {
			return entry{}, err
		}
		return entry{server.AuditReleaseRead, server.ReleaseTarget(id), map[string]any{"release": id}}, nil
	})
	return rel, err
}

func releaseFilterDetail(s *Service, f server.ReleaseFilter, n int) map[string]any {
	d := map[string]any{"results": n}
	if f.Text != "" {
		d["text"] = f.Text
	}
	if f.Number != "" {
		d["number_hmac"] = server.NumberHMAC(s.o.NumberSecret, f.Number)
	}
	for k, v := range map[string]string{"purpose": f.Purpose, "state": f.State, "from": f.From, "to": f.To} {
		if v != "" {
			d[k] = v
		}
	}
	return d
}

// ReleaseCSVHeader is the first line of the register's CSV export.
var ReleaseCSVHeader = []string{"id", "state", "call_date", "call_time", "number", "calls", "requester", "purpose", "lawful_basis",
	"on_behalf", "third_party", "requested_on", "recipient_name", "recipient_title", "entered_by", "entered_at",
	"authorised_by", "authorised_as", "authorised_at", "disclosed_on", "released_by", "released_at", "package_sha256"}

// ExportReleases writes the register entries that match f (up to 1000) to w
// as CSV for p; the export is audited before a byte is written.
func (s *Service) ExportReleases(ctx context.Context, p server.Principal, f server.ReleaseFilter, w io.Writer) (int, error) {
	if err := s.mayHandle(ctx, p, nil); err != nil {
		return 0, err
	}
	if p.Role == server.RoleSupervisor {
		f.Supervisor = p.Username
	}
	f.Limit = 1000
	var rows []server.Release
	err := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
		var err error
		rows, err = s.o.Store.Releases(ctx, f)
		return entry{server.AuditReleaseExport, "releases", releaseFilterDetail(s, f, len(rows))}, err
	})
	if err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	cw.Write(ReleaseCSVHeader)
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, r := range rows {
		cw.Write(csvSafe(strconv.FormatInt(r.ID, 10), r.State, r.CallDate, r.CallTime, r.Number, strings.Join(r.Calls, " "), r.Requester,
			r.Purpose, r.LawfulBasis, strconv.FormatBool(r.OnBehalf), r.ThirdParty, r.RequestedOn, r.RecipientName, r.RecipientTitle,
			r.EnteredBy, r.Entered.UTC().Format(time.RFC3339), r.AuthorisedBy, r.AuthorisedAs, at(r.AuthorisedAt),
			r.DisclosedOn, r.ReleasedBy, at(r.ReleasedAt), r.PackageSHA256))
	}
	cw.Flush()
	return len(rows), cw.Error()
}

// csvSafe keeps a spreadsheet from running what a form's text holds: a
// cell that starts with =, +, -, @ or a tab is prefixed with an apostrophe
// (OWASP's advice against CSV injection). A number that starts with + is
// one such cell.
func csvSafe(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

// ReleasePackage makes the package of an authorised release for p and
// writes it to w: a zip of the recordings, a cover page with the
// organisation's terms and the register entry, and SHA256SUMS. disclosedOn
// is the date of disclosure ("" today); it may not be before the
// authorisation or in the future. The release, with the package's sha256
// and every file's, is written to the register and the audit before a
// byte reaches w; the first release moves the calls to the released
// retention category.
func (s *Service) ReleasePackage(ctx context.Context, p server.Principal, id int64, disclosedOn string, w io.Writer) (server.Release, error) {
	rel, err := s.o.Store.Release(ctx, id)
	if err != nil {
		return server.Release{}, err
	}
	if err := s.mayHandle(ctx, p, rel.Calls); err != nil {
		return server.Release{}, err
	}
	if rel.State == server.ReleaseRequested || rel.AuthorisedAt == nil {
		return server.Release{}, fmt.Errorf("release %d: %w", id, ErrNotAuthorised)
	}
	now := s.o.Clock()
	if disclosedOn == "" {
		disclosedOn = now.UTC().Format(time.DateOnly)
	}
	switch d, err := time.Parse(time.DateOnly, disclosedOn); {
	case err != nil:
		return server.Release{}, fmt.Errorf("the date of disclosure %q is not a date (YYYY-MM-DD): %w", disclosedOn, server.ErrInvalid)
	case d.Format(time.DateOnly) > server.LatestToday(now):
		return server.Release{}, fmt.Errorf("the date of disclosure %s is in the future: %w", disclosedOn, server.ErrInvalid)
	case d.Format(time.DateOnly) < server.EarliestDay(*rel.AuthorisedAt):
		return server.Release{}, fmt.Errorf("the date of disclosure %s is before the authorisation (%s): %w",
			disclosedOn, rel.AuthorisedAt.UTC().Format(time.DateOnly), server.ErrInvalid)
	}
	if !s.HasKey() {
		return server.Release{}, server.ErrNoKey
	}
	calls := make([]server.Call, 0, len(rel.Calls))
	for _, cid := range rel.Calls {
		c, err := s.o.Store.Call(ctx, cid)
		if err != nil {
			return server.Release{}, err
		}
		if err := s.CheckRedacted(ctx, cid); err != nil {
			return server.Release{}, err
		}
		calls = append(calls, c)
	}
	// First the package is made to learn its checksums, which the register
	// and the audit keep; then it is made again for w. Decryption and the
	// zip are deterministic, so both are the same bytes.
	pk := packageOf{rel: rel, calls: calls, disclosedOn: disclosedOn, by: p.Username, terms: s.o.Policy.Release.Terms, org: s.o.Policy.Name}
	pk.exts = map[string]string{}
	for _, c := range calls {
		pk.exts[c.ID] = s.recordingExt(ctx, c.ID)
	}
	h := sha256.New()
	files, err := s.writePackage(ctx, pk, h)
	if err != nil {
		return server.Release{}, fmt.Errorf("make the package of release %d: %w", id, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	err = s.audited(ctx, p, func(ctx context.Context) (entry, error) {
		var err error
		rel, err = s.o.Store.MarkReleased(ctx, id, p.Username, disclosedOn, sum)
		return entry{server.AuditReleasePackage, server.ReleaseTarget(id), map[string]any{"release": id, "calls": pk.rel.Calls,
			"disclosed_on": disclosedOn, "package_sha256": sum, "files": files, "recipient": rel.RecipientName}}, err
	})
	if err != nil {
		return server.Release{}, err
	}
	h2 := sha256.New()
	if _, err := s.writePackage(ctx, pk, io.MultiWriter(w, h2)); err != nil {
		return rel, fmt.Errorf("send the package of release %d: %w", id, err)
	}
	if got := hex.EncodeToString(h2.Sum(nil)); got != sum {
		// A recording changed in between (a redaction): what was sent is
		// not what the audit records.
		s.o.Logger.Error("a release package differs from the one the audit records", "release", id, "recorded", sum, "sent", got)
		return rel, fmt.Errorf("release %d: the package sent (sha256 %s) differs from the one recorded (%s): %w", id, got, sum, server.ErrConflict)
	}
	return rel, nil
}
