package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/protect"
	"github.com/callguard/callguard/server/store"
)

// Releaser is what the release register pages need of the data-protection
// service (protect.Service): every rule of the register (purposes, the
// authoriser's job role, two people, the package after authorisation) is
// the service's, and it audits each step.
type Releaser interface {
	RequestRelease(ctx context.Context, p server.Principal, req server.ReleaseRequest) (server.Release, error)
	AuthoriseRelease(ctx context.Context, p server.Principal, id int64) (server.Release, error)
	Releases(ctx context.Context, p server.Principal, f server.ReleaseFilter) ([]server.Release, error)
	Release(ctx context.Context, p server.Principal, id int64) (server.Release, error)
	ExportReleases(ctx context.Context, p server.Principal, f server.ReleaseFilter, w io.Writer) (int, error)
	ReleasePackage(ctx context.Context, p server.Principal, id int64, disclosedOn string, w io.Writer) (server.Release, error)
}

// UserStore is what pages read of an account (its job role).
type UserStore interface {
	User(ctx context.Context, username string) (server.User, error)
}

// releaseRoutes registers the third-party release register.
func (w *Web) releaseRoutes() {
	w.handle(Page{Pattern: "GET /releases", Roles: Listeners, Nav: "Releases"}, w.releases)
	w.handle(Page{Pattern: "GET /releases/export.csv", Roles: Listeners}, w.exportReleases)
	w.handle(Page{Pattern: "GET /releases/new", Roles: Listeners}, w.newRelease)
	w.handle(Page{Pattern: "POST /releases", Roles: Listeners}, w.requestRelease)
	w.handle(Page{Pattern: "GET /releases/{id}", Roles: Listeners}, w.release)
	w.handle(Page{Pattern: "POST /releases/{id}/authorise", Roles: Listeners}, w.authoriseRelease)
	w.handle(Page{Pattern: "POST /releases/{id}/package", Roles: Listeners}, w.releasePackage)
}

func (w *Web) releaser() (Releaser, error) {
	if w.o.Releases == nil {
		return nil, problem(http.StatusServiceUnavailable, "The release register is not running on this server.")
	}
	return w.o.Releases, nil
}

// releaseFilterOf reads the register's search form; a bad date is the
// person's mistake, said in words.
func releaseFilterOf(q url.Values) (server.ReleaseFilter, error) {
	f := server.ReleaseFilter{Text: strings.TrimSpace(q.Get("q")), Number: strings.TrimSpace(q.Get("number")),
		Purpose: q.Get("purpose"), State: q.Get("state"), From: q.Get("from"), To: q.Get("to")}
	for name, v := range map[string]string{"The first date": f.From, "The last date": f.To} {
		if _, err := time.Parse(time.DateOnly, v); v != "" && err != nil {
			return f, BadInput(fmt.Sprintf("%s (%q) is not a date: use the date picker or write it as 2026-01-31.", name, v))
		}
	}
	if f.From != "" && f.To != "" && f.To < f.From {
		return f, BadInput(fmt.Sprintf("The dates are the wrong way round: %s is before %s.", f.To, f.From))
	}
	if f.State != "" && !slicesContains(server.ReleaseStates, f.State) {
		return f, BadInput("Choose a state from the list.")
	}
	if n := server.NumberKey(f.Number); f.Number != "" && n == "" {
		return f, BadInput(fmt.Sprintf("%q is not a phone number.", f.Number))
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, BadInput("The page number is not right.")
		}
		f.Offset = (n - 1) * releasesPerPage
	}
	f.Limit = releasesPerPage + 1
	return f, nil
}

