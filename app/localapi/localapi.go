package localapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/wire"
)

// Session is what the API needs from the core. *app.Core implements it.
type Session interface {
	Snapshot() app.Snapshot
	Subscribe() (<-chan app.Snapshot, func())
	Pause(reason string) error
	Resume() error
	Notice(app.NoticeOutcome) error
	Flag(app.FlagRequest) error
	StartManual(app.Direction, app.Party) (app.CallView, error)
	EndManual() error
}

// Reasons lists the pause and flag reasons an integration may use.
type Reasons struct {
	Pause []Reason `json:"pause"`
	Flag  []Reason `json:"flag"`
}

// Reason is one pause or flag reason.
type Reason struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// ErrNotLoopback is returned when asked to listen anywhere but loopback.
var ErrNotLoopback = errors.New("the local API listens on loopback only")

// MaxBody is the largest request body accepted, in bytes.
const MaxBody = 64 << 10

// Server is the local API.
type Server struct {
	session Session
	token   string
	origins []string
	reasons Reasons
	log     *slog.Logger
	// KeepAlive is how often an idle event stream gets a comment line.
	keepAlive time.Duration
	timeouts  Timeouts
}

// Timeouts bound how long a client may hold a connection, so a slow or
// stalled one cannot tie up the API. The event stream sets a deadline on
// each write instead, so it lasts as long as its client reads.
type Timeouts struct {
	ReadHeader time.Duration // the request's headers [5 s]
	Read       time.Duration // the whole request, body included [10 s]
	Write      time.Duration // the whole response [10 s]
	Idle       time.Duration // a kept-alive connection between requests [1 min]
	Stall      time.Duration // one write of the event stream [10 s]
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.ReadHeader, 5*time.Second)
	def(&t.Read, 10*time.Second)
	def(&t.Write, 10*time.Second)
	def(&t.Idle, time.Minute)
	def(&t.Stall, 10*time.Second)
	return t
}

// Options configure a Server.
type Options struct {
	Token          string   // bearer token every request must present
	AllowedOrigins []string // browser origins allowed (CORS)
	Reasons        Reasons
	Logger         *slog.Logger
	// Timeouts of the connections (zero: the defaults).
	Timeouts Timeouts
	// KeepAlive is how often an idle event stream gets a comment line
	// [15 s].
	KeepAlive time.Duration
}

// New returns the API for session.
func New(session Session, opts Options) *Server {
	s := &Server{
		session:   session,
		token:     opts.Token,
		origins:   opts.AllowedOrigins,
		reasons:   opts.Reasons,
		log:       opts.Logger,
		keepAlive: opts.KeepAlive,
		timeouts:  opts.Timeouts.withDefaults(),
	}
	if s.keepAlive <= 0 {
		s.keepAlive = 15 * time.Second
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Serve answers requests on l until ctx is done.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.timeouts.ReadHeader,
		ReadTimeout:       s.timeouts.Read,
		WriteTimeout:      s.timeouts.Write,
		IdleTimeout:       s.timeouts.Idle,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(shut)
		<-errc
		return nil
	case err := <-errc:
		return fmt.Errorf("local API: %w", err)
	}
}

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/state", s.state)
	mux.HandleFunc("GET /v1/reasons", s.listReasons)
	mux.HandleFunc("POST /v1/pause", s.pause)
	mux.HandleFunc("POST /v1/resume", s.resume)
	mux.HandleFunc("POST /v1/notice", s.notice)
	mux.HandleFunc("POST /v1/flag", s.flag)
	mux.HandleFunc("POST /v1/calls", s.startCall)
	mux.HandleFunc("DELETE /v1/calls/current", s.endCall)
	mux.HandleFunc("GET /v1/events", s.events)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return s.guard(mux)
}

// guard refuses anything not from loopback, from an origin not allowed, or
// without the token, in that order, and answers CORS preflights.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fromLoopback(r) {
			writeError(w, http.StatusForbidden, "the local API answers loopback only")
			return
		}
		if !loopbackHost(r.Host) {
			// A page on another site that rebinds its DNS name to 127.0.0.1.
			writeError(w, http.StatusForbidden, "unexpected Host header "+r.Host)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			if !slices.Contains(s.origins, origin) {
				writeError(w, http.StatusForbidden, "origin "+origin+" is not allowed to use the local API")
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				// Chrome's Private Network Access: a page on the network may
				// reach this loopback server only if it says so, and it says
				// so only to the origins the policy allows (the others were
				// refused above).
				if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
					h.Set("Access-Control-Allow-Private-Network", "true")
				}
				h.Add("Vary", "Access-Control-Request-Private-Network")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		if !s.authorised(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="callguard"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (see Settings → Local API)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorised(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// StateBody is the JSON of GET /v1/state and of every event on /v1/events.
type StateBody struct {
	Call      *app.CallView   `json:"call"`
	Recording RecordingBody   `json:"recording"`
	Agent     app.AgentView   `json:"agent"`
	Link      app.LinkStatus  `json:"link"`
	Calls     []app.CallView  `json:"calls"`
	Recent    []app.CallView  `json:"recent"`
	Notice    *app.NoticeView `json:"notice,omitempty"`
}

// RecordingBody is the recording state part of StateBody.
type RecordingBody struct {
	State        app.RecordingState `json:"state"`
	Reason       string             `json:"reason,omitempty"`
	ReasonLabel  string             `json:"reason_label,omitempty"`
	Since        time.Time          `json:"since"`
	PauseOverdue bool               `json:"pause_overdue,omitempty"`
}

func stateBody(s app.Snapshot) StateBody {
	b := StateBody{
		Call:   s.Call,
		Agent:  s.Agent,
		Link:   s.Link,
		Calls:  s.Calls,
		Recent: s.Recent,
		Notice: s.Notice,
		Recording: RecordingBody{
			State: s.State, Reason: s.Reason, ReasonLabel: s.ReasonLabel,
			Since: s.Since, PauseOverdue: s.PauseOverdue,
		},
	}
	if b.Calls == nil {
		b.Calls = []app.CallView{}
	}
	if b.Recent == nil {
		b.Recent = []app.CallView{}
	}
	return b
}

func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, stateBody(s.session.Snapshot()))
}

func (s *Server) listReasons(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.reasons)
}

