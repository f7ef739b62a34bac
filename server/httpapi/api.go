package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/blob"
	"github.com/callguard/callguard/server/live"
	"github.com/callguard/callguard/server/store"
	"github.com/callguard/callguard/server/throttle"
)

// Store is what the API needs of the database (store.Store implements it).
type Store interface {
	CreateUser(ctx context.Context, username string, role server.Role, passwordHash string, local bool) (server.User, error)
	UserByName(ctx context.Context, username string) (server.User, string, error)
	Users(ctx context.Context) ([]server.User, error)
	SetUserDisabled(ctx context.Context, username string, disabled bool) error
	CreateDevice(ctx context.Context, id string, userID int64, name, tokenHash string) error
	Authenticate(ctx context.Context, tokenHash string) (server.Principal, error)
	Devices(ctx context.Context) ([]server.Device, error)
	RevokeDevice(ctx context.Context, id string) error
	Device(ctx context.Context, id string) (server.Device, error)
	RotateToken(ctx context.Context, deviceID, oldHash, newHash string) (time.Time, error)
	TouchDevice(ctx context.Context, id string) error
	IngestBatch(ctx context.Context, p server.Principal, items []server.BatchItem) (store.IngestResult, error)
	Call(ctx context.Context, id string) (server.Call, error)
	SearchCalls(ctx context.Context, f server.CallFilter) ([]server.Call, error)
	RecordingCall(ctx context.Context, p server.Principal, ref string) (string, error)
	ClaimRecording(ctx context.Context, p server.Principal, ref string) (store.Recording, error)
	UploadOpen(ctx context.Context, callID string) error
	Recording(ctx context.Context, callID string) (store.Recording, error)
	StoreRecording(ctx context.Context, callID string, size int64, sha256 string, manifest []byte) error
	// The calls the phone system recorded (see store/phonerecordings.go).
	HasPhoneRecording(ctx context.Context, p server.Principal, ref string) (bool, error)
	AddPhoneRecording(ctx context.Context, p server.Principal, ref string, row store.PhoneRecordingRow) (string, error)
	LookUpPhoneRecording(ctx context.Context, p server.Principal, sipCallID string) (server.PhoneRecording, error)
	CollectorRecording(ctx context.Context, p server.Principal, callID string) (store.Recording, error)
	ClaimPhoneRecording(ctx context.Context, p server.Principal, callID string) (store.Recording, error)
	Audit(ctx context.Context, r server.AuditRecord) error
	// Tx runs f in one transaction that every store call made with f's
	// context joins (see store.Store.Tx).
	Tx(ctx context.Context, f func(ctx context.Context) error) error
	SetRole(ctx context.Context, username string, role server.Role) (server.Role, error)

	ReviewQueue(ctx context.Context, f store.ReviewFilter) ([]server.ReviewItem, error)
	ReviewItem(ctx context.Context, id string) (server.ReviewItem, error)
	MyFlags(ctx context.Context, agent string, since time.Time, limit int) ([]server.FlagOutcome, error)
	PlaceHold(ctx context.Context, h server.Hold, by string) (server.Hold, error)
	Holds(ctx context.Context, all bool) ([]server.Hold, error)
	Hold(ctx context.Context, id int64) (server.Hold, error)
	RetentionReport(ctx context.Context, now, until time.Time, limit int) (server.RetentionReport, error)
	Tombstone(ctx context.Context, callID string) (server.Tombstone, error)
	Tombstones(ctx context.Context, from, to time.Time, limit int) ([]server.Tombstone, error)
	Erasures(ctx context.Context, state string) ([]server.Erasure, error)
	SearchAudit(ctx context.Context, f server.AuditFilter) ([]server.AuditRecord, error)
	Checkpoint(ctx context.Context) (server.AuditCheckpoint, error)
	CallsOfNumber(ctx context.Context, key string) ([]server.Call, error)

	CreateTeam(ctx context.Context, name string) (server.Team, error)
	DeleteTeam(ctx context.Context, name string) error
	AddTeamMember(ctx context.Context, team, username string) error
	RemoveTeamMember(ctx context.Context, team, username string) error
	Teams(ctx context.Context) ([]server.Team, error)
	Supervises(ctx context.Context, supervisor, agent string) (bool, error)
	Supervised(ctx context.Context, supervisor string) (all bool, agents map[string]bool, err error)

	ScoreStore
}

