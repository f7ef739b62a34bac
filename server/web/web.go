package web

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/live"
	"github.com/callguard/callguard/server/store"
	"github.com/callguard/callguard/server/subjectaccess"
)

//go:embed templates assets
var files embed.FS

// SessionStore is what sign-in and sessions need of the database.
type SessionStore interface {
	UserByName(ctx context.Context, username string) (server.User, string, error)
	CreateWebSession(ctx context.Context, ws server.WebSession) error
	WebSession(ctx context.Context, tokenHash string) (server.WebSession, error)
	TouchWebSession(ctx context.Context, tokenHash string, at time.Time) error
	EndWebSession(ctx context.Context, tokenHash string, at time.Time) error
	CreateWebLink(ctx context.Context, l server.WebLink) error
	UseWebLink(ctx context.Context, tokenHash string, at time.Time) (server.WebLink, error)
}

// AuditStore writes the audit, in the same transaction as the read or
// change it records (see store.Store.Tx).
type AuditStore interface {
	Audit(ctx context.Context, r server.AuditRecord) error
	Tx(ctx context.Context, f func(ctx context.Context) error) error
}

// CallStore is what the calls pages read.
type CallStore interface {
	Call(ctx context.Context, id string) (server.Call, error)
	SearchCalls(ctx context.Context, f server.CallFilter) ([]server.Call, error)
	Recording(ctx context.Context, callID string) (store.Recording, error)
	Supervises(ctx context.Context, supervisor, agent string) (bool, error)
	Supervised(ctx context.Context, supervisor string) (all bool, agents map[string]bool, err error)
	Teams(ctx context.Context) ([]server.Team, error)
	Holds(ctx context.Context, all bool) ([]server.Hold, error)
}

// Store is everything the workspace reads and writes in the database
// (store.Store implements it). A page that needs more adds a small
// interface above and a line here.
type Store interface {
	SessionStore
	AuditStore
	CallStore
	UserStore
	AuditReader
	DPOStore
	ScoreStore
}

// Protect is what the workspace needs of the data-protection service
// (protect.Service).
type Protect interface {
	HasKey() bool
	Play(ctx context.Context, callID string, w io.Writer, before func()) (artefact.DecryptReport, error)
	CheckRedacted(ctx context.Context, callID string) error
	HoldService
	ReviewService
	ErasureService
}

// Board is what the live board page needs (live.Board).
type Board interface {
	Subscribe() *live.Subscription
}

// Denials audits refused requests within a bounded allowance a principal
// (httpapi.API.AuditDenied), so forbidden requests cannot grow the audit
// without bound.
type Denials interface {
	AuditDenied(r *http.Request, p server.Principal, action, target string, detail map[string]any)
}

// Default session lifetimes.
const (
	DefaultIdle     = 30 * time.Minute
	DefaultAbsolute = 12 * time.Hour
	// LinkLifetime is how long a desktop's one-time sign-in link works.
	LinkLifetime = 60 * time.Second
)

// Options configure the workspace.
type Options struct {
	Store   Store
	Protect Protect
	Board   Board
	Policy  *policy.Policy
	Logger  *slog.Logger
	Clock   func() time.Time
	// Limiter slows down failed sign-ins; pass the API's, so a password
	// guessed at over the API and in the browser counts once.
	Limiter *auth.Limiter
	// BcryptCost is the servers' password cost (for the time a sign-in of
	// an unknown account spends).
	BcryptCost int
	// Idle and Absolute end a session after that long without a request,
	// and that long after sign-in (defaults DefaultIdle, DefaultAbsolute).
	Idle, Absolute time.Duration
	// TrustedProxies: see httpapi.Options.
	TrustedProxies []netip.Prefix
	// NumberSecret keys the hash of searched numbers in the audit (see
	// server.NumberHMAC), as the API does.
	NumberSecret []byte
	// Keepalive is the live board's comment interval (default 15 s).
	Keepalive time.Duration
	// Releases is the third-party release register (protect.Service);
	// without it its pages say it is not running.
	Releases Releaser
	// VerifyAudit verifies the audit chain for the audit page's button;
	// without it the page says to use the command.
	VerifyAudit AuditVerifier
	// Denials audits refused pages (default: every refusal is audited).
	Denials Denials
	// SubjectAccess runs the subject-access cases (cases.go).
	SubjectAccess *subjectaccess.Service
}

