package throttle

import (
	"math"
	"sync"
	"time"
)

// Buckets is a set of token buckets, one per key, each refilled at Rate
// tokens a second up to Burst. It is safe for concurrent use.
type Buckets struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	takes   int
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns buckets that refill at rate tokens a second up to burst,
// on the clock now (nil: time.Now). A rate of 0 or less allows everything.
func New(rate float64, burst int, now func() time.Time) *Buckets {
	if now == nil {
		now = time.Now
	}
	return &Buckets{rate: rate, burst: float64(max(burst, 1)), now: now, buckets: map[string]*bucket{}}
}

// Take takes n tokens from key's bucket and returns 0, or, when there are
// not enough, takes none and returns how long to wait until there are. A
// cost above the burst is charged as the burst, so it passes once the
// bucket is full.
func (b *Buckets) Take(key string, n int) time.Duration {
	if b == nil || b.rate <= 0 || n <= 0 {
		return 0
	}
	cost := min(float64(n), b.burst)
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(now)
	k := b.buckets[key]
	if k == nil {
		k = &bucket{tokens: b.burst, at: now}
		b.buckets[key] = k
	}
	if d := now.Sub(k.at); d > 0 {
		k.tokens = min(b.burst, k.tokens+d.Seconds()*b.rate)
	}
	k.at = now
	if k.tokens >= cost {
		k.tokens -= cost
		return 0
	}
	wait := time.Duration(math.Ceil((cost - k.tokens) / b.rate * float64(time.Second)))
	return max(wait, time.Millisecond)
}

// prune drops, every few thousand takes, the buckets that have refilled
// (they would start full anyway), so idle keys do not pile up.
func (b *Buckets) prune(now time.Time) {
	b.takes++
	if b.takes < 4096 {
		return
	}
	b.takes = 0
	full := time.Duration(b.burst / b.rate * float64(time.Second))
	for key, k := range b.buckets {
		if now.Sub(k.at) > full {
			delete(b.buckets, key)
		}
	}
}
