package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/callguard/callguard/server"
)

// Page is one row of the workspace's table of pages and actions: the
// route, the roles that may use it, and, for pages in the menu, its label.
type Page struct {
	// Pattern is the route, as http.ServeMux takes it ("GET /calls").
	Pattern string
	// Roles may use it; everyone else gets the 403 page (and an audit record).
	Roles []server.Role
	// Nav is the menu label ("" for pages not in the menu); NavPath the
	// menu's link (default: the pattern's path).
	Nav     string
	NavPath string
}

// Roles that appear in the table again and again.
var (
	// Listeners may search and play calls (as in the API).
	Listeners = []server.Role{server.RoleSupervisor, server.RoleDPO}
	// DPOs only: review, holds, erasure, cases, the audit.
	DPOs = []server.Role{server.RoleDPO}
	// DPOsAndAdmins: the audit page.
	DPOsAndAdmins = []server.Role{server.RoleDPO, server.RoleAdmin}
)

// View is what a page handler returns: the template to render (its file
// name without .html), the page's title and the data the template reads as
// .Page. Status defaults to 200.
type View struct {
	Template string
	Title    string
	Data     any
	Status   int
}

// PageFunc handles a page or a form: it reads the request and returns
// what to show, or an error. An error that is a *Problem is shown with its
// words and status; any other is mapped (not found, forbidden, the audit
// unavailable…) or shown as a server error without its text. A handler
// that answers itself (a redirect after a form, a file) returns a View
// with no Template.
type PageFunc func(rw http.ResponseWriter, r *http.Request, s *Session) (View, error)

// Problem is an error shown to the person: a status and words that say
// what went wrong and what to do.
type Problem struct {
	Status  int
	Message string
	// Err is the cause, logged, never shown.
	Err error
}

func (p *Problem) Error() string {
	if p.Err != nil {
		return fmt.Sprintf("%s: %v", p.Message, p.Err)
	}
	return p.Message
}

func (p *Problem) Unwrap() error { return p.Err }

// problem returns a Problem with status and message.
func problem(status int, message string) *Problem { return &Problem{Status: status, Message: message} }

// BadInput is a 400 Problem with message: what the person typed is wrong.
func BadInput(message string) error { return problem(http.StatusBadRequest, message) }

// handle registers h for p.Pattern: the session is checked (sign-in page
// without one), then the role (403 page and an audit record), then, for
// anything but GET and HEAD, the CSRF token and the origin.
func (w *Web) handle(p Page, h PageFunc) {
	if len(p.Roles) == 0 {
		panic("web: page " + p.Pattern + " has no roles")
	}
	if p.Nav != "" && p.NavPath == "" {
		p.NavPath = pathOf(p.Pattern)
	}
	w.pages = append(w.pages, p)
	w.mux.HandleFunc(p.Pattern, func(rw http.ResponseWriter, r *http.Request) {
		s, err := w.session(r)
		if err != nil {
			w.needSignIn(rw, r)
			return
		}
		w.touch(r, s)
		if !s.Role.In(p.Roles...) {
			w.auditDenied(r, s, r.Method+" "+r.URL.Path, map[string]any{"role": s.Role})
			w.renderError(rw, r, s, problem(http.StatusForbidden, fmt.Sprintf("This page is not open to your role (%s). Ask a data-protection officer or IT if you need it.", roleWords(s.Role))))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := w.checkForm(r, s); err != nil {
				w.auditDenied(r, s, r.Method+" "+r.URL.Path, map[string]any{"why": err.Error()})
				w.renderError(rw, r, s, problem(http.StatusForbidden, "This form was not sent from this workspace page (or it is too old). Go back, reload the page and send it again."))
				return
			}
		}
		v, err := h(rw, r, s)
		if err != nil {
			w.renderError(rw, r, s, err)
			return
		}
		if v.Template == "" {
			return
		}
		w.render(rw, r, s, v)
	})
}

// layout is what the base layout reads; the page's own data is .Page.
type layout struct {
	Title string
	User  string
	Role  string
	Nav   []navItem
	CSRF  string
	// Current is the path of the page, to mark its menu entry.
	Current string
	Page    any
}

type navItem struct {
	Label, Path string
	Current     bool
}

// nav is the menu for s: only the pages s's role may open.
func (w *Web) nav(s *Session) []navItem {
	var out []navItem
	for _, p := range w.pages {
		if p.Nav != "" && s != nil && s.Role.In(p.Roles...) {
			out = append(out, navItem{Label: p.Nav, Path: p.NavPath})
		}
	}
	return out
}

func (w *Web) layoutFor(r *http.Request, s *Session, title string, data any) layout {
	l := layout{Title: title, Page: data, Current: r.URL.Path}
	if s != nil {
		l.User, l.Role, l.CSRF = s.Username, roleWords(s.Role), s.CSRF
		l.Nav = w.nav(s)
		for i := range l.Nav {
			l.Nav[i].Current = l.Nav[i].Path == r.URL.Path
		}
	}
	return l
}

// render writes v's template in the layout; it renders into a buffer
// first, so a template error shows the error page, not half a page.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, s *Session, v View) {
	t, ok := w.tmpl[v.Template]
	if !ok {
		w.renderError(rw, r, s, fmt.Errorf("no template %q", v.Template))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", w.layoutFor(r, s, v.Title, v.Data)); err != nil {
		w.o.Logger.Error("web template failed", "template", v.Template, "err", err)
		if v.Template != "error" {
			w.renderError(rw, r, s, err)
		} else {
			http.Error(rw, "Something went wrong on the server.", http.StatusInternalServerError)
		}
		return
	}
	status := v.Status
	if status == 0 {
		status = http.StatusOK
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	rw.Write(buf.Bytes())
}

