package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/wire"
)

// Errors callers can test with errors.Is.
var (
	ErrUnauthorized   = errors.New("the server does not accept this device's token: enrol again")
	ErrForbidden      = errors.New("this account's role may not do that")
	ErrBadCredentials = errors.New("wrong username or password")
	ErrRateLimited    = errors.New("too many failed logins: wait and try again")
)

// Queue is the outbox as the client uses it (outbox.Outbox implements it).
type Queue interface {
	Peek(max int) ([]app.Event, error)
	Ack(throughSeq uint64) error
	Pending() int
	// SetAside keeps an event the server refused for good, durably, so it
	// is acknowledged without being lost; Refused counts those kept.
	SetAside(ev app.Event, reason string) error
	Refused() int
}

// notifier is implemented by queues that can wake the sender after an append.
type notifier interface{ Notify() <-chan struct{} }

// Presence is the officer's state as the heartbeat reports it; main fills
// it from the core's snapshot (see PresenceFrom).
type Presence struct {
	State     app.RecordingState
	Reason    string
	Since     time.Time
	Link      app.LinkStatus
	CallID    string
	Direction app.Direction
	Remote    string // the remote number; the server masks it on the board
	Started   time.Time
	// KeypadMasked counts the stretches of keypad tones silenced in the
	// call's recording, for the board's "keypad tones masked".
	KeypadMasked int
}

// PresenceFrom turns a core snapshot into a Presence.
func PresenceFrom(s app.Snapshot) Presence {
	p := Presence{State: s.State, Reason: s.Reason, Since: s.Since, Link: s.Link}
	if c := s.Call; c != nil {
		p.CallID, p.Direction, p.Remote, p.Started = c.ID, c.Direction, c.Remote.Number, c.Started
		p.KeypadMasked = c.KeypadMasked
	}
	return p
}

// Options configure a Client.
type Options struct {
	// BaseURL is the server, e.g. "https://callguard.example.org".
	BaseURL string
	// Token returns the device token (from the keyring).
	Token func() (string, error)
	// SaveToken replaces the device token in the keyring after the client
	// rotated it; nil: the client never rotates.
	SaveToken func(token string) error
	// RotateBefore: the token is rotated once the server says it expires
	// within this [14 days].
	// Outbox holds the events to send.
	Outbox Queue
	// SpoolDir is the recorder's spool: <call-id>.opus.age (or .wav.age)
	// and <call-id>.json.
	// Empty: no uploads.
	SpoolDir   string
	HTTPClient *http.Client
	// Presence returns the officer's current state for heartbeats; nil
	// sends no heartbeats.
	Presence func() Presence
	Logger   *slog.Logger
	Clock    func() time.Time

	RotateBefore time.Duration

	// Tuning; zero values take the defaults in brackets.
	BatchSize      int           // events per request [200]
	HeartbeatEvery time.Duration // [10 s]
	PollEvery      time.Duration // how often the outbox and spool are checked without a kick [5 s]
	MinBackoff     time.Duration // first wait after a failure [500 ms]
	MaxBackoff     time.Duration // cap of the exponential backoff [30 s]
	ChunkSize      int64         // bytes per upload request [4 MiB]
	// AbandonAfter: a recording whose manifest never became complete (the
	// app crashed mid-call) is uploaded as it is once neither file changed
	// for this long [15 min].
	AbandonAfter time.Duration
	// ForbiddenWait is how long the client waits before asking again once
	// the server said this account may not send calls (a supervisor's or a
	// dpo's desktop) [5 min]: it neither spins nor gives up for good, as
	// the account's role may change.
	ForbiddenWait time.Duration
}

// Status is what the window shows about sync.
type Status struct {
	Pending   int       `json:"pending"`    // events waiting for the server
	Uploads   int       `json:"uploads"`    // recordings waiting in the spool
	Online    bool      `json:"online"`     // the last request reached the server
	LastError string    `json:"last_error"` // why the last request failed, "" after a success
	LastSync  time.Time `json:"last_sync"`  // when the server last acknowledged events
	// Refused is how many events the server refused for good; they are
	// kept aside in the outbox and block nothing.
	Refused int `json:"refused"`
	// Forbidden is true while the server does not take calls from this
	// account (its role is not agent): events stay on this computer.
	Forbidden bool `json:"forbidden"`
}

