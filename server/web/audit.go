package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// AuditReader is what the audit page reads.
type AuditReader interface {
	SearchAudit(ctx context.Context, f server.AuditFilter) ([]server.AuditRecord, error)
}

// AuditVerifier walks the whole audit chain and its signed checkpoints
// against the server's own key and the exported checkpoint log (what
// "callguard-server audit verify" does); server/central provides it.
type AuditVerifier func(ctx context.Context) (store.AuditVerification, error)

// auditRoutes registers the audit search and the chain's verification.
func (w *Web) auditRoutes() {
	w.handle(Page{Pattern: "GET /audit", Roles: DPOsAndAdmins, Nav: "Audit"}, w.auditPage)
	w.handle(Page{Pattern: "POST /audit/verify", Roles: DPOsAndAdmins}, w.verifyAudit)
}

const auditPerPage = 100

type auditPage struct {
	Query    url.Values
	Records  []server.AuditRecord
	Next     string
	Searched bool
	Verified *store.AuditVerification
	Broken   bool
	Took     string
	// Fields are the search's, which the verify form carries along.
	Fields []string
}

// auditFilterOf reads the search form; dates are whole days in the
// server's zone, the last one included.
func auditFilterOf(q url.Values) (server.AuditFilter, error) {
	f := server.AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")), Target: strings.TrimSpace(q.Get("call")), Limit: auditPerPage + 1}
	day := func(name, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation(time.DateOnly, v, time.Local)
		if err != nil {
			return time.Time{}, BadInput(fmt.Sprintf("%s (%q) is not a date: use the date picker or write it as 2026-01-31.", name, v))
		}
		return t, nil
	}
	var err error
	if f.From, err = day("The first date", q.Get("from")); err != nil {
		return f, err
	}
	if f.To, err = day("The last date", q.Get("to")); err != nil {
		return f, err
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, BadInput(fmt.Sprintf("The dates are the wrong way round: %s is before %s.", q.Get("to"), q.Get("from")))
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f, BadInput("The page link is not right; start the search again.")
		}
		f.AfterSeq = n
	}
	return f, nil
}

func (w *Web) auditPage(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	d := auditPage{Query: r.URL.Query(), Fields: searchFields}
	if err := w.searchAudit(r, s, &d); err != nil {
		return View{}, err
	}
	return View{Template: "audit", Title: "Audit", Data: d}, nil
}

// searchFields are the search form's fields, which the verify form
// carries too so the results stay on the page.
var searchFields = []string{"actor", "action", "call", "from", "to", "after"}

// searchAudit runs the search d.Query asks for, if any, audited.
func (w *Web) searchAudit(r *http.Request, s *Session, d *auditPage) error {
	q := d.Query
	asked := false
	for _, k := range searchFields {
		asked = asked || q.Get(k) != ""
	}
	if !asked && !q.Has("actor") {
		return nil
	}
	f, err := auditFilterOf(q)
	if err != nil {
		return err
	}
	err = w.audited(r, s, func(ctx context.Context) (Entry, error) {
		var err error
		// Audited after it ran, so the search never finds itself.
		d.Records, err = w.o.Store.SearchAudit(ctx, f)
		return Entry{server.AuditSearch, "audit", map[string]any{"call": f.Target, "user": f.Actor, "action": f.Action,
			"from": q.Get("from"), "to": q.Get("to"), "results": len(d.Records)}}, err
	})
	if err != nil {
		return err
	}
	d.Searched = true
	if len(d.Records) > auditPerPage {
		d.Records = d.Records[:auditPerPage]
		c := cloneValues(q)
		c.Set("after", strconv.FormatInt(d.Records[len(d.Records)-1].Seq, 10))
		d.Next = "/audit?" + c.Encode()
	}
	return nil
}

func (w *Web) verifyAudit(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	if w.o.VerifyAudit == nil {
		return View{}, problem(http.StatusServiceUnavailable, "This server cannot verify the audit chain from the workspace; IT runs \"callguard-server audit verify\".")
	}
	start := time.Now()
	v, verr := w.o.VerifyAudit(r.Context())
	if verr != nil && !errors.Is(verr, store.ErrAuditBroken) {
		return View{}, verr
	}
	took := time.Since(start)
	// The verification read every record: it is audited, and a broken
	// chain is recorded with where it broke.
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		return Entry{server.AuditVerify, "audit", map[string]any{"records": v.Records, "checkpoints": v.Checkpoints, "broken_at": v.BrokenAt,
			"trusted": v.Trusted, "exported": v.Exported}}, nil
	})
	if err != nil {
		return View{}, err
	}
	d := auditPage{Query: url.Values{}, Fields: searchFields, Verified: &v, Broken: verr != nil, Took: took.Round(time.Millisecond).String()}
	if err := r.ParseForm(); err == nil {
		for _, k := range searchFields {
			if v := r.PostForm.Get(k); v != "" {
				d.Query.Set(k, v)
			}
		}
	}
	if err := w.searchAudit(r, s, &d); err != nil {
		return View{}, err
	}
	return View{Template: "audit", Title: "Audit", Data: d}, nil
}
