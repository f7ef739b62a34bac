package central

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/autoscore"
	"github.com/callguard/callguard/server/blob"
	"github.com/callguard/callguard/server/httpapi"
	"github.com/callguard/callguard/server/live"
	"github.com/callguard/callguard/server/protect"
	"github.com/callguard/callguard/server/store"
	"github.com/callguard/callguard/server/subjectaccess"
	"github.com/callguard/callguard/server/web"
)

// ErrNotEmbedded is returned by EnrollLocal on a server not opened with
// Options.Embedded.
var ErrNotEmbedded = errors.New("local enrolment is only for the embedded server")

// Options configure a server.
type Options struct {
	// DB is a SQLite path, "sqlite:PATH" or a "postgres://…" URL.
	DB string
	// DataDir holds the recordings (default: beside a SQLite database).
	DataDir string
	Logger  *slog.Logger
	// Policy sets retention and pause reminders (default: assets' default policy).
	Policy *policy.Policy
	Clock  func() time.Time
	// Embedded marks the desktop's in-process server: EnrollLocal works.
	Embedded bool
	Version  string
	// OfflineAfter: see live.Options (default 35 s).
	OfflineAfter time.Duration
	// BcryptCost for passwords (0: bcrypt's default; tests use 4).
	BcryptCost int

	// Identities is the organisation's age key, for playing and redacting
	// recordings; without it those answer 503 and card-detail redactions
	// wait (downloading the encrypted file still works).
	Identities []age.Identity
	// AuditKeyFile is the ed25519 key that signs audit checkpoints,
	// created on first start. Keep it outside the data directory (the
	// command and the desktop do); the default, DataDir/audit-ed25519.pem,
	// is for tests.
	AuditKeyFile string
	// NumberKeyFile holds the secret that keys the hash of phone numbers in
	// the audit (created on first start; keep it outside the data
	// directory, as the command and the desktop do; the default,
	// DataDir/number-hmac.key, is for tests).
	NumberKeyFile string
	// CheckpointLog is a file outside the data directory to which every
	// signed checkpoint is appended as a JSON line; CheckpointSyslog sends
	// them to syslog ("local", "udp:HOST:PORT", "tcp:HOST:PORT",
	// "unixgram:PATH"). Either keeps them where whoever holds the database
	// cannot delete them (audit verify --checkpoints).
	CheckpointLog    string
	CheckpointSyslog string
	// CheckpointInterval: a checkpoint is signed at least this often while
	// records are unsigned, and on Close (default 5 min).
	CheckpointInterval time.Duration
	// CheckpointEvery signs a checkpoint every this many audit records
	// (default 1000).
	CheckpointEvery int
	// RetentionEvery is how often the retention job runs (default 1 h).
	RetentionEvery time.Duration
	// ScoringEvery is how often the scoring job looks for calls to score
	// (default 2 s).
	ScoringEvery time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (see httpapi.Options).
	TrustedProxies []netip.Prefix
	// Timeouts of the connections (zero: httpapi's defaults).
	Timeouts httpapi.Timeouts
	// Keepalive is the live board's comment interval (default 15 s).
	Keepalive time.Duration
	// PhoneRecorder is the phone system's recorder the desktops pause
	// through the server (an *rtpengine.Client for --rtpengine-ng); nil:
	// none. PhoneRecorderTimeout bounds each of its commands [500ms].
	PhoneRecorder        httpapi.PhoneRecorder
	PhoneRecorderTimeout time.Duration
	// ClockSkew is how far a call's start on the desktop's clock may be
	// from its arrival before the call is counted from its arrival
	// (default store.DefaultClockSkew, 24 h).
	ClockSkew time.Duration
	// Rates are each device's allowances (default httpapi.DefaultRates).
	Rates httpapi.Rates
}

// Server is a running central server.
type Server struct {
	o       Options
	store   *store.Store
	blobs   *blob.Store
	board   *live.Board
	protect *protect.Service
	api     *httpapi.API
	web     *web.Web
	// handler serves the API under /api/ and the web workspace at every
	// other path.
	handler http.Handler
	scoring *autoscore.Job
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	cps     *checkpointer

	mu    sync.Mutex
	https []*http.Server
}

