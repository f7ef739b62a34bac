package app

import (
	"sync"
	"time"
)

// Throttle passes notifications on to a Notifier at most once per situation
// (kind and key) and at most once per kind within a quiet period, so a
// flapping link or a burst of failures cannot flood the officer's desktop.
type Throttle struct {
	next  Notifier
	quiet time.Duration
	now   func() time.Time

	mu   sync.Mutex
	seen map[NotificationKind]map[string]bool
	last map[NotificationKind]time.Time
}

// NewThrottle wraps next; quiet is the least time between two notifications
// of the same kind.
func NewThrottle(next Notifier, quiet time.Duration, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{next: next, quiet: quiet, now: now, seen: map[NotificationKind]map[string]bool{}, last: map[NotificationKind]time.Time{}}
}

// Notify shows n unless the same situation was shown already or its kind
// was shown less than the quiet period ago.
func (t *Throttle) Notify(n Notification) {
	t.mu.Lock()
	now := t.now()
	keys := t.seen[n.Kind]
	if keys == nil {
		keys = map[string]bool{}
		t.seen[n.Kind] = keys
	}
	last, shown := t.last[n.Kind]
	if keys[n.Key] || (shown && now.Sub(last) < t.quiet) {
		t.mu.Unlock()
		return
	}
	keys[n.Key] = true
	if len(keys) > 1000 { // situations are per call; forget the old ones
		t.seen[n.Kind] = map[string]bool{n.Key: true}
	}
	t.last[n.Kind] = now
	t.mu.Unlock()
	t.next.Notify(n)
}