// Protect is what the API needs of the data-protection service
// (protect.Service): decisions, playing, erasure and lifting holds.
type Protect interface {
	HasKey() bool
	Kick()
	Decide(ctx context.Context, p server.Principal, id string, d server.Decision) (server.ReviewItem, error)
	Approve(ctx context.Context, p server.Principal, id string, approve bool) (server.ReviewItem, error)
	// Allows lists what a dpo may do with the item now (ReviewItem.Allows).
	Allows(it server.ReviewItem) []string
	Play(ctx context.Context, callID string, w io.Writer, before func()) (artefact.DecryptReport, error)
	// CheckRedacted fails with server.ErrRedactionPending while the call's
	// recording holds card details not yet silenced.
	CheckRedacted(ctx context.Context, callID string) error
	RequestErasure(ctx context.Context, p server.Principal, number, reference string) (server.Erasure, error)
	ApproveErasure(ctx context.Context, p server.Principal, id int64, approve bool) (server.Erasure, error)
	LiftHold(ctx context.Context, p server.Principal, id int64, reason string) (server.Hold, bool, error)
	PlaceHold(ctx context.Context, p server.Principal, h server.Hold) (server.Hold, error)
}

// Blobs is what the API needs of the recording files (blob.Store).
type Blobs interface {
	Size(id string) (int64, bool, error)
	Append(id string, offset int64, r io.Reader) (int64, error)
	Finish(id, sha256Hex string, manifest []byte) (int64, error)
	Open(id string) (*os.File, error)
}

// Board is what the API needs of the live board (live.Board).
type Board interface {
	Heartbeat(ctx context.Context, agent, device string, hb server.Heartbeat)
	Events(ctx context.Context, agent, device string, evs []server.Event)
	Subscribe() *live.Subscription
}

// Workspace is what the API needs of the web workspace (web.Web): the
// desktop's one-time sign-in links.
type Workspace interface {
	NewLink(ctx context.Context, p server.Principal) (path string, expires time.Time, err error)
}

// Body limits.
const (
	MaxEventsBody   = 4 << 20  // one ingest batch
	MaxSmallBody    = 16 << 10 // enrolment, heartbeat, users
	MaxManifestBody = 1 << 20
	MaxChunk        = 16 << 20 // one recording chunk
)

// Options configure the API.
type Options struct {
	Store   Store
	Blobs   Blobs
	Board   Board
	Protect Protect
	// Policy tells the review and hold routes whether two dpos are needed.
	Policy *policy.Policy
	Logger *slog.Logger
	Clock  func() time.Time
	// BcryptCost for passwords set through the API (0: bcrypt's default).
	BcryptCost int
	// Limiter slows down failed logins (default auth.NewLimiter).
	Limiter *auth.Limiter
	Version string
	// Keepalive is the SSE comment interval (default 15 s).
	Keepalive time.Duration
	// Timeouts: the streams' Stall (the rest is for the http.Server, see
	// Timeouts.Server).
	Timeouts Timeouts
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed: a request from one of them is taken to come from the last
	// address in that header not itself a trusted proxy. From anyone else
	// the header is ignored, so a client cannot choose its own address.
	TrustedProxies []netip.Prefix
	// NumberSecret keys the hash of phone numbers in the audit (see
	// server.NumberHMAC); kept outside the database. Default: random, so
	// lookups match only within one run.
	NumberSecret []byte
	// Rates are each device's allowances (zero fields: the defaults).
	Rates Rates
	// Workspace makes the web workspace's sign-in links (nil: the route
	// answers 404).
	Workspace Workspace
	// PhoneRecorder is the phone system's recorder the desktops pause
	// through the server (an rtpengine ng client); nil: the route answers
	// 501. PhoneRecorderTimeout bounds each command [500ms].
	PhoneRecorder        PhoneRecorder
	PhoneRecorderTimeout time.Duration
	// Scoring is told when a recording was stored, so the call is scored
	// at once (autoscore.Job); nil: the job finds it at its next look.
	Scoring interface{ Wake() }
}