// Open opens (and migrates) the database, the blob store and the live
// board, and returns a server whose Handler is ready to serve.
func Open(ctx context.Context, o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Policy == nil {
		p, err := policy.Parse(assets.DefaultPolicy())
		if err != nil {
			return nil, fmt.Errorf("default policy: %w", err)
		}
		o.Policy = p
	}
	if o.DB == "" {
		return nil, errors.New("server: no database given")
	}
	st, err := store.Open(ctx, o.DB, store.WithClock(o.Clock), store.WithLogger(o.Logger), store.WithPolicy(o.Policy), store.WithClockSkew(o.ClockSkew))
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if o.DataDir == "" {
		if st.Dialect() != store.SQLite {
			st.Close()
			return nil, errors.New("server: a data directory is needed with PostgreSQL")
		}
		o.DataDir = filepath.Join(filepath.Dir(trimSQLite(o.DB)), "data")
	}
	// Uploads are refused under the call's lock once its deletion has begun,
	// so a chunk never recreates a file the deletion removed.
	blobs, err := blob.Open(o.DataDir, blob.WithUploadCheck(func(id string) error { return st.UploadOpen(context.Background(), id) }))
	if err != nil {
		st.Close()
		return nil, err
	}
	if o.AuditKeyFile == "" {
		o.AuditKeyFile = filepath.Join(o.DataDir, auth.SigningKeyFile)
	}
	key, created, err := auth.LoadOrCreateSigningKey(o.AuditKeyFile)
	if err != nil {
		st.Close()
		return nil, err
	}
	if created {
		o.Logger.Info("created the audit signing key; back it up (apart from the data directory)", "path", o.AuditKeyFile, "public_key", auth.PublicKeyHex(key))
	}
	if o.NumberKeyFile == "" {
		o.NumberKeyFile = filepath.Join(o.DataDir, auth.NumberKeyFile)
	}
	numberSecret, _, err := auth.LoadOrCreateSecret(o.NumberKeyFile)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("number-hashing secret: %w", err)
	}
	if !o.Embedded && inside(o.NumberKeyFile, o.DataDir) {
		o.Logger.Warn("the number-hashing secret is inside the data directory: whoever has a copy of the data can test guessed numbers against the audit; move it (--number-key)", "path", o.NumberKeyFile)
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 1000
	}
	st.SetAuditKey(key, o.CheckpointEvery)
	if !o.Embedded && inside(o.AuditKeyFile, o.DataDir) {
		o.Logger.Warn("the audit signing key is inside the data directory: whoever has a copy of the data can forge checkpoints; move it (--audit-key)", "path", o.AuditKeyFile)
	}
	sinks, err := openSinks(o)
	if err != nil {
		st.Close()
		return nil, err
	}
	cps, err := newCheckpointer(ctx, st, sinks, o.Logger)
	if err != nil {
		st.Close()
		return nil, err
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 5 * time.Minute
	}
	lo := live.Options{
		Policy: o.Policy, Clock: o.Clock, Logger: o.Logger, OfflineAfter: o.OfflineAfter,
		Save: presence{st}, Instance: auth.NewID(),
	}
	if bus := st.Bus(); bus != nil {
		lo.Bus = bus
	}
	board := live.New(lo)
	prot := protect.New(protect.Options{Store: st, Blobs: blobs, Policy: o.Policy, Identities: o.Identities,
		Clock: o.Clock, Logger: o.Logger, Every: o.RetentionEvery, NumberSecret: numberSecret})
	s := &Server{o: o, store: st, blobs: blobs, board: board, protect: prot, cps: cps,
		scoring: autoscore.New(autoscore.Options{Store: st, Policy: o.Policy, Logger: o.Logger, Every: o.ScoringEvery})}
	// The policy's scorecards are in the store before the server answers
	// anyone: a scorecards page, an export or an import made in the first
	// moment after a start must see them (seeding in the job's goroutine let
	// an export miss them).
	if err := s.scoring.Seed(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("save the policy's scorecards: %w", err)
	}
	// One limiter for the API's and the workspace's sign-ins: a password
	// guessed at both ways counts once.
	limiter := auth.NewLimiter(o.Clock)
	s.web = web.New(web.Options{
		Store: st, Protect: prot, Board: board, Policy: o.Policy, Logger: o.Logger, Clock: o.Clock,
		Limiter: limiter, BcryptCost: o.BcryptCost, TrustedProxies: o.TrustedProxies, NumberSecret: numberSecret, Keepalive: o.Keepalive,
		SubjectAccess: subjectaccess.New(subjectaccess.Options{Store: st, Recordings: prot, Policy: o.Policy, Clock: o.Clock, Logger: o.Logger}),
		Releases:      prot, VerifyAudit: verifier(st, key, o.CheckpointLog),
	})
	s.api = httpapi.New(httpapi.Options{
		Store: st, Blobs: blobs, Board: board, Protect: prot, Policy: o.Policy, Logger: o.Logger, Clock: o.Clock,
		BcryptCost: o.BcryptCost, Version: o.Version, TrustedProxies: o.TrustedProxies, Timeouts: o.Timeouts, Keepalive: o.Keepalive,
		NumberSecret: numberSecret, Rates: o.Rates, Limiter: limiter, Workspace: s.web,
		PhoneRecorder: o.PhoneRecorder, PhoneRecorderTimeout: o.PhoneRecorderTimeout, Scoring: s.scoring,
	})
	s.web.SetDenials(s.api)
	mux := http.NewServeMux()
	mux.Handle("/api/", s.api)
	mux.Handle("/", s.web)
	s.handler = mux
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		board.Run(runCtx)
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		prot.Run(runCtx)
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		cps.run(runCtx, o.CheckpointInterval)
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.scoring.Run(runCtx)
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// Ended and expired workspace sessions and links are kept a day
		// (for the log's sake), then deleted.
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if err := st.PruneWebSessions(runCtx, o.Clock().Add(-24*time.Hour)); err != nil {
					o.Logger.Warn("cannot prune workspace sessions", "err", err)
				}
			}
		}
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				s.api.FlushDenials(runCtx, false)
			}
		}
	}()
	return s, nil
}