// Web is the workspace's HTTP handler. It serves every path outside /api/.
type Web struct {
	o     Options
	mux   *http.ServeMux
	pages []Page
	tmpl  templates
	plays *plays
	// assets is the embedded assets directory, served under /assets/.
	assets fs.FS
}

// New returns the workspace, with its templates parsed (a template that
// does not parse is a programming error: New panics).
func New(o Options) *Web {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Limiter == nil {
		o.Limiter = auth.NewLimiter(o.Clock)
	}
	if o.Idle <= 0 {
		o.Idle = DefaultIdle
	}
	if o.Absolute <= 0 {
		o.Absolute = DefaultAbsolute
	}
	if o.Keepalive <= 0 {
		o.Keepalive = 15 * time.Second
	}
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		panic(fmt.Sprintf("web: assets: %v", err))
	}
	w := &Web{o: o, mux: http.NewServeMux(), assets: sub, plays: newPlays(o.Clock)}
	w.tmpl = mustParse()
	w.mux.Handle("GET /assets/", http.StripPrefix("/assets/", assetServer(sub)))
	w.mux.HandleFunc("GET /{$}", w.home)
	w.signinRoutes()
	// Each page's routes, one line per file (see doc.go).
	w.callRoutes()
	w.callPageRoutes()
	w.liveRoutes()
	w.caseRoutes()
	w.releaseRoutes()
	w.auditRoutes()
	w.reviewRoutes()
	w.holdRoutes()
	w.retentionRoutes()
	w.erasureRoutes()
	w.scoreRoutes()
	w.scorecardRoutes()
	w.trendRoutes()
	w.calibrationRoutes()
	return w
}

// Close ends the plays in progress (their decrypted copies are dropped).
func (w *Web) Close() { w.plays.Close() }

// SetDenials sets Options.Denials (the API is made after the workspace,
// whose link maker it takes).
func (w *Web) SetDenials(d Denials) { w.o.Denials = d }

// Pages lists every page and action with the roles that may open it: the
// one table the nav and the role checks are made from.
func (w *Web) Pages() []Page { return append([]Page(nil), w.pages...) }

// ServeHTTP serves a request; a panic shows the error page.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			w.o.Logger.Error("web handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			w.renderError(rw, r, nil, problem(http.StatusInternalServerError, "Something went wrong on the server. Try again; if it keeps happening, tell IT the time it happened."))
		}
	}()
	secureHeaders(rw.Header())
	if _, pattern := w.mux.Handler(r); pattern == "" {
		rec := &statusOnly{h: rw.Header()}
		w.mux.ServeHTTP(rec, r)
		s, _ := w.session(r)
		if rec.status == http.StatusMethodNotAllowed {
			w.renderError(rw, r, s, problem(http.StatusMethodNotAllowed, "This page cannot be used that way."))
			return
		}
		w.renderError(rw, r, s, problem(http.StatusNotFound, "There is no page at this address. Check the link, or start again from the menu."))
		return
	}
	w.mux.ServeHTTP(rw, r)
}

// secureHeaders are on every answer: no inline script or style, no
// framing, no sniffing, nothing cached.
func secureHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// assetServer serves the embedded assets; they may be cached for an hour
// (they change only with the server).
func assetServer(fsys fs.FS) http.Handler {
	fsrv := http.FileServerFS(fsys)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "private, max-age=3600")
		fsrv.ServeHTTP(rw, r)
	})
}

// statusOnly keeps the status a handler writes and drops its body.
type statusOnly struct {
	h      http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.h }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(status int)      { s.status = status }

// home sends a signed-in person to the first page their role may open.
func (w *Web) home(rw http.ResponseWriter, r *http.Request) {
	s, err := w.session(r)
	if err != nil {
		http.Redirect(rw, r, "/signin", http.StatusSeeOther)
		return
	}
	for _, n := range w.nav(s) {
		http.Redirect(rw, r, n.Path, http.StatusSeeOther)
		return
	}
	w.renderError(rw, r, s, problem(http.StatusForbidden, "Your account has no pages in the workspace. The workspace is for supervisors and data-protection officers; ask IT if you need it."))
}
