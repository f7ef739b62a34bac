package auth

import (
	"sync"
	"time"
)

// Limiter slows down guessing: after FreeFailures failed logins for a key
// (a username or a client address) each further attempt must wait twice as
// long as the one before, up to MaxDelay. A success clears the key.
type Limiter struct {
	// FreeFailures is how many failures cost nothing; MaxDelay caps the wait.
	FreeFailures int
	BaseDelay    time.Duration
	MaxDelay     time.Duration
	now          func() time.Time

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	n     int
	until time.Time // no attempt before this
	last  time.Time
}

// NewLimiter returns a limiter with 3 free failures, then 1 s, 2 s, 4 s …
// up to 5 minutes between attempts. now is the clock.
func NewLimiter(now func() time.Time) *Limiter {
	return &Limiter{FreeFailures: 3, BaseDelay: time.Second, MaxDelay: 5 * time.Minute, now: now, keys: map[string]*failures{}}
}

// Wait returns how long the caller must wait before trying any of keys
// again; zero means go ahead.
func (l *Limiter) Wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		if f := l.keys[k]; f != nil && f.until.After(now) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	return wait
}

// Fail records a failed attempt for keys.
func (l *Limiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	for _, k := range keys {
		f := l.keys[k]
		if f == nil {
			f = &failures{}
			l.keys[k] = f
		}
		f.n++
		f.last = now
		if over := f.n - l.FreeFailures; over > 0 {
			d := l.BaseDelay << min(over-1, 20)
			f.until = now.Add(min(d, l.MaxDelay))
		}
	}
}

// Succeed clears keys after a successful login.
func (l *Limiter) Succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.keys, k)
	}
}

// sweep forgets keys idle for an hour, so the map stays small.
func (l *Limiter) sweep(now time.Time) {
	if len(l.keys) < 10000 {
		return
	}
	for k, f := range l.keys {
		if now.Sub(f.last) > time.Hour && !f.until.After(now) {
			delete(l.keys, k)
		}
	}
}