func (s *Server) pause(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Reason == "" {
		writeError(w, http.StatusBadRequest, `"reason" is required, e.g. {"reason": "payment"}`)
		return
	}
	s.answer(w, s.session.Pause(req.Reason), http.StatusOK)
}

func (s *Server) resume(w http.ResponseWriter, r *http.Request) {
	s.answer(w, s.session.Resume(), http.StatusOK)
}

func (s *Server) notice(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Outcome string `json:"outcome"`
	}
	if !decode(w, r, &req) {
		return
	}
	var o app.NoticeOutcome
	switch req.Outcome {
	case "read":
		o = app.NoticeRead
	case "objected":
		o = app.NoticeObjected
	default:
		writeError(w, http.StatusBadRequest, `"outcome" must be "read" or "objected"`)
		return
	}
	s.answer(w, s.session.Notice(o), http.StatusOK)
}

func (s *Server) flag(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CallID string `json:"call_id"`
		Reason string `json:"reason"`
		Note   string `json:"note"`
		FromMS *int64 `json:"from_ms"`
		ToMS   *int64 `json:"to_ms"`
	}
	if !decode(w, r, &req) {
		return
	}
	err := s.session.Flag(app.FlagRequest{CallID: req.CallID, Reason: req.Reason, Note: req.Note, FromMS: req.FromMS, ToMS: req.ToMS})
	s.answer(w, err, http.StatusOK)
}

func (s *Server) startCall(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Direction string `json:"direction"`
		Number    string `json:"number"`
		Name      string `json:"name"`
	}
	if !decode(w, r, &req) {
		return
	}
	dir, err := app.ParseDirection(req.Direction)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// What the server would refuse is refused here, in words the
	// integrator can act on, rather than cut without a word.
	for _, f := range []struct {
		name, v string
		limit   int
	}{{"number", req.Number, wire.MaxNumberLen}, {"name", req.Name, wire.MaxNameLen}} {
		if len(f.v) > f.limit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is %d bytes, at most %d (UTF-8): send a shorter %s", f.name, len(f.v), f.limit, f.name))
			return
		}
	}
	if _, err := s.session.StartManual(dir, app.Party{Number: req.Number, Name: req.Name}); err != nil {
		s.answer(w, err, 0)
		return
	}
	s.answer(w, nil, http.StatusCreated)
}

func (s *Server) endCall(w http.ResponseWriter, r *http.Request) {
	s.answer(w, s.session.EndManual(), http.StatusOK)
}

// answer writes the state after a successful intent, or the intent's error.
func (s *Server) answer(w http.ResponseWriter, err error, status int) {
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	writeJSON(w, status, stateBody(s.session.Snapshot()))
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, app.ErrUnknownReason), errors.Is(err, app.ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, app.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, app.ErrClosed):
		return http.StatusServiceUnavailable
	}
	return http.StatusConflict
}

// events streams the state as Server-Sent Events, one per change.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	// The stream outlives the server's read and write timeouts: no read
	// deadline (nothing more to read), and one deadline per write.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	write := func(format string, a ...any) error {
		rc.SetWriteDeadline(time.Now().Add(s.timeouts.Stall))
		if _, err := fmt.Fprintf(w, format, a...); err != nil {
			return err
		}
		return rc.Flush()
	}
	snaps, cancel := s.session.Subscribe()
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	tick := time.NewTicker(s.keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case snap, ok := <-snaps:
			if !ok {
				return
			}
			b, _ := json.Marshal(stateBody(snap))
			if err := write("id: %d\nevent: state\ndata: %s\n\n", snap.Version, b); err != nil {
				return
			}
		case <-tick.C:
			if err := write(": keep-alive\n\n"); err != nil {
				return
			}
		}
	}
}

// decode reads a JSON body strictly; on failure it answers 400 and returns false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body over 64 KiB")
			return false
		}
		writeError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad JSON: more than one value")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