// Rates are what one device may send: requests (any route) and events, as
// a rate a second and a burst. Past them the device is answered 429 with
// Retry-After, and its desktop waits that long. A negative Requests turns
// the limits off (tests, benchmarks).
type Rates struct {
	Requests     float64 // [10 a second]
	RequestBurst int     // [60]
	Events       float64 // [200 a second]
	EventBurst   int     // [5000]
}

// DefaultRates: a desktop sends a batch of events when something happens,
// a heartbeat every 10 s and a recording in 4 MiB chunks; catching up after
// a day offline (a few thousand events) fits in the event burst.
var DefaultRates = Rates{Requests: 10, RequestBurst: 60, Events: 200, EventBurst: 5000}

// API is the HTTP handler of the server.
type API struct {
	o      Options
	mux    *http.ServeMux
	routes []string

	requests  *throttle.Buckets // per device
	eventRate *throttle.Buckets // per device, one token an event
	denials   *denials

	touchMu sync.Mutex
	touched map[string]time.Time
}

// New returns the API's handler.
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Limiter == nil {
		o.Limiter = auth.NewLimiter(o.Clock)
	}
	if o.Keepalive <= 0 {
		o.Keepalive = 15 * time.Second
	}
	o.Timeouts = o.Timeouts.WithDefaults()
	if len(o.NumberSecret) == 0 {
		o.NumberSecret = randomSecret()
	}
	a := &API{o: o, mux: http.NewServeMux(), touched: map[string]time.Time{}, denials: newDenials(o.Clock)}
	if rt := o.Rates; rt.Requests >= 0 {
		d := DefaultRates
		if rt.Requests > 0 {
			d.Requests = rt.Requests
		}
		if rt.RequestBurst > 0 {
			d.RequestBurst = rt.RequestBurst
		}
		if rt.Events > 0 {
			d.Events = rt.Events
		}
		if rt.EventBurst > 0 {
			d.EventBurst = rt.EventBurst
		}
		a.requests = throttle.New(d.Requests, d.RequestBurst, o.Clock)
		a.eventRate = throttle.New(d.Events, d.EventBurst, o.Clock)
	}
	// Only agents' desktops write calls (events, heartbeats, recordings):
	// supervisors and dpos read what agents sent, they never add to it.
	writers := []server.Role{server.RoleAgent}
	// A collector uploads the recordings of calls the phone system
	// recorded, under the upload rule of its lookup, and reads nothing.
	uploaders := []server.Role{server.RoleAgent, server.RoleCollector}
	collector := []server.Role{server.RoleCollector}
	callers := []server.Role{server.RoleAgent, server.RoleSupervisor}
	readers := []server.Role{server.RoleAgent, server.RoleSupervisor, server.RoleDPO}
	anyone := server.Roles

	a.mux.HandleFunc("GET /api/v1/health", a.health)
	a.mux.Handle("POST /api/v1/enroll", limit(MaxSmallBody, http.HandlerFunc(a.enroll)))
	a.routes = append(a.routes, "GET /api/v1/health", "POST /api/v1/enroll")
	a.route("GET /api/v1/me", anyone, 0, a.me)
	a.route("POST /api/v1/events", writers, MaxEventsBody, a.events)
	a.route("POST /api/v1/heartbeat", writers, MaxSmallBody, a.heartbeat)
	a.route("POST /api/v1/phone-recorder", writers, MaxSmallBody, a.phoneRecorder)
	a.route("GET /api/v1/calls", readers, 0, a.searchCalls)
	a.route("GET /api/v1/calls/{id}", readers, 0, a.call)
	a.route("GET /api/v1/phone-recordings", collector, 0, a.phoneRecording)
	a.route("GET /api/v1/recordings/{id}", []server.Role{server.RoleAgent, server.RoleSupervisor, server.RoleDPO, server.RoleCollector}, 0, a.recordingStatus)
	a.route("HEAD /api/v1/recordings/{id}/audio", uploaders, 0, a.audioSize)
	a.route("PUT /api/v1/recordings/{id}/audio", uploaders, MaxChunk, a.audioChunk)
	a.route("PUT /api/v1/recordings/{id}/manifest", uploaders, MaxManifestBody, a.manifest)
	a.route("GET /api/v1/live", []server.Role{server.RoleSupervisor, server.RoleDPO}, 0, a.live)
	a.route("GET /api/v1/users", []server.Role{server.RoleAdmin}, 0, a.listUsers)
	a.route("POST /api/v1/users", []server.Role{server.RoleAdmin}, MaxSmallBody, a.addUser)
	a.route("POST /api/v1/users/{username}/disable", []server.Role{server.RoleAdmin}, 0, a.disableUser)
	a.route("GET /api/v1/devices", []server.Role{server.RoleAdmin}, 0, a.listDevices)
	a.route("POST /api/v1/devices/{id}/revoke", []server.Role{server.RoleAdmin}, 0, a.revokeDevice)
	a.route("POST /api/v1/devices/self/rotate", anyone, 0, a.rotateToken)
	a.route("POST /api/v1/users/{username}/role", []server.Role{server.RoleAdmin}, MaxSmallBody, a.setRole)
	admin := []server.Role{server.RoleAdmin}
	a.route("GET /api/v1/teams", admin, 0, a.listTeams)
	a.route("POST /api/v1/teams", admin, MaxSmallBody, a.addTeam)
	a.route("DELETE /api/v1/teams/{name}", admin, 0, a.removeTeam)
	a.route("POST /api/v1/teams/{name}/members", admin, MaxSmallBody, a.addMember)
	a.route("DELETE /api/v1/teams/{name}/members/{username}", admin, 0, a.removeMember)

	// Data protection (docs/data-protection.md).
	dpo := []server.Role{server.RoleDPO}
	listeners := []server.Role{server.RoleSupervisor, server.RoleDPO}
	a.route("GET /api/v1/flags/mine", callers, 0, a.myFlags)
	a.route("GET /api/v1/scores/mine", writers, 0, a.myScores)
	a.route("POST /api/v1/scores/{id}/comments", callers, MaxSmallBody, a.commentOnScore)
	a.route("GET /api/v1/recordings/{id}/play", listeners, 0, a.play)
	a.route("GET /api/v1/recordings/{id}/audio", listeners, 0, a.download)
	a.route("GET /api/v1/review", dpo, 0, a.reviewQueue)
	a.route("GET /api/v1/review/{id}", dpo, 0, a.reviewItem)
	a.route("POST /api/v1/review/{id}/decide", dpo, MaxSmallBody, a.decide)
	a.route("POST /api/v1/review/{id}/approve", dpo, MaxSmallBody, a.approve)
	a.route("GET /api/v1/holds", dpo, 0, a.listHolds)
	a.route("POST /api/v1/holds", dpo, MaxSmallBody, a.placeHold)
	a.route("GET /api/v1/holds/{id}", dpo, 0, a.getHold)
	a.route("POST /api/v1/holds/{id}/lift", dpo, MaxSmallBody, a.liftHold)
	a.route("GET /api/v1/retention/report", dpo, 0, a.retentionReport)
	a.route("GET /api/v1/tombstones", dpo, 0, a.listTombstones)
	a.route("GET /api/v1/tombstones/{id}", dpo, 0, a.getTombstone)
	a.route("GET /api/v1/erasures", dpo, 0, a.listErasures)
	a.route("POST /api/v1/erasures", dpo, MaxSmallBody, a.requestErasure)
	a.route("POST /api/v1/erasures/{id}/approve", dpo, MaxSmallBody, a.approveErasure)
	a.route("GET /api/v1/subject-access", dpo, 0, a.subjectAccess)
	a.route("GET /api/v1/audit", listeners, 0, a.searchAudit)
	a.route("POST /api/v1/audit/checkpoint", dpo, 0, a.checkpoint)
	a.route("GET /api/v1/audit/number", dpo, 0, a.whoLookedUp)
	a.route("POST /api/v1/workspace/link", []server.Role{server.RoleSupervisor, server.RoleDPO, server.RoleAdmin}, 0, a.workspaceLink)
	return a
}

