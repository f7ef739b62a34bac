package sip

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/callguard/callguard/app"
)

// refreshIn is when to refresh a subscription granted for granted: half
// way, and at least every MaxRefreshInterval.
func refreshIn(granted time.Duration) time.Duration {
	return min(granted/2, MaxRefreshInterval)
}

// outcome is the result of a refresh or keepalive request.
type outcome struct {
	refresh bool // else a keepalive probe
	granted time.Duration
	err     error
}

// loop is the event loop of one session. It alone touches the tracker and
// the event queue; requests run on goroutines it starts and waits for.
type loop struct {
	s        *Subscriber
	ss       *session
	ctx      context.Context // cancelled when the session ends
	requests sync.WaitGroup
	results  chan outcome

	up                  bool
	refreshing, probing bool
	refreshAgain        bool // a refresh was asked for while one was under way
	refresh             *time.Timer
	recovery            *time.Timer // a deferred requestFull
	recoveryArmed       bool
	lastFull            time.Time
	lastCSeq            uint32
}

func (l *loop) run(ctx context.Context, granted time.Duration) error {
	s, ss := l.s, l.ss
	l.refresh = time.NewTimer(refreshIn(granted))
	defer l.refresh.Stop()
	l.recovery = time.NewTimer(time.Hour)
	l.recovery.Stop()
	defer l.recovery.Stop()
	initial := time.NewTimer(s.requestTimeout)
	defer initial.Stop()
	keepAlive := time.NewTicker(s.keepAlive)
	defer keepAlive.Stop()
	var connCheck <-chan time.Time
	if ss.localKey != "" {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		connCheck = t.C
	}
	for {
		var initialC <-chan time.Time
		if !l.up {
			initialC = initial.C
		}
		select {
		case <-ctx.Done():
			ss.unsubscribe()
			return ctx.Err()

		case n := <-ss.notifies:
			if err := l.notified(n); err != nil {
				return err
			}

		case <-initialC:
			return fmt.Errorf("%w: no NOTIFY with the dialog state within %v", ErrNoAnswer, s.requestTimeout)

		case <-l.refresh.C:
			l.startRefresh()

		case <-l.recovery.C:
			l.recoveryArmed = false
			l.requestFull()

		case <-keepAlive.C:
			l.startProbe()

		case <-connCheck:
			if !ss.connAlive() {
				return fmt.Errorf("%w: %s connection closed", ErrTransport, ss.cfg.Transport)
			}

		case r := <-l.results:
			if err := l.finished(r); err != nil {
				return err
			}

		case s.outbox() <- s.head():
			s.pop()
		}
	}
}

// notified applies one NOTIFY; an error ends the session.
func (l *loop) notified(n notification) error {
	s, ss := l.s, l.ss
	if n.cseq > l.lastCSeq {
		l.lastCSeq = n.cseq
	} else if n.empty {
		n.empty = false // an unversioned "no dialogs" that is not the newest news
	}
	var r result
	switch {
	case n.empty:
		r = s.track.applyEmpty(n.at)
	case n.info != nil:
		r = s.track.apply(n.info, n.at)
	}
	for _, ev := range r.events {
		s.emit(ev)
	}
	full := n.empty || n.info != nil && n.info.Full
	switch {
	case r.stale:
		// Every document is reconciled anyway, so the full state costs one
		// SUBSCRIBE and settles whatever the old one meant.
		ss.log.Info("dialog-info out of order ignored; asking for the full state", "version", n.info.Version)
		l.requestFull()
	case r.gap:
		ss.log.Info("dialog-info out of sequence; asking for the full state", "version", n.info.Version)
		l.requestFull()
	case r.verify:
		ss.log.Debug("a dialog is missing from the full state; asking for it again", "version", n.info.Version)
		l.requestFull()
	}
	switch {
	case r.stale || r.gap:
	case !l.up && full:
		l.up = true
		s.emit(app.CallEvent{Kind: app.LinkUp, At: s.now()})
		ss.log.Info("phone system link up", "dialogs", len(s.track.dialogs))
	}
	if n.err != nil {
		ss.log.Warn("unusable dialog-info; asking for the full state", "error", n.err)
		l.requestFull()
	}
	if n.state == "terminated" {
		return fmt.Errorf("%w (%s)", ErrTerminated, orDefault(n.reason, "no reason given"))
	}
	return nil
}

// finished handles the result of a refresh or probe; an error ends the
// session.
func (l *loop) finished(r outcome) error {
	if !r.refresh {
		l.probing = false
		return r.err
	}
	l.refreshing = false
	if r.err != nil {
		return fmt.Errorf("refresh: %w", r.err)
	}
	l.refresh.Reset(refreshIn(r.granted))
	if l.refreshAgain {
		l.refreshAgain = false
		l.startRefresh()
	}
	return nil
}

// startRefresh refreshes the subscription on a goroutine, or once more
// after the one under way.
func (l *loop) startRefresh() {
	if l.refreshing {
		l.refreshAgain = true
		return
	}
	l.refreshing = true
	l.requests.Add(1)
	go func() {
		defer l.requests.Done()
		g, err := l.ss.subscribe(l.ctx, l.s.cfg.Expires)
		l.results <- outcome{refresh: true, granted: g, err: err}
	}()
}

// startProbe asks whether the phone system is there, unless a probe is
// still waiting for its answer.
func (l *loop) startProbe() {
	if l.probing {
		return
	}
	l.probing = true
	l.requests.Add(1)
	go func() {
		defer l.requests.Done()
		l.results <- outcome{err: l.ss.probe(l.ctx, l.s.keepAliveWait)}
	}()
}

// requestFull asks for the full state again (a refresh makes the phone
// system send it) after a document could not be used: at most once per
// keepalive period, so that a phone system that keeps sending garbage is
// not answered with a storm of SUBSCRIBEs.
func (l *loop) requestFull() {
	if wait := time.Until(l.lastFull.Add(l.s.keepAlive)); wait > 0 {
		if !l.recoveryArmed {
			l.recoveryArmed = true
			l.recovery.Reset(wait)
		}
		return
	}
	l.lastFull = time.Now()
	l.startRefresh()
}
