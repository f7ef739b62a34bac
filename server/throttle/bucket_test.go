package throttle

import (
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBucketsAllowBurstsThenTheRate(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	b := New(2, 5, clk.now)
	for i := range 5 {
		if w := b.Take("olive", 1); w != 0 {
			t.Fatalf("take %d of the burst: wait %v", i, w)
		}
	}
	if w := b.Take("olive", 1); w != 500*time.Millisecond {
		t.Fatalf("past the burst: wait %v, want 500ms", w)
	}
	if w := b.Take("pat", 1); w != 0 {
		t.Fatalf("another key waits %v", w)
	}
	clk.add(500 * time.Millisecond)
	if w := b.Take("olive", 1); w != 0 {
		t.Fatalf("after the wait: %v", w)
	}
	// A cost above the burst passes once the bucket is full again.
	clk.add(time.Hour)
	if w := b.Take("olive", 50); w != 0 {
		t.Fatalf("a large cost on a full bucket: %v", w)
	}
	if w := b.Take("olive", 50); w != 2500*time.Millisecond {
		t.Fatalf("a large cost on an empty bucket: %v", w)
	}
	if w := New(0, 0, clk.now).Take("x", 1000); w != 0 {
		t.Fatalf("rate 0 allows everything: %v", w)
	}
}

func TestBucketsPruneIdleKeys(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	b := New(10, 10, clk.now)
	for i := range 5000 {
		b.Take(string(rune('a'+i%26))+time.Duration(i).String(), 1)
	}
	clk.add(time.Minute)
	for range 4096 {
		b.Take("olive", 0+1)
		clk.add(time.Millisecond)
	}
	if n := len(b.buckets); n > 10 {
		t.Fatalf("%d buckets kept", n)
	}
}
