package sip

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
)

// livenessRounds is how many kill/restart rounds each transport measures.
const livenessRounds = 4

// With the default timings, a killed phone system shows as unknown within
// 2 s on UDP (the keepalive) and at once on TCP (the connection), and a
// restarted one is back, with its real state, within 10 s: the retries
// probe every 1–2 s and subscribe as soon as one is answered.
func TestUnknownAndRecoveryWithDefaultTimings(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
			w := watch(t, cfgFor(pbx, transport))
			w.expect(t, 5*time.Second, "link-up")
			var lost, back []time.Duration
			for range livenessRounds {
				// Kill at a random point of the keepalive period, so that
				// the rounds sample the detection time, not only its worst
				// case (right after a keepalive was answered).
				time.Sleep(rand.N(time.Second))
				killed := time.Now()
				pbx.Kill(t)
				ev := w.expect(t, 3*time.Second, "link-lost")[0]
				lost = append(lost, ev.At.Sub(killed))
				if ev.Reason == "" {
					t.Errorf("LinkLost without a reason")
				}
				pbx.Start(t)
				started := time.Now()
				ev = w.expect(t, 11*time.Second, "link-up")[0]
				back = append(back, ev.At.Sub(started))
			}
			t.Logf("%s: unknown after kill %s; real state after restart %s", transport, spread(lost), spread(back))
			for _, d := range lost {
				if d > 2*time.Second {
					t.Errorf("%s: unknown only %v after the phone system was killed, want ≤ 2 s", transport, d)
				}
			}
			for _, d := range back {
				if d > 10*time.Second {
					t.Errorf("%s: real state only %v after the restart, want ≤ 10 s", transport, d)
				}
			}
		})
	}
}

// spread is "min–max (median m)" of ds, in milliseconds.
func spread(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	return fmt.Sprintf("%d–%d ms (median %d ms, %d rounds)", ms(s[0]), ms(s[len(s)-1]), ms(s[len(s)/2]), len(s))
}

// The UDP keepalive with the default settings: one OPTIONS a second, each
// answered once, so 120 packets a minute.
func TestKeepAlivePacketRate(t *testing.T) {
	t.Parallel()
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
	w := watch(t, cfgFor(pbx, "udp"))
	w.expect(t, 5*time.Second, "link-up")
	window := 5 * time.Second
	options := func() int { return strings.Count(pbx.Log(), "req OPTIONS sip:127.0.0.1 from") }
	before := options()
	time.Sleep(window) // the rate over a fixed span is the measurement itself
	n := options() - before
	perMinute := float64(n) * float64(time.Minute) / float64(window)
	t.Logf("udp keepalive: %d OPTIONS in %v: %.0f requests a minute, %.0f packets a minute with the answers", n, window, perMinute, 2*perMinute)
	if secs := int(window / time.Second); n < secs-1 || n > secs+1 {
		t.Errorf("%d OPTIONS in %v, want about one a second", n, window)
	}
}
