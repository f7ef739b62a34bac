package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/callguard/callguard/app"
)

// ErrRunning is returned by a second call of Run on the same Subscriber.
var ErrRunning = errors.New("sip: subscriber already running")

// Subscriber watches one extension's calls through the dialog event package
// and turns what the phone system says into app.CallEvent values.
type Subscriber struct {
	cfg     Config
	tlsConf *tls.Config
	log     *slog.Logger
	now     func() time.Time
	jitter  func() float64 // in [0,1)

	keepAlive      time.Duration
	keepAliveWait  time.Duration
	requestTimeout time.Duration
	backoffMin     time.Duration
	backoffMax     time.Duration
	probeMax       time.Duration // the backoff cap while the phone system does not answer

	out     chan app.CallEvent
	pending []app.CallEvent // events the consumer has not taken yet, in order
	track   *tracker
	running atomic.Bool
}

// Option configures a Subscriber.
type Option func(*Subscriber)

// WithLogger sets the logger (default: slog.Default()). The password is
// never logged.
func WithLogger(l *slog.Logger) Option {
	return func(s *Subscriber) {
		if l != nil {
			s.log = l
		}
	}
}

// WithClock sets the clock that stamps events (default: time.Now).
func WithClock(now func() time.Time) Option {
	return func(s *Subscriber) {
		if now != nil {
			s.now = now
		}
	}
}

// WithKeepAlive sets how often the phone system is asked whether it is still
// there (an OPTIONS request), and how long an answer may take before the
// link counts as lost. It bounds how long a dead phone system goes unnoticed
// on UDP (TCP and TLS also notice a closed connection at once). It keeps NAT
// bindings and idle TCP connections open too. Default: Config.KeepAlive if
// set, else every 1 s with 600 ms to answer on UDP, every 10 s with 3 s on
// TCP and TLS.
func WithKeepAlive(every, wait time.Duration) Option {
	return func(s *Subscriber) {
		if every > 0 {
			s.keepAlive = every
		}
		if wait > 0 {
			s.keepAliveWait = wait
		}
	}
}

// WithRequestTimeout bounds each SUBSCRIBE transaction and the wait for the
// first NOTIFY (default 4 s).
func WithRequestTimeout(d time.Duration) Option {
	return func(s *Subscriber) {
		if d > 0 {
			s.requestTimeout = d
		}
	}
}

// WithBackoff sets the delay before the first re-subscription after a loss
// and the cap it doubles up to (default 1 s to 30 s); while the phone system
// does not answer at all, the cap is MaxProbeInterval (or max, if lower).
// Each delay is shortened by up to a fifth at random, so that many desktops
// do not return to a restarted phone system at the same instant.
func WithBackoff(first, max time.Duration) Option {
	return func(s *Subscriber) {
		if first > 0 {
			s.backoffMin = first
		}
		if max >= s.backoffMin {
			s.backoffMax = max
		}
		s.probeMax = min(MaxProbeInterval, s.backoffMax)
	}
}

// New returns a Subscriber for cfg. It checks the configuration and reads
// the CA file; it does not talk to the phone system until Run.
func New(cfg Config, opts ...Option) (*Subscriber, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	s := &Subscriber{
		cfg:            cfg,
		log:            slog.Default(),
		now:            time.Now,
		jitter:         rand.Float64,
		keepAlive:      DefaultKeepAlive,
		keepAliveWait:  DefaultKeepAliveWait,
		probeMax:       MaxProbeInterval,
		requestTimeout: DefaultRequestTimeout,
		backoffMin:     DefaultBackoffMin,
		backoffMax:     DefaultBackoffMax,
		out:            make(chan app.CallEvent, 64),
	}
	if cfg.Transport != "udp" {
		s.keepAlive, s.keepAliveWait = DefaultStreamKeepAlive, DefaultStreamKeepAliveWait
	}
	if cfg.KeepAlive > 0 {
		s.keepAlive = cfg.KeepAlive
		s.keepAliveWait = min(cfg.KeepAlive*3/5, 3*time.Second)
	}
	for _, o := range opts {
		o(s)
	}
	if s.backoffMax < s.backoffMin {
		s.backoffMax = s.backoffMin
	}
	if cfg.Transport == "tls" {
		if s.tlsConf, err = cfg.tlsConfig(); err != nil {
			return nil, err
		}
	}
	s.log = s.log.With("aor", "sip:"+cfg.Extension+"@"+cfg.Domain)
	s.track = newTracker(s.log)
	return s, nil
}

