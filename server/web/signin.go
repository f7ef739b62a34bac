package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
)

// signinPage is the data of the sign-in template.
type signinPage struct {
	Next     string
	Username string
	Error    string
	// Notice is a calm message (signed out, session ended).
	Notice string
}

func (w *Web) signinRoutes() {
	w.mux.HandleFunc("GET /signin", w.signinForm)
	w.mux.HandleFunc("POST /signin", w.signin)
	w.mux.HandleFunc("POST /signout", w.signout)
	w.mux.HandleFunc("GET /link/{token}", w.useLink)
}

// signinCookie names the cookie that carries the sign-in form's CSRF token
// (there is no session yet to derive it from).
func (w *Web) signinCookie(r *http.Request) string {
	if w.secure(r) {
		return signinSecure
	}
	return signinPlain
}

func (w *Web) signinForm(rw http.ResponseWriter, r *http.Request) {
	if _, err := w.session(r); err == nil {
		http.Redirect(rw, r, localPath(r.URL.Query().Get("next"), "/"), http.StatusSeeOther)
		return
	}
	p := signinPage{Next: localPath(r.URL.Query().Get("next"), "/")}
	switch r.URL.Query().Get("why") {
	case "signed-out":
		p.Notice = "You are signed out."
	case "link":
		p.Notice = "That sign-in link has expired or was already used. Open the workspace again from the desktop, or sign in here."
	}
	w.showSignin(rw, r, p, http.StatusOK)
}