func slicesContains(set []string, v string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

const releasesPerPage = 50

type releasesPage struct {
	Query    url.Values
	Purposes []policy.ReleasePurpose
	States   []string
	Releases []server.Release
	Page     int
	Prev     string
	Next     string
	CSV      string
}

func (w *Web) releases(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	rel, err := w.releaser()
	if err != nil {
		return View{}, err
	}
	q := r.URL.Query()
	f, err := releaseFilterOf(q)
	if err != nil {
		return View{}, err
	}
	rs, err := rel.Releases(r.Context(), s.Principal(w.clientIP(r)), f)
	if err != nil {
		return View{}, err
	}
	d := releasesPage{Query: q, Purposes: w.o.Policy.Release.Purposes, States: server.ReleaseStates, Page: f.Offset/releasesPerPage + 1}
	if len(rs) > releasesPerPage {
		rs = rs[:releasesPerPage]
		d.Next = pageLink("/releases", q, d.Page+1)
	}
	if d.Page > 1 {
		d.Prev = pageLink("/releases", q, d.Page-1)
	}
	d.Releases = rs
	c := cloneValues(q)
	c.Del("page")
	d.CSV = "/releases/export.csv?" + c.Encode()
	return View{Template: "releases", Title: "Releases to third parties", Data: d}, nil
}

func cloneValues(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
}

func pageLink(path string, q url.Values, page int) string {
	c := cloneValues(q)
	c.Set("page", strconv.Itoa(page))
	return path + "?" + c.Encode()
}

func (w *Web) exportReleases(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	rel, err := w.releaser()
	if err != nil {
		return View{}, err
	}
	f, err := releaseFilterOf(r.URL.Query())
	if err != nil {
		return View{}, err
	}
	f.Offset = 0
	// The export is audited before a byte is written; a refusal still
	// shows the error page.
	buf := &deferredWriter{rw: rw, header: func(h http.Header) {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="releases.csv"`)
	}}
	if _, err := rel.ExportReleases(r.Context(), s.Principal(w.clientIP(r)), f, buf); err != nil {
		if buf.started {
			w.o.Logger.Error("release register export cut short", "err", err)
			return View{}, nil
		}
		return View{}, err
	}
	if !buf.started {
		buf.start()
	}
	return View{}, nil
}

// deferredWriter sets its headers and status on the first write, so an
// error before any byte still shows the error page.
type deferredWriter struct {
	rw      http.ResponseWriter
	header  func(http.Header)
	started bool
}

func (d *deferredWriter) start() {
	d.started = true
	d.header(d.rw.Header())
	d.rw.WriteHeader(http.StatusOK)
}

func (d *deferredWriter) Write(p []byte) (int, error) {
	if !d.started {
		d.start()
	}
	return d.rw.Write(p)
}

// releaseForm is the request form's page: the values as typed and what is
// wrong with them.
type releaseForm struct {
	Purposes []policy.ReleasePurpose
	Form     server.ReleaseRequest
	CallsRaw string
	Problems []string
	Terms    string
}

func (w *Web) newRelease(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	if _, err := w.releaser(); err != nil {
		return View{}, err
	}
	if len(w.o.Policy.Release.Purposes) == 0 {
		return View{}, problem(http.StatusConflict, "The organisation's policy lists no purpose for releasing recordings, so none can be released. IT adds them to the policy (release.purposes).")
	}
	q := r.URL.Query()
	today := w.o.Clock().Format(time.DateOnly)
	f := server.ReleaseRequest{CallDate: q.Get("date"), Number: q.Get("number"), RequestedOn: today}
	d := releaseForm{Purposes: w.o.Policy.Release.Purposes, Form: f, CallsRaw: q.Get("call"), Terms: w.o.Policy.Release.Terms}
	return View{Template: "release-new", Title: "New release request", Data: d}, nil
}

func (w *Web) requestRelease(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	rel, err := w.releaser()
	if err != nil {
		return View{}, err
	}
	if err := r.ParseForm(); err != nil {
		return View{}, BadInput("The form could not be read. Reload the page and send it again.")
	}
	pf := r.PostForm
	calls := strings.FieldsFunc(pf.Get("calls"), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
	req := server.ReleaseRequest{CallDate: pf.Get("call_date"), CallTime: pf.Get("call_time"), Number: pf.Get("number"), Calls: calls,
		Requester: pf.Get("requester"), Purpose: pf.Get("purpose"), OnBehalf: pf.Get("on_behalf") == "yes", ThirdParty: pf.Get("third_party"),
		RequestedOn: pf.Get("requested_on"), RecipientName: pf.Get("recipient_name"), RecipientTitle: pf.Get("recipient_title")}
	got, err := rel.RequestRelease(r.Context(), s.Principal(w.clientIP(r)), req)
	if err != nil {
		var problems []string
		switch {
		case errors.Is(err, server.ErrInvalid):
			problems = problemsOf(err)
		case errors.Is(err, server.ErrNotFound):
			problems = []string{"One of the calls was not found, or it is not one of your teams' calls. Check the call ids."}
		case errors.Is(err, server.ErrGone):
			problems = []string{"One of the calls was deleted (by retention, a review or an erasure): its recording can no longer be released."}
		case errors.Is(err, server.ErrForbidden):
			problems = []string{"One of the calls is not of an officer in your teams, so you cannot ask for its release. Ask a data-protection officer."}
		default:
			return View{}, err
		}
		d := releaseForm{Purposes: w.o.Policy.Release.Purposes, Form: req, CallsRaw: pf.Get("calls"), Problems: problems, Terms: w.o.Policy.Release.Terms}
		return View{Template: "release-new", Title: "New release request", Data: d, Status: http.StatusBadRequest}, nil
	}
	http.Redirect(rw, r, "/releases/"+strconv.FormatInt(got.ID, 10)+"?entered=1", http.StatusSeeOther)
	return View{}, nil
}

// problemsOf splits a validation error into its problems, in the words
// the domain gives them, starting with a capital and without the
// sentinel's "invalid input".
func problemsOf(err error) []string {
	msg := strings.TrimSuffix(err.Error(), ": "+server.ErrInvalid.Error())
	var out []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		out = append(out, strings.ToUpper(line[:1])+line[1:]+".")
	}
	return out
}

type releasePage struct {
	R        server.Release
	Purpose  *policy.ReleasePurpose
	Notice   string
	Problem  string
	Today    string
	MinDate  string
	CanAct   bool
	JobRole  string
	MayAuth  bool
	IsAuthor bool
	HasKey   bool
}

func releaseID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem(http.StatusNotFound, "There is no release with that number.")
	}
	return id, nil
}

func (w *Web) release(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	return w.releaseView(r, s, "", "", http.StatusOK)
}

func (w *Web) releaseView(r *http.Request, s *Session, notice, prob string, status int) (View, error) {
	rel, err := w.releaser()
	if err != nil {
		return View{}, err
	}
	id, err := releaseID(r)
	if err != nil {
		return View{}, err
	}
	got, err := rel.Release(r.Context(), s.Principal(w.clientIP(r)), id)
	if err != nil {
		return View{}, err
	}
	d := releasePage{R: got, Purpose: w.o.Policy.ReleasePurpose(got.Purpose), Notice: notice, Problem: prob, Today: w.o.Clock().Format(time.DateOnly),
		IsAuthor: got.EnteredBy == s.Username, HasKey: w.o.Protect != nil && w.o.Protect.HasKey()}
	if notice == "" {
		switch {
		case r.URL.Query().Get("entered") != "":
			d.Notice = "The request is entered. A second person who holds a job role the policy lists for its purpose must now authorise it."
		case r.URL.Query().Get("authorised") != "":
			d.Notice = "The release is authorised. The package can now be made and handed over."
		}
	}
	if got.AuthorisedAt != nil {
		d.MinDate = got.AuthorisedAt.Format(time.DateOnly)
	}
	if u, err := w.o.Store.User(r.Context(), s.Username); err == nil {
		d.JobRole = u.JobRole
		d.MayAuth = d.Purpose != nil && d.Purpose.Authorises(u.JobRole) && !d.IsAuthor
	}
	return View{Template: "release", Title: "Release " + strconv.FormatInt(got.ID, 10), Data: d, Status: status}, nil
}

func (w *Web) authoriseRelease(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	rel, err := w.releaser()
	if err != nil {
		return View{}, err
	}
	id, err := releaseID(r)
	if err != nil {
		return View{}, err
	}
	_, err = rel.AuthoriseRelease(r.Context(), s.Principal(w.clientIP(r)), id)
	switch {
	case err == nil:
		http.Redirect(rw, r, "/releases/"+strconv.FormatInt(id, 10)+"?authorised=1", http.StatusSeeOther)
		return View{}, nil
	case errors.Is(err, protect.ErrNotAuthoriser):
		return w.releaseView(r, s, "", w.notAuthoriserWords(r.Context(), s, id), http.StatusForbidden)
	case errors.Is(err, protect.ErrOwnRequest):
		return w.releaseView(r, s, "", "You entered this request, so you cannot authorise it: a second person must. Ask someone who holds one of the job roles listed below.", http.StatusForbidden)
	case errors.Is(err, store.ErrNotIndependent):
		return w.releaseView(r, s, "", "You cannot authorise this request: you and the person who entered it are not independent of each other (one set up the other's account, or one person set up both recently). Ask someone else who holds one of the job roles listed below.", http.StatusForbidden)
	case errors.Is(err, store.ErrReleaseState):
		return w.releaseView(r, s, "", "This release is authorised already (perhaps by someone else a moment ago).", http.StatusConflict)
	}
	return View{}, err
}

func (w *Web) notAuthoriserWords(ctx context.Context, s *Session, id int64) string {
	held := "no job role as an authoriser"
	if u, err := w.o.Store.User(ctx, s.Username); err == nil && u.JobRole != "" {
		held = "the job role “" + u.JobRole + "”"
	}
	return "You cannot authorise this release: your account holds " + held + ", and the policy lets only the job roles listed below authorise a release for this purpose. If you hold one of them, ask IT to record it on your account."
}

func (w *Web) releasePackage(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	rel, err := w.releaser()
	if err != nil {
		return View{}, err
	}
	id, err := releaseID(r)
	if err != nil {
		return View{}, err
	}
	if err := r.ParseForm(); err != nil {
		return View{}, BadInput("The form could not be read. Reload the page and send it again.")
	}
	out := &deferredWriter{rw: rw, header: func(h http.Header) {
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="release-%d.zip"`, id))
	}}
	_, err = rel.ReleasePackage(r.Context(), s.Principal(w.clientIP(r)), id, strings.TrimSpace(r.PostForm.Get("disclosed_on")), out)
	switch {
	case err == nil:
		return View{}, nil
	case out.started:
		w.o.Logger.Error("a release package was cut short", "release", id, "err", err)
		return View{}, nil
	case errors.Is(err, protect.ErrNotAuthorised):
		return w.releaseView(r, s, "", "The package can be made only once the release is authorised.", http.StatusConflict)
	case errors.Is(err, server.ErrInvalid):
		return w.releaseView(r, s, "", strings.Join(problemsOf(err), " "), http.StatusBadRequest)
	}
	return View{}, err
}