// Events delivers the call and link events in order. The channel is
// buffered and the subscriber never blocks on it: events wait in an
// unbounded queue while the consumer is slow. It is closed when Run returns.
func (s *Subscriber) Events() <-chan app.CallEvent { return s.out }

// Run subscribes and keeps the subscription alive until ctx is done. When
// the phone system cannot be heard (also at start) it emits app.LinkLost at
// once and re-subscribes with capped exponential backoff; once a
// subscription's first full state has been applied it emits app.LinkUp,
// after the events that bring the core's view in line with it. Run returns
// nil after every goroutine it started has stopped, and closes Events.
func (s *Subscriber) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer close(s.out)
	s.log.Info("phone system link starting", "address", s.cfg.Address, "transport", s.cfg.Transport)
	delay := s.backoffMin
	authDelay := AuthRetryMin
	lostReported := false
	for {
		up, err := s.session(ctx)
		if ctx.Err() != nil {
			s.log.Info("phone system link stopped")
			return nil
		}
		if up {
			delay, authDelay = s.backoffMin, AuthRetryMin
			lostReported = false
		}
		logRetry := s.log.Warn
		if !lostReported {
			s.emit(app.CallEvent{Kind: app.LinkLost, At: s.now(), Reason: lossReason(err)})
			lostReported = true
		} else if errors.Is(err, ErrNoAnswer) || errors.Is(err, ErrTransport) {
			logRetry = s.log.Debug // a line every second or two while the phone system stays away is noise
		}
		next := &delay
		limit := s.backoffMax
		switch {
		case errors.Is(err, ErrAuth) || errors.Is(err, ErrNoPassword):
			next, limit = &authDelay, AuthRetryMax
		case errors.Is(err, ErrNoAnswer) || errors.Is(err, ErrTransport):
			// Silence: the next attempt is one OPTIONS, and it subscribes
			// as soon as that is answered.
			limit = max(s.probeMax, s.backoffMin)
			delay = min(delay, limit)
		}
		wait := *next - time.Duration(s.jitter()*float64(*next)/5)
		logRetry("phone system link lost; subscribing again", "error", err, "in", wait)
		if !s.sleep(ctx, wait) {
			s.log.Info("phone system link stopped")
			return nil
		}
		*next = min(*next*2, limit)
	}
}

// sleep waits d while delivering queued events; false if ctx ended first.
func (s *Subscriber) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case s.outbox() <- s.head():
			s.pop()
		}
	}
}

// emit queues ev for the consumer. It never blocks.
func (s *Subscriber) emit(ev app.CallEvent) {
	s.log.Debug("call event", "kind", ev.Kind.String(), "dialog", ev.DialogID, "reason", ev.Reason)
	if len(s.pending) == 0 {
		select {
		case s.out <- ev:
			return
		default:
		}
	}
	s.pending = append(s.pending, ev)
	if n := len(s.pending); n%1000 == 0 {
		s.log.Warn("call events are not being taken", "queued", n)
	}
}

// outbox is the channel to offer the head of the queue on, or nil (never
// ready) when the queue is empty. Used in every select of the event loop.
func (s *Subscriber) outbox() chan<- app.CallEvent {
	if len(s.pending) == 0 {
		return nil
	}
	return s.out
}

func (s *Subscriber) head() app.CallEvent {
	if len(s.pending) == 0 {
		return app.CallEvent{}
	}
	return s.pending[0]
}

func (s *Subscriber) pop() {
	s.pending[0] = app.CallEvent{}
	s.pending = s.pending[1:]
	if len(s.pending) == 0 {
		s.pending = nil
	}
}

// lossReason is the LinkLost reason, for officers: what went wrong in
// words, with the phone system's own reason or status where it gave one.
// The log has the full error.
func lossReason(err error) string {
	for _, known := range []error{ErrTerminated, ErrRejected} {
		if errors.Is(err, known) {
			// "…: the phone system ended the subscription (noresource)"
			msg := err.Error()
			return msg[strings.Index(msg, known.Error()):]
		}
	}
	for _, known := range []error{ErrAuth, ErrNoPassword, ErrNoAnswer, ErrTransport} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	return "lost contact with the phone system"
}