// Client talks to the central server for one device.
type Client struct {
	o    Options
	kick chan struct{}

	mu     sync.Mutex
	status Status
}

// New returns a client; Run starts it.
func New(o Options) *Client {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 200
	}
	if o.HeartbeatEvery <= 0 {
		o.HeartbeatEvery = 10 * time.Second
	}
	if o.PollEvery <= 0 {
		o.PollEvery = 5 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 4 << 20
	}
	if o.AbandonAfter <= 0 {
		o.AbandonAfter = 15 * time.Minute
	}
	if o.RotateBefore <= 0 {
		o.RotateBefore = 14 * 24 * time.Hour
	}
	if o.ForbiddenWait <= 0 {
		o.ForbiddenWait = 5 * time.Minute
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return &Client{o: o, kick: make(chan struct{}, 1)}
}

// Kick wakes the sender at once, e.g. right after an event was appended.
func (c *Client) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Status returns the sync status.
func (c *Client) Status() Status {
	c.mu.Lock()
	s := c.status
	c.mu.Unlock()
	if c.o.Outbox != nil {
		s.Pending = c.o.Outbox.Pending()
		s.Refused = c.o.Outbox.Refused()
	}
	return s
}

func (c *Client) setStatus(f func(s *Status)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.status)
}

// Run sends events, heartbeats and uploads until ctx ends; it returns nil
// then. Every goroutine it starts has stopped when it returns.
func (c *Client) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	if c.o.Outbox != nil {
		run(c.sendLoop)
	}
	if c.o.Presence != nil {
		run(c.heartbeatLoop)
	}
	if c.o.SpoolDir != "" {
		run(c.uploadLoop)
	}
	wg.Wait()
	return nil
}