// FlushAudit writes the summaries of forbidden requests left out of the
// audit (see httpapi.FlushDenials) whose minute is over; the server does it
// every 10 seconds by itself, and for every minute at Close.
func (s *Server) FlushAudit() { s.api.FlushDenials(context.Background(), false) }

func trimSQLite(db string) string {
	if len(db) > 7 && db[:7] == "sqlite:" {
		return db[7:]
	}
	return db
}

// Handler returns the server's HTTP handler: the JSON API under /api/,
// the web workspace (server/web) at every other path.
func (s *Server) Handler() http.Handler { return s.handler }

// Web returns the web workspace.
func (s *Server) Web() *web.Web { return s.web }

// Store returns the database, for the command line and tests.
func (s *Server) Store() *store.Store { return s.store }

// Protect returns the data-protection service.
func (s *Server) Protect() *protect.Service { return s.protect }

// Blobs returns the recordings' store.
func (s *Server) Blobs() *blob.Store { return s.blobs }

// Board returns the live board.
func (s *Server) Board() *live.Board { return s.board }

// HTTPServer returns an http.Server for the API and the workspace with the server's
// timeouts, for a caller that serves it itself.
func (s *Server) HTTPServer() *http.Server { return s.o.Timeouts.Server(s.handler, s.o.Logger) }

// Serve serves the API on l until Close; it returns at once.
func (s *Server) Serve(l net.Listener) {
	hs := s.HTTPServer()
	s.mu.Lock()
	s.https = append(s.https, hs)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.o.Logger.Error("server stopped", "err", err)
		}
	}()
}

// ServeLoopback listens on addr (a loopback address such as
// "127.0.0.1:0") and serves the API there until Close; it returns the base
// URL, e.g. "http://127.0.0.1:41234". This is the desktop's embedded mode.
func (s *Server) ServeLoopback(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen %s: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("listen %s: the embedded server listens on loopback only", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen %s: %w", addr, err)
	}
	s.Serve(l)
	return "http://" + l.Addr().String(), nil
}

// Close stops serving (closing live streams), stops the board and closes
// the database.
func (s *Server) Close() error {
	s.cancel()
	s.mu.Lock()
	for _, hs := range s.https {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		hs.Shutdown(ctx)
		cancel()
		hs.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.web.Close()
	// The denials' summaries first, then a last checkpoint, so what was
	// audited up to the stop is signed and exported.
	s.api.FlushDenials(context.Background(), true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	s.cps.once(ctx)
	cancel()
	return s.store.Close()
}

// Shutdown is Close for an http.Server the caller runs: it cancels the
// board, which ends every live stream, so http.Server.Shutdown can finish.
func (s *Server) Shutdown() { s.cancel() }

// EnrollLocal creates the local agent account agentID if it is missing
// (without a password: it can never log in over the network) and returns a
// new token for its device called name, keeping the device's id across
// calls. Only the embedded server allows it.
func (s *Server) EnrollLocal(ctx context.Context, agentID, name string) (string, error) {
	if !s.o.Embedded {
		return "", ErrNotEmbedded
	}
	if name == "" {
		name = "this computer"
	}
	u, _, err := s.store.UserByName(ctx, agentID)
	if errors.Is(err, server.ErrNotFound) {
		u, err = s.store.CreateUser(ctx, agentID, server.RoleAgent, "", true)
	}
	if err != nil {
		return "", fmt.Errorf("local agent %q: %w", agentID, err)
	}
	tok, th := auth.NewToken()
	id, err := s.store.RotateDevice(ctx, u.ID, name, th)
	if err != nil {
		return "", err
	}
	if id == "" {
		if err := s.store.CreateDevice(ctx, auth.NewID(), u.ID, name, th); err != nil {
			return "", err
		}
	}
	return tok, nil
}

// presence adapts the store to the live board's Persister.
type presence struct{ st *store.Store }

func (p presence) SaveRecord(ctx context.Context, r live.Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return p.st.SavePresence(ctx, store.PresenceRow{Agent: r.Agent, Device: r.Device, State: b, LastSeen: r.LastSeen})
}

func (p presence) LoadRecords(ctx context.Context) ([]live.Record, error) {
	rows, err := p.st.Presence(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]live.Record, 0, len(rows))
	for _, row := range rows {
		var r live.Record
		if err := json.Unmarshal(row.State, &r); err != nil {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// verifier is the workspace's "verify the chain": the chain and its
// checkpoints against the server's own key and, when the server exports
// them, the checkpoint log (as "callguard-server audit verify" does).
func verifier(st *store.Store, key ed25519.PrivateKey, checkpointLog string) web.AuditVerifier {
	return func(ctx context.Context) (store.AuditVerification, error) {
		var exported []server.AuditCheckpoint
		if checkpointLog != "" {
			var err error
			if exported, err = ReadCheckpoints(checkpointLog); err != nil {
				return store.AuditVerification{}, fmt.Errorf("exported checkpoints: %w", err)
			}
		}
		return st.VerifyAuditChain(ctx, []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}, exported...)
	}
}
