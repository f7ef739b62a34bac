package auth

import (
	"sync"
	"time"
)

// Rule is how a Limiter slows one kind of key: after Free failed logins
// each further attempt must wait twice as long as the one before, from
// Base up to Max. Failures older than Forget are forgotten.
type Rule struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// Limiter slows down guessing, per account and per client address. An
// attempt is reserved (and counted as failed) before the password is
// checked, so concurrent guesses see each other and no more of them reach
// the check than one after the other would. A success clears its account
// and takes back its own reservation on the address, nothing more: the
// address's earlier failures stand, so a guesser with one good account
// cannot wipe them.
//
// The address's rule is more lenient than the account's: many people can
// share an address (an office's NAT, a proxy not marked trusted), and a
// guesser must not lock them all out, while an address that sprays one
// password over many accounts is still slowed down.
type Limiter struct {
	User Rule
	Addr Rule
	now  func() time.Time

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	n     int
	until time.Time // no attempt before this
	last  time.Time
}

// NewLimiter returns a limiter that gives an account 3 free failures, then
// 1 s, 2 s, 4 s … up to 5 minutes between attempts, and an address 10,
// then 1 s … up to 1 minute; both forget after an hour without failures.
// now is the clock.
func NewLimiter(now func() time.Time) *Limiter {
	return &Limiter{
		User: Rule{Free: 3, Base: time.Second, Max: 5 * time.Minute, Forget: time.Hour},
		Addr: Rule{Free: 10, Base: time.Second, Max: time.Minute, Forget: time.Hour},
		now:  now, keys: map[string]*failures{},
	}
}

// Attempt is a reserved login attempt; call Succeeded or nothing.
type Attempt struct {
	l          *Limiter
	user, addr string
}

// Reserve takes an attempt for username from addr before its password is
// checked. It returns how long to wait instead when either is being slowed
// down (then nothing is counted).
func (l *Limiter) Reserve(username, addr string) (*Attempt, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	uk, ak := "user:"+username, "addr:"+addr
	var wait time.Duration
	for _, k := range []string{uk, ak} {
		if f := l.keys[k]; f != nil && f.until.After(now) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	if wait > 0 {
		return nil, wait
	}
	l.fail(uk, l.User, now)
	l.fail(ak, l.Addr, now)
	return &Attempt{l: l, user: uk, addr: ak}, 0
}

// Succeeded clears the attempt's account and takes back its count on the
// address.
func (a *Attempt) Succeeded() {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	delete(a.l.keys, a.user)
	if f := a.l.keys[a.addr]; f != nil {
		f.n--
		if f.n <= 0 {
			delete(a.l.keys, a.addr)
		}
	}
}

func (l *Limiter) fail(k string, r Rule, now time.Time) {
	f := l.keys[k]
	if f == nil || (r.Forget > 0 && now.Sub(f.last) > r.Forget && !f.until.After(now)) {
		f = &failures{}
		l.keys[k] = f
	}
	f.n++
	f.last = now
	if over := f.n - r.Free; over > 0 {
		d := r.Base << min(over-1, 20)
		f.until = now.Add(min(d, r.Max))
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