// Routes lists the API's routes as "METHOD /path" patterns.
func (a *API) Routes() []string { return append([]string(nil), a.routes...) }

// ServeHTTP serves a request; a panic becomes a JSON 500.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.o.Logger.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			writeError(w, http.StatusInternalServerError, "internal error")
		}
	}()
	if _, pattern := a.mux.Handler(r); pattern == "" {
		// No route: let the mux pick 404 or 405 (and set Allow), but answer in JSON.
		rec := &statusOnly{h: w.Header()}
		a.mux.ServeHTTP(rec, r)
		msg := "no such route"
		if rec.status == http.StatusMethodNotAllowed {
			msg = "method not allowed"
		}
		writeError(w, rec.status, msg+": "+r.Method+" "+r.URL.Path)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// statusOnly keeps the status a handler writes and drops its body.
type statusOnly struct {
	h      http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.h }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(status int)      { s.status = status }

type handler func(w http.ResponseWriter, r *http.Request, p server.Principal)

// route registers h for pattern, open to roles, with a body limit.
func (a *API) route(pattern string, roles []server.Role, maxBody int64, h handler) {
	a.routes = append(a.routes, pattern)
	a.mux.Handle(pattern, limit(maxBody, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.authenticate(w, r)
		if !ok {
			return
		}
		if wait := a.requests.Take(p.DeviceID, 1); wait > 0 {
			tooMany(w, wait, "too many requests from this device")
			return
		}
		if !p.Role.In(roles...) {
			a.auditDenied(r, p, server.AuditAuthzDenied, r.Method+" "+r.URL.Path, map[string]any{"role": p.Role})
			writeError(w, http.StatusForbidden, fmt.Sprintf("role %s may not %s %s", p.Role, r.Method, r.URL.Path))
			return
		}
		h(w, r, p)
	})))
}