func (w *Web) showSignin(rw http.ResponseWriter, r *http.Request, p signinPage, status int) {
	tok := newToken()
	http.SetCookie(rw, &http.Cookie{Name: w.signinCookie(r), Value: tok, Path: "/", HttpOnly: true, Secure: w.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	l := w.layoutFor(r, nil, "Sign in", p)
	l.CSRF = tok
	w.renderLayout(rw, r, "signin", l, status)
}

func (w *Web) signin(rw http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
	next := localPath(r.PostFormValue("next"), "/")
	c, _ := r.Cookie(w.signinCookie(r))
	form := r.PostFormValue("csrf")
	if err := w.sameOrigin(r); err != nil || c == nil || form == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		w.auditRefusal(r, nil, server.AuditLoginFailed, "", map[string]any{"why": "sign-in form not from this workspace"})
		w.showSignin(rw, r, signinPage{Next: next, Error: "This sign-in form was too old or not from this workspace. Please sign in again."}, http.StatusForbidden)
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	p := signinPage{Next: next, Username: username}
	if username == "" || password == "" || len(username) > 128 {
		p.Error = "Enter your username and your password."
		w.showSignin(rw, r, p, http.StatusBadRequest)
		return
	}
	ip := w.clientIP(r)
	attempt, wait := w.o.Limiter.Reserve(strings.ToLower(username), ip)
	if wait > 0 {
		rw.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds()+0.999)))
		p.Error = "Too many failed sign-ins. Wait " + waitWords(wait) + ", then try again."
		w.showSignin(rw, r, p, http.StatusTooManyRequests)
		return
	}
	u, hash, err := w.o.Store.UserByName(r.Context(), username)
	switch {
	case errors.Is(err, server.ErrNotFound):
		auth.SpendCheck(password, w.o.BcryptCost)
	case err != nil:
		w.renderError(rw, r, nil, err)
		return
	default:
		err = auth.CheckPassword(hash, password)
	}
	if err != nil {
		w.auditRefusal(r, nil, server.AuditLoginFailed, username, nil)
		p.Error = "Wrong username or password."
		w.showSignin(rw, r, p, http.StatusUnauthorized)
		return
	}
	attempt.Succeeded()
	if u.Disabled {
		w.auditRefusal(r, nil, server.AuditLoginFailed, u.Username, map[string]any{"why": "account disabled"})
		p.Error = "This account is disabled. Ask IT."
		w.showSignin(rw, r, p, http.StatusForbidden)
		return
	}
	if u.Role == server.RoleCollector {
		// A collector's account uploads recordings and reads nothing.
		w.auditRefusal(r, nil, server.AuditLoginFailed, u.Username, map[string]any{"why": "a collector has no workspace"})
		p.Error = "This account is a collector's: it has no workspace."
		w.showSignin(rw, r, p, http.StatusForbidden)
		return
	}
	if _, err := w.startSession(rw, r, u, "password"); err != nil {
		w.renderError(rw, r, nil, err)
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: w.signinCookie(r), Path: "/", MaxAge: -1, HttpOnly: true, Secure: w.secure(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(rw, r, next, http.StatusSeeOther)
}

func (w *Web) signout(rw http.ResponseWriter, r *http.Request) {
	s, err := w.session(r)
	if err != nil {
		http.Redirect(rw, r, "/signin?why=signed-out", http.StatusSeeOther)
		return
	}
	if err := w.checkForm(r, s); err != nil {
		w.renderError(rw, r, s, problem(http.StatusForbidden, "This form was not sent from this workspace page. Use the Sign out button."))
		return
	}
	err = w.audited(r, s, func(ctx context.Context) (Entry, error) {
		return Entry{server.AuditLogout, s.Username, nil}, w.o.Store.EndWebSession(ctx, s.hash, w.o.Clock())
	})
	if err != nil {
		w.renderError(rw, r, s, err)
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: w.cookieName(r), Path: "/", MaxAge: -1, HttpOnly: true, Secure: w.secure(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(rw, r, "/signin?why=signed-out", http.StatusSeeOther)
}

// LinkRoles may ask for a one-time sign-in link (the desktop's "Open the
// workspace…").
var LinkRoles = []server.Role{server.RoleSupervisor, server.RoleDPO, server.RoleAdmin}

// NewLink makes a one-time link that signs a browser in as p's account:
// the path to open on this server ("/link/…") and when it stops working
// (LinkLifetime). It is audited (workspace.link) in the same transaction;
// p's role must be one of LinkRoles. The API's POST /api/v1/workspace/link
// calls it for a desktop.
func (w *Web) NewLink(ctx context.Context, p server.Principal) (string, time.Time, error) {
	if !p.Role.In(LinkRoles...) {
		return "", time.Time{}, fmt.Errorf("role %s has no workspace: %w", p.Role, server.ErrForbidden)
	}
	tok := newToken()
	now := w.o.Clock()
	l := server.WebLink{TokenHash: auth.HashToken(tok), UserID: p.UserID, DeviceID: p.DeviceID, Created: now, Expires: now.Add(LinkLifetime)}
	detail, _ := json.Marshal(map[string]any{"ip": p.IP, "expires": l.Expires.UTC()})
	err := w.o.Store.Tx(ctx, func(ctx context.Context) error {
		if err := w.o.Store.CreateWebLink(ctx, l); err != nil {
			return err
		}
		return w.o.Store.Audit(ctx, server.AuditRecord{Actor: p.Username, Device: p.DeviceID, Action: server.AuditLinkIssue, Target: p.Username, Detail: string(detail)})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return "/link/" + tok, l.Expires, nil
}

// useLink signs the browser in with a one-time link, once, within its
// lifetime, for an account still allowed.
func (w *Web) useLink(rw http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	refuse := func(why string) {
		w.auditRefusal(r, nil, server.AuditLinkRefused, "", map[string]any{"why": why})
		http.Redirect(rw, r, "/signin?why=link", http.StatusSeeOther)
	}
	if len(tok) != len(newToken()) {
		refuse("malformed")
		return
	}
	l, err := w.o.Store.UseWebLink(r.Context(), auth.HashToken(tok), w.o.Clock())
	switch {
	case errors.Is(err, server.ErrGone):
		refuse("already used")
		return
	case errors.Is(err, server.ErrNotFound):
		refuse("unknown")
		return
	case err != nil:
		w.renderError(rw, r, nil, err)
		return
	}
	if !w.o.Clock().Before(l.Expires) {
		refuse("expired")
		return
	}
	if l.Disabled || !l.Role.In(LinkRoles...) {
		refuse("account disabled or role changed")
		return
	}
	u := server.User{ID: l.UserID, Username: l.Username, Role: l.Role}
	if _, err := w.startSession(rw, r, u, "link"); err != nil {
		w.renderError(rw, r, nil, err)
		return
	}
	http.Redirect(rw, r, "/", http.StatusSeeOther)
}

// localPath is p when it is a path on this server, else def: a "next"
// that sends the browser elsewhere after sign-in is ignored.
func localPath(p, def string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return def
	}
	return p
}