// errorPage is the data of the error template.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

// renderError shows err as a page with words a person understands; the
// details go to the log, never to the page.
func (w *Web) renderError(rw http.ResponseWriter, r *http.Request, s *Session, err error) {
	status, msg := w.explain(r, err)
	heading := map[int]string{
		http.StatusBadRequest:          "Please check what you entered",
		http.StatusForbidden:           "Not open to you",
		http.StatusNotFound:            "Not found",
		http.StatusMethodNotAllowed:    "Not found",
		http.StatusConflict:            "Not possible just now",
		http.StatusGone:                "Deleted",
		http.StatusTooManyRequests:     "Please wait",
		http.StatusServiceUnavailable:  "Not available just now",
		http.StatusInternalServerError: "Something went wrong",
	}[status]
	if heading == "" {
		heading = "Something went wrong"
	}
	w.render(rw, r, s, View{Template: "error", Title: heading, Status: status, Data: errorPage{Status: status, Heading: heading, Message: msg}})
}

// explain maps err to a status and a message for the page.
func (w *Web) explain(r *http.Request, err error) (int, string) {
	var p *Problem
	switch {
	case errors.As(err, &p):
		if p.Err != nil {
			w.o.Logger.Warn("web request refused", "method", r.Method, "path", r.URL.Path, "err", p.Err)
		}
		return p.Status, p.Message
	case errors.Is(err, server.ErrAuditFailed):
		w.o.Logger.Error("refused: the audit log cannot be written", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusServiceUnavailable, "The audit log cannot be written just now, so nothing was read or changed. Try again later; IT can see why in the server's log."
	case errors.Is(err, server.ErrNotFound):
		return http.StatusNotFound, "We could not find that. It may have been deleted, or it is not one you may see."
	case errors.Is(err, server.ErrForbidden):
		return http.StatusForbidden, "Your role may not do that."
	case errors.Is(err, server.ErrGone):
		return http.StatusGone, "That was deleted (by retention, a review or an erasure)."
	case errors.Is(err, server.ErrRedactionPending):
		return http.StatusConflict, "Card details in this recording are not yet silenced, so nobody may play or download it until they are."
	case errors.Is(err, server.ErrNoKey):
		return http.StatusServiceUnavailable, "The server has no organisation key, so it cannot play recordings. IT starts it with --identity."
	case errors.Is(err, server.ErrConflict):
		return http.StatusConflict, "That is not possible in the item's present state. Reload the page to see where it stands."
	case errors.Is(err, server.ErrInvalid):
		return http.StatusBadRequest, "Something in what you entered is not right. Check the fields and try again."
	case errors.Is(err, context.Canceled):
		return 499, "The request was cancelled."
	default:
		w.o.Logger.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusInternalServerError, "Something went wrong on the server. Try again; if it keeps happening, tell IT the time it happened."
	}
}

// roleWords names a role for people.
func roleWords(r server.Role) string {
	switch r {
	case server.RoleAgent:
		return "officer"
	case server.RoleSupervisor:
		return "supervisor"
	case server.RoleDPO:
		return "data-protection officer"
	case server.RoleAdmin:
		return "IT administrator"
	case server.RoleCollector:
		return "collector"
	}
	return "none"
}

// pathOf is the path of a ServeMux pattern ("GET /calls" → "/calls").
func pathOf(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == ' ' {
			return pattern[i+1:]
		}
	}
	return pattern
}

// audited runs f and writes the audit record it returns in the same
// transaction: when the record cannot be written nothing f read is served
// (the error wraps server.ErrAuditFailed) — the API's rule.
func (w *Web) audited(r *http.Request, s *Session, f func(ctx context.Context) (Entry, error)) error {
	return w.o.Store.Tx(r.Context(), func(ctx context.Context) error {
		e, err := f(ctx)
		if err != nil {
			return err
		}
		return w.o.Store.Audit(ctx, w.record(r, s, e))
	})
}

// Entry is an audit record as a handler describes it.
type Entry struct {
	Action, Target string
	Detail         map[string]any
}

func (w *Web) record(r *http.Request, s *Session, e Entry) server.AuditRecord {
	d := map[string]any{}
	for k, v := range e.Detail {
		d[k] = v
	}
	d["ip"] = w.clientIP(r)
	d["via"] = "workspace"
	b, _ := json.Marshal(d)
	rec := server.AuditRecord{Action: e.Action, Target: e.Target, Detail: string(b)}
	if s != nil {
		rec.Actor, rec.Device = s.Username, s.AuditID()
	}
	return rec
}

// auditDenied records a page or action refused to s (authz.denied), within
// the allowance of Options.Denials.
func (w *Web) auditDenied(r *http.Request, s *Session, target string, detail map[string]any) {
	if w.o.Denials == nil {
		w.auditRefusal(r, s, server.AuditAuthzDenied, target, detail)
		return
	}
	detail["via"] = "workspace"
	w.o.Denials.AuditDenied(r, s.Principal(w.clientIP(r)), server.AuditAuthzDenied, target, detail)
}

// auditRefusal records a refused request; nothing was served, so a
// failure to write it is logged and the refusal stands.
func (w *Web) auditRefusal(r *http.Request, s *Session, action, target string, detail map[string]any) {
	if err := w.o.Store.Audit(context.WithoutCancel(r.Context()), w.record(r, s, Entry{action, target, detail})); err != nil {
		w.o.Logger.Error("audit write failed", "action", action, "err", err)
	}
}