func limit(n int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			n = 1 << 10
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h.ServeHTTP(w, r)
	})
}

// authenticate resolves the bearer token to a principal or answers 401/403.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (server.Principal, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="callguard"`)
		writeError(w, http.StatusUnauthorized, "missing bearer token: enrol the device first")
		return server.Principal{}, false
	}
	if !auth.LooksLikeToken(tok) {
		writeError(w, http.StatusUnauthorized, "malformed device token")
		return server.Principal{}, false
	}
	p, err := a.o.Store.Authenticate(r.Context(), auth.HashToken(tok))
	p.IP = a.clientIP(r)
	switch {
	case err == nil:
		return p, true
	case errors.Is(err, server.ErrTokenRevoked):
		a.auditDenied(r, p, server.AuditTokenDenied, p.DeviceID, map[string]any{"why": "revoked"})
		writeError(w, http.StatusUnauthorized, "device token revoked: enrol this device again")
	case errors.Is(err, server.ErrTokenExpired):
		a.auditDenied(r, p, server.AuditTokenDenied, p.DeviceID, map[string]any{"why": "expired"})
		writeError(w, http.StatusUnauthorized, "device token expired: enrol this device again")
	case errors.Is(err, server.ErrDisabled):
		a.auditDenied(r, p, server.AuditTokenDenied, p.DeviceID, map[string]any{"why": "account disabled"})
		writeError(w, http.StatusForbidden, "account disabled")
	case errors.Is(err, server.ErrUnauthorized):
		a.o.Logger.Warn("unknown device token", "remote", p.IP)
		writeError(w, http.StatusUnauthorized, "unknown device token: enrol the device again")
	default:
		a.fail(w, r, err)
	}
	return server.Principal{}, false
}