// backoff returns the wait after n consecutive failures: exponential from
// MinBackoff, capped at MaxBackoff, with full jitter over its upper half.
func (c *Client) backoff(n int) time.Duration {
	d := c.o.MinBackoff << min(n, 20)
	if d <= 0 || d > c.o.MaxBackoff {
		d = c.o.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (c *Client) sendLoop(ctx context.Context) {
	var appended <-chan struct{}
	if n, ok := c.o.Outbox.(notifier); ok {
		appended = n.Notify()
	}
	poll := time.NewTicker(c.o.PollEvery)
	defer poll.Stop()
	failures := 0
	batch := c.o.BatchSize
	for {
		evs, err := c.o.Outbox.Peek(batch)
		if err != nil {
			c.o.Logger.Error("uplink: cannot read the outbox", "err", err)
			if !sleep(ctx, c.o.MaxBackoff) {
				return
			}
			continue
		}
		if len(evs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-c.kick:
			case <-appended:
			case <-poll.C:
			}
			continue
		}
		through, err := c.send(ctx, evs)
		if ctx.Err() != nil {
			return
		}
		var he *HTTPError
		if errors.As(err, &he) {
			switch {
			case (he.Status == http.StatusBadRequest || he.Status == http.StatusRequestEntityTooLarge) && len(evs) > 1:
				// The request as a whole was refused (too large, or an older
				// server that refuses a batch for one bad event): send less,
				// down to the event at fault.
				batch = max(1, len(evs)/2)
				continue
			case he.Status == http.StatusBadRequest || he.Status == http.StatusRequestEntityTooLarge:
				// That one event can never be accepted: aside, and on.
				if err := c.setAside(evs[0], he.Message); err != nil {
					break
				}
				through, err = evs[0].Seq, nil
			case he.Status == http.StatusForbidden:
				// This account may not send calls (a supervisor's or a dpo's
				// desktop): keep the events here, ask again much later.
				c.setStatus(func(s *Status) { s.Forbidden = true })
				c.o.Logger.Warn("uplink: the server does not take calls from this account; events stay on this computer", "pending", c.o.Outbox.Pending(), "err", err)
				if !sleep(ctx, c.o.ForbiddenWait) {
					return
				}
				continue
			case he.Status == http.StatusTooManyRequests:
				if !sleep(ctx, c.retryAfter(he)) {
					return
				}
				continue
			}
		}
		if err != nil {
			failures++
			d := c.backoff(failures - 1)
			c.o.Logger.Warn("uplink: events not sent; retrying", "pending", c.o.Outbox.Pending(), "in", d.Round(time.Millisecond), "err", err)
			if !sleep(ctx, d) {
				return
			}
			continue
		}
		failures, batch = 0, c.o.BatchSize
		c.setStatus(func(s *Status) { s.Forbidden = false })
		if err := c.o.Outbox.Ack(through); err != nil {
			c.o.Logger.Error("uplink: cannot record the acknowledgement; events will be resent", "err", err)
		}
		c.setStatus(func(s *Status) { s.LastSync = c.o.Clock() })
	}
}

// retryAfter is how long a 429 asks to wait: its Retry-After, at least
// MinBackoff and at most 5 minutes.
func (c *Client) retryAfter(he *HTTPError) time.Duration {
	return min(max(he.retryAfter, c.o.MinBackoff), 5*time.Minute)
}

// setAside keeps ev aside as refused by the server; a failure is logged
// (the event then stays in the outbox and is sent again).
func (c *Client) setAside(ev app.Event, reason string) error {
	if err := c.o.Outbox.SetAside(ev, reason); err != nil {
		c.o.Logger.Error("uplink: cannot set aside an event the server refused; it stays queued", "event", ev.ID, "err", err)
		return err
	}
	c.o.Logger.Warn("uplink: the server refused an event for good; kept aside in the outbox", "event", ev.ID, "type", ev.Type, "seq", ev.Seq, "reason", reason)
	return nil
}

// send posts one batch and returns the seq through which every event is
// done with: stored by the server, or refused and set aside.
func (c *Client) send(ctx context.Context, evs []app.Event) (uint64, error) {
	body, err := json.Marshal(map[string]any{"events": evs})
	if err != nil {
		return 0, fmt.Errorf("encode events: %w", err)
	}
	var reply wire.IngestReply
	if err := c.do(ctx, http.MethodPost, "/api/v1/events", body, &reply, 30*time.Second); err != nil {
		return 0, err
	}
	last := evs[len(evs)-1].Seq
	if reply.Results == nil {
		// A server from before per-event answers: it stored all or nothing.
		if n := reply.Accepted + reply.Duplicate; n < len(evs) {
			return 0, fmt.Errorf("server stored %d of %d events", n, len(evs))
		}
		return min(reply.AckedSeq, last), nil
	}
	if len(reply.Results) != len(evs) {
		return 0, fmt.Errorf("server answered for %d of %d events", len(reply.Results), len(evs))
	}
	for i, r := range reply.Results {
		if r.ID != evs[i].ID {
			return 0, fmt.Errorf("server's answer %d is for event %q, not %q", i, r.ID, evs[i].ID)
		}
	}
	for i, r := range reply.Results {
		switch r.Status {
		case wire.Accepted, wire.Duplicate:
		case wire.Discarded:
			c.o.Logger.Info("uplink: the server discarded an event: its call was deleted there", "event", r.ID, "reason", r.Reason)
		case wire.Refused:
			if err := c.setAside(evs[i], r.Reason); err != nil {
				// Acknowledge only what comes before it; the rest is resent
				// (harmless: the server answers it as duplicates).
				if i == 0 {
					return 0, err
				}
				return evs[i-1].Seq, nil
			}
		default:
			return 0, fmt.Errorf("server answered %q for event %s", r.Status, r.ID)
		}
	}
	return last, nil
}

func (c *Client) heartbeatBody(p Presence) server.Heartbeat {
	hb := server.Heartbeat{At: c.o.Clock(), State: p.State.String(), Reason: p.Reason, Since: p.Since, Link: string(p.Link)}
	if c.o.Outbox != nil {
		hb.Pending, hb.Refused = c.o.Outbox.Pending(), c.o.Outbox.Refused()
	}
	if p.CallID != "" {
		hb.Call = &server.HeartbeatCall{ID: p.CallID, Direction: p.Direction.String(), Remote: p.Remote, Started: p.Started, KeypadMasked: p.KeypadMasked}
	}
	return hb
}

// heartbeatReply is the server's answer to a heartbeat.
type heartbeatReply struct {
	ServerTime   time.Time  `json:"server_time"`
	TokenExpires *time.Time `json:"token_expires"`
}

func (c *Client) heartbeatLoop(ctx context.Context) {
	failures := 0
	var triedRotation time.Time
	for {
		body, _ := json.Marshal(c.heartbeatBody(c.o.Presence()))
		var reply heartbeatReply
		err := c.do(ctx, http.MethodPost, "/api/v1/heartbeat", body, &reply, 10*time.Second)
		wait := c.o.HeartbeatEvery
		var he *HTTPError
		switch {
		case err == nil:
			failures = 0
			c.setStatus(func(s *Status) { s.Forbidden = false })
		case ctx.Err() != nil:
		case errors.As(err, &he) && he.Status == http.StatusForbidden:
			// Not an agent's desktop: nothing to report.
			c.setStatus(func(s *Status) { s.Forbidden = true })
			wait = c.o.ForbiddenWait
		case errors.As(err, &he) && he.Status == http.StatusTooManyRequests:
			wait = max(wait, c.retryAfter(he))
		default:
			failures++
			wait = min(wait, c.backoff(failures-1))
			c.o.Logger.Debug("uplink: heartbeat failed", "err", err)
		}
		// Rotate by the server's clock, at most once an hour when it fails.
		if err == nil && c.o.SaveToken != nil && reply.TokenExpires != nil && reply.TokenExpires.Sub(reply.ServerTime) < c.o.RotateBefore &&
			time.Since(triedRotation) > time.Hour {
			triedRotation = time.Now()
			if err := c.rotate(ctx); err != nil {
				c.o.Logger.Warn("uplink: the device token could not be renewed; trying again in an hour", "expires", reply.TokenExpires, "err", err)
			} else {
				triedRotation = time.Time{}
			}
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// rotate swaps the device token for a new one and keeps the new one in
// the keyring. Should saving fail, the old token still works for a few
// minutes (the server's grace), and the next rotation starts from it.
func (c *Client) rotate(ctx context.Context) error {
	var rot struct {
		Token   string    `json:"token"`
		Expires time.Time `json:"expires"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/devices/self/rotate", nil, &rot, 30*time.Second); err != nil {
		return err
	}
	if rot.Token == "" {
		return errors.New("the server sent no token")
	}
	if err := c.o.SaveToken(rot.Token); err != nil {
		return fmt.Errorf("keep the new token in the keyring: %w", err)
	}
	c.o.Logger.Info("uplink: renewed the device token", "expires", rot.Expires)
	return nil
}

// HTTPError is the server's refusal of a request: a non-2xx reply. Callers
// branch on Status (or on the sentinel errors it unwraps to: ErrForbidden,
// ErrConflict…) and show Message, never parse the error's text.
type HTTPError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the server's reason in words (its JSON "error", or the
	// status text when it gave none).
	Message string
	// retryAfter is the reply's Retry-After (a 429 or 503), 0 if none.
	retryAfter time.Duration
}

// Error gives the status and the server's message, for logs.
func (e *HTTPError) Error() string { return fmt.Sprintf("server said %d: %s", e.Status, e.Message) }

// Unwrap gives the sentinel error of the status, if it has one.
func (e *HTTPError) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusConflict:
		return ErrConflict
	case http.StatusGone:
		return ErrGone
	case http.StatusServiceUnavailable:
		return ErrNoKey
	}
	return nil
}

func jsonMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return b, nil
}

// request builds an authenticated request.
func (c *Client) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.o.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	if c.o.Token != nil {
		tok, err := c.o.Token()
		if err != nil {
			return nil, fmt.Errorf("device token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req, nil
}

// do sends a JSON request and decodes a JSON reply into out (if not nil),
// keeping Status up to date.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := c.request(ctx, method, path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.o.HTTPClient.Do(req)
	return c.finish(resp, err, out)
}

// finish reads a reply, records the outcome in Status and decodes out.
func (c *Client) finish(resp *http.Response, err error, out any) error {
	if err != nil {
		c.setStatus(func(s *Status) { s.Online, s.LastError = false, err.Error() })
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		c.setStatus(func(s *Status) { s.Online, s.LastError = false, err.Error() })
		return err
	}
	if resp.StatusCode/100 != 2 {
		he := &HTTPError{Status: resp.StatusCode, Message: errorText(b, resp.Status)}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			he.retryAfter = time.Duration(secs) * time.Second
		}
		c.setStatus(func(s *Status) { s.Online, s.LastError = resp.StatusCode < 500, he.Error() })
		return he
	}
	c.setStatus(func(s *Status) { s.Online, s.LastError = true, "" })
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("reply from %s: %w", resp.Request.URL.Path, err)
		}
	}
	return nil
}

func errorText(b []byte, status string) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	return status
}

// Enrolment is what enrolling a device returns.
type Enrolment struct {
	Token    string `json:"token"`
	DeviceID string `json:"device_id"`
	Role     string `json:"role"`
	Agent    string `json:"agent"`
}

// Enroll logs in with username and password and enrols this device; keep
// the token in the keyring. Wrong credentials give ErrBadCredentials, too
// many failures ErrRateLimited.
func Enroll(ctx context.Context, baseURL, username, password, deviceName string) (Enrolment, error) {
	return EnrollWithClient(ctx, http.DefaultClient, baseURL, username, password, deviceName)
}

// EnrollWithClient is Enroll with an HTTP client of the caller's, e.g. one
// that trusts the organisation's own certificate authority.
func EnrollWithClient(ctx context.Context, hc *http.Client, baseURL, username, password, deviceName string) (Enrolment, error) {
	body, _ := json.Marshal(map[string]string{"username": username, "password": password, "device_name": deviceName})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+"/api/v1/enroll", bytes.NewReader(body))
	if err != nil {
		return Enrolment{}, fmt.Errorf("enrol: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Enrolment{}, fmt.Errorf("enrol: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return Enrolment{}, ErrBadCredentials
	case http.StatusTooManyRequests:
		return Enrolment{}, fmt.Errorf("%w (%s)", ErrRateLimited, errorText(b, resp.Status))
	default:
		return Enrolment{}, fmt.Errorf("enrol: %w", &HTTPError{Status: resp.StatusCode, Message: errorText(b, resp.Status)})
	}
	var e Enrolment
	if err := json.Unmarshal(b, &e); err != nil || e.Token == "" {
		return Enrolment{}, fmt.Errorf("enrol: unexpected reply: %v", err)
	}
	return e, nil
}

// Me says who the device acts for.
type Me struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	DeviceID string `json:"device_id"`
	// ServerTime and TokenExpires are the server's clock and when the
	// device's token expires by it (nil: never).
	ServerTime   time.Time  `json:"server_time"`
	TokenExpires *time.Time `json:"token_expires"`
}

// Me asks the server which account and role this device acts for: the
// desktop shows the supervisors' board for "supervisor" (and "dpo").
func (c *Client) Me(ctx context.Context) (Me, error) {
	var m Me
	err := c.do(ctx, http.MethodGet, "/api/v1/me", nil, &m, 30*time.Second)
	return m, err
}

// RenewTokenIfDue rotates the device token when the server says it
// expires within RotateBefore, by the server's clock, and keeps the new
// one with SaveToken; renewed reports that it did. A client that sends no
// heartbeats (a collector) calls it now and then: heartbeats rotate the
// desktop's.
func (c *Client) RenewTokenIfDue(ctx context.Context) (renewed bool, err error) {
	if c.o.SaveToken == nil {
		return false, nil
	}
	m, err := c.Me(ctx)
	if err != nil {
		return false, err
	}
	if m.TokenExpires == nil || m.TokenExpires.Sub(m.ServerTime) >= c.o.RotateBefore {
		return false, nil
	}
	if err := c.rotate(ctx); err != nil {
		return false, err
	}
	return true, nil
}
