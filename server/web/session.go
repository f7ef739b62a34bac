package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
)

// Session is a signed-in browser, as a handler sees it.
type Session struct {
	Username string
	Role     server.Role
	UserID   int64
	// CSRF is the token every form of this session carries.
	CSRF string
	// hash is the session token's hash, its key in the store.
	hash     string
	lastSeen time.Time
}

// AuditID names the session in the audit's device column ("web:" and the
// start of its token's hash): who did what is traceable to one sign-in
// without the audit holding anything that would let someone use it.
func (s *Session) AuditID() string { return "web:" + s.hash[:16] }

// Principal is the session as the domain services take it.
func (s *Session) Principal(ip string) server.Principal {
	return server.Principal{UserID: s.UserID, Username: s.Username, Role: s.Role, DeviceID: s.AuditID(), IP: ip}
}

// Cookie names. Over HTTPS the session cookie has the __Host- prefix, so
// the browser keeps it only when it was set Secure, for this host, path /.
const (
	cookieSecure   = "__Host-callguard-session"
	cookiePlain    = "callguard-session"
	signinSecure   = "__Host-callguard-signin"
	signinPlain    = "callguard-signin"
	sessionTokenSz = 32
)

var errNoSession = errors.New("no valid session")

// secure reports whether cookies must be Secure: always, except plain HTTP
// to a loopback host (the embedded server, a test), where there is no TLS
// and nothing leaves the machine.
func (w *Web) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		host = h
	}
	if host == "localhost" {
		return false
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err != nil || !ip.IsLoopback()
}

func (w *Web) cookieName(r *http.Request) string {
	if w.secure(r) {
		return cookieSecure
	}
	return cookiePlain
}

// newToken returns 256 random bits, URL-safe.
func newToken() string {
	var b [sessionTokenSz]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// csrfFor derives a session's CSRF token from its token: the page carries
// it, and nothing in it lets anyone recover the session token.
func csrfFor(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("callguard workspace csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// workspaceRoles have a workspace: every role but the collector's, which
// reads nothing (an account made a collector loses its sessions).
var workspaceRoles = []server.Role{server.RoleAgent, server.RoleSupervisor, server.RoleDPO, server.RoleAdmin}

// session returns the request's valid session: its cookie names a stored
// session, not ended, not past its absolute expiry nor idle too long, of
// an account not disabled whose role has a workspace.
func (w *Web) session(r *http.Request) (*Session, error) {
	c, err := r.Cookie(w.cookieName(r))
	if err != nil || len(c.Value) != base64.RawURLEncoding.EncodedLen(sessionTokenSz) {
		return nil, errNoSession
	}
	hash := auth.HashToken(c.Value)
	ws, err := w.o.Store.WebSession(r.Context(), hash)
	if err != nil {
		return nil, errNoSession
	}
	now := w.o.Clock()
	if ws.Ended != nil || !now.Before(ws.Expires) || now.Sub(ws.LastSeen) >= w.o.Idle || ws.Disabled || !ws.Role.In(workspaceRoles...) {
		return nil, errNoSession
	}
	return &Session{Username: ws.Username, Role: ws.Role, UserID: ws.UserID, CSRF: csrfFor(c.Value), hash: hash, lastSeen: ws.LastSeen}, nil
}

// touch moves the session's idle expiry on, at most every 30 seconds (a
// write per page would be most of a page's cost).
func (w *Web) touch(r *http.Request, s *Session) {
	now := w.o.Clock()
	if now.Sub(s.lastSeen) < 30*time.Second {
		return
	}
	if err := w.o.Store.TouchWebSession(r.Context(), s.hash, now); err != nil {
		w.o.Logger.Warn("cannot record session activity", "err", err)
	}
}

// startSession stores a new session for u and sets its cookie.
func (w *Web) startSession(rw http.ResponseWriter, r *http.Request, u server.User, via string) (*Session, error) {
	tok := newToken()
	now := w.o.Clock()
	ws := server.WebSession{TokenHash: auth.HashToken(tok), UserID: u.ID, Created: now, LastSeen: now,
		Expires: now.Add(w.o.Absolute), IP: w.clientIP(r), Via: via}
	s := &Session{Username: u.Username, Role: u.Role, UserID: u.ID, CSRF: csrfFor(tok), hash: ws.TokenHash, lastSeen: now}
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		return Entry{server.AuditLogin, u.Username, map[string]any{"via_how": via}}, w.o.Store.CreateWebSession(ctx, ws)
	})
	if err != nil {
		return nil, err
	}
	http.SetCookie(rw, &http.Cookie{Name: w.cookieName(r), Value: tok, Path: "/", HttpOnly: true, Secure: w.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(w.o.Absolute.Seconds())})
	return s, nil
}

// checkForm refuses a form not sent by a page of this workspace: the
// browser must not say it came from elsewhere (Sec-Fetch-Site, Origin),
// and it must carry the session's CSRF token.
func (w *Web) checkForm(r *http.Request, s *Session) error {
	if err := w.sameOrigin(r); err != nil {
		return err
	}
	got := r.PostFormValue("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
		return errors.New("missing or wrong CSRF token")
	}
	return nil
}

// sameOrigin refuses requests a browser marks as cross-site, or whose
// Origin is not this server.
func (w *Web) sameOrigin(r *http.Request) error {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Errorf("request from another site (Sec-Fetch-Site: %s)", site)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil // old browsers and non-browsers; the CSRF token still decides
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != r.Host {
		return fmt.Errorf("request from another origin (%s)", origin)
	}
	scheme := "http"
	if w.secure(r) {
		scheme = "https"
	}
	if u.Scheme != scheme {
		return fmt.Errorf("request from another origin (%s)", origin)
	}
	return nil
}

// needSignIn answers a request without a valid session: pages go to the
// sign-in page (and back after it); anything else is refused.
func (w *Web) needSignIn(rw http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Redirect(rw, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	w.renderError(rw, r, nil, problem(http.StatusUnauthorized, "You are not signed in (or your session ended). Sign in again."))
}

// clientIP is the address the request came from (see httpapi's clientIP:
// X-Forwarded-For only from a trusted proxy).
func (w *Web) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !w.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		hop = hop.Unmap()
		if !w.trusted(hop) {
			return hop.String()
		}
		peer = hop
	}
	return peer.String()
}

func (w *Web) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range w.o.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// waitWords says how long to wait, for a person.
func waitWords(d time.Duration) string {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 90 {
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", (secs+59)/60)
}