// entry is an audit record as a handler describes it.
type entry struct {
	action, target string
	detail         map[string]any
}

func (a *API) record(r *http.Request, p server.Principal, e entry) server.AuditRecord {
	if e.detail == nil {
		e.detail = map[string]any{}
	}
	e.detail["ip"] = a.clientIP(r)
	b, _ := json.Marshal(e.detail)
	return server.AuditRecord{Actor: p.Username, Device: p.DeviceID, Action: e.action, Target: e.target, Detail: string(b)}
}

// audited runs f, a read or a change through the store, and writes the
// audit record f returns in the same transaction: when the record cannot be
// written nothing f read may be served and nothing it changed commits (the
// error wraps server.ErrAuditFailed, answered 503). f may run again when
// concurrent writers conflict.
func (a *API) audited(r *http.Request, p server.Principal, f func(ctx context.Context) (entry, error)) error {
	return a.o.Store.Tx(r.Context(), func(ctx context.Context) error {
		e, err := f(ctx)
		if err != nil {
			return err
		}
		return a.o.Store.Audit(ctx, a.record(r, p, e))
	})
}

// auditRefusal records a request that was refused (denied, a wrong
// password, a decision that did not apply). Nothing is served or changed
// by it, so a failure to write it is logged and the refusal stands.
func (a *API) auditRefusal(r *http.Request, p server.Principal, action, target string, detail map[string]any) {
	rec := a.record(r, p, entry{action, target, detail})
	if err := a.o.Store.Audit(context.WithoutCancel(r.Context()), rec); err != nil {
		a.o.Logger.Error("audit write failed", "action", action, "err", err)
	}
}

// clientIP is the address the request came from: the peer's, or, when the
// peer is a trusted proxy, the last address in X-Forwarded-For that is not
// itself a trusted proxy (each proxy appends the address it heard from, so
// what a client wrote itself is further left and never believed).
func (a *API) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !a.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // malformed: believe no further
		}
		hop = hop.Unmap()
		if !a.trusted(hop) {
			return hop.String()
		}
		peer = hop
	}
	return peer.String()
}

func (a *API) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a.o.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// errorBody is every error response.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// fail maps err to a status and writes it; unexpected errors are logged
// and shown as "internal error".
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", mbe.Limit))
	case errors.Is(err, server.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, server.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, server.ErrRedactionPending):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, server.ErrForbidden):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, server.ErrExists), errors.Is(err, server.ErrConflict), errors.Is(err, blob.ErrOffset), errors.Is(err, blob.ErrChecksum):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, blob.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, server.ErrGone):
		writeError(w, http.StatusGone, err.Error())
	case errors.Is(err, server.ErrNoKey):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, server.ErrAuditFailed):
		a.o.Logger.Error("refused: the audit log cannot be written", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the audit log cannot be written just now, so nothing was read or changed: try again later (IT: see the server's log)")
	case errors.Is(err, context.Canceled):
		writeError(w, 499, "request cancelled")
	default:
		a.o.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

// decode reads a JSON body into v; errors wrap server.ErrInvalid (or are a
// *http.MaxBytesError).
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("malformed JSON: %v: %w", err, server.ErrInvalid)
	}
	return nil
}

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": a.o.Version, "time": a.o.Clock().UTC()})
}

// touch records the device's last contact, at most once a minute.
func (a *API) touch(r *http.Request, p server.Principal) {
	now := a.o.Clock()
	a.touchMu.Lock()
	last := a.touched[p.DeviceID]
	if now.Sub(last) < time.Minute {
		a.touchMu.Unlock()
		return
	}
	a.touched[p.DeviceID] = now
	a.touchMu.Unlock()
	if err := a.o.Store.TouchDevice(r.Context(), p.DeviceID); err != nil {
		a.o.Logger.Warn("cannot record device contact", "err", err)
	}
}
