package sip

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

func inDialog(req *sipmsg.Request) bool {
	_, ok := req.To().Params.Get("tag")
	return ok
}

// A body that cannot be parsed is answered 200 and logged; the
// subscription stays, and a refresh asks for the full state again.
func TestMalformedBodyKeepsSubscription(t *testing.T) {
	f := newFakePBX(t)
	w := watch(t, f.config(), fastOptions()...)
	f.waitSubscribe(t, 3*time.Second)
	if code := f.notify(t, "active;expires=600", dialogDoc(1, true)); code != 200 {
		t.Fatalf("NOTIFY answered %d", code)
	}
	w.expect(t, 3*time.Second, "link-up")

	for _, body := range []string{`<dialog-info version="2" state="full"><dialog id=`, `<dialog-info version="x"/>`, "\x00\xff"} {
		if code := f.notify(t, "active;expires=600", body); code != 200 {
			t.Errorf("malformed NOTIFY answered %d, want 200", code)
		}
		if req := f.waitSubscribe(t, 3*time.Second); !inDialog(req) {
			t.Errorf("after a malformed body: a new subscription, want a refresh of the same")
		}
	}
	f.notify(t, "active;expires=600", dialogDoc(3, true, "1:early"))
	w.expect(t, 3*time.Second, "ringing A inbound 077009001")
	w.quiet(t, 300*time.Millisecond)
	if !strings.Contains(w.logs.String(), "unusable dialog-info") {
		t.Errorf("malformed bodies were not logged")
	}
}

func TestVersionsAndPartialStateOverTheWire(t *testing.T) {
	f := newFakePBX(t)
	w := watch(t, f.config(), fastOptions()...)
	f.waitSubscribe(t, 3*time.Second)
	f.notify(t, "active", "") // Kamailio's "nothing to report"
	w.expect(t, 3*time.Second, "link-up")
	f.notify(t, "active", dialogDoc(3, true, "1:confirmed"))
	w.expect(t, 3*time.Second, "answered A inbound 077009001")
	f.notify(t, "active", dialogDoc(2, true, "1:early")) // stale
	f.notify(t, "active", dialogDoc(4, false, "2:early:initiator"))
	w.expect(t, 3*time.Second, "ringing B outbound 077009002")
	f.notify(t, "active", dialogDoc(5, false, "1:terminated"))
	w.expect(t, 3*time.Second, "ended A inbound 077009001")
	f.notify(t, "active", "") // nothing left: B is gone
	w.expect(t, 3*time.Second, "ended B outbound 077009002 gone")
	w.quiet(t, 300*time.Millisecond)
}

// The phone system ends the subscription: LinkLost at once, a new
// subscription, and its full state reconciled before LinkUp.
func TestSubscriptionTerminatedByThePBX(t *testing.T) {
	f := newFakePBX(t)
	w := watch(t, f.config(), fastOptions()...)
	first := f.waitSubscribe(t, 3*time.Second)
	f.notify(t, "active", dialogDoc(1, true, "1:confirmed", "2:early"))
	w.expect(t, 3*time.Second, "answered A inbound 077009001", "ringing B inbound 077009002", "link-up")

	f.notify(t, "terminated;reason=noresource", "")
	lost := w.expect(t, 3*time.Second, "link-lost")[0]
	if !strings.Contains(lost.Reason, "noresource") {
		t.Errorf("reason %q", lost.Reason)
	}
	again := f.waitSubscribe(t, 3*time.Second)
	if inDialog(again) || again.CallID().Value() == first.CallID().Value() {
		t.Errorf("re-subscription reuses the old dialog")
	}
	f.notify(t, "active", dialogDoc(1, true, "2:confirmed", "3:early"))
	w.expect(t, 3*time.Second,
		"ended A inbound 077009001 gone",
		"answered B inbound 077009002",
		"ringing C inbound 077009003",
		"link-up")
}

// A refresh answered 481 means the phone system forgot the subscription.
func TestRefreshAnswered481(t *testing.T) {
	f := newFakePBX(t)
	f.setAnswer(func(req *sipmsg.Request) (int, []sipmsg.Header) {
		if inDialog(req) {
			return 481, nil
		}
		return 200, nil
	})
	cfg := f.config()
	cfg.Expires = 2 * time.Second
	w := watch(t, cfg, fastOptions()...)
	f.waitSubscribe(t, 3*time.Second)
	f.notify(t, "active", dialogDoc(1, true))
	w.expect(t, 3*time.Second, "link-up")
	if refresh := f.waitSubscribe(t, 3*time.Second); !inDialog(refresh) || expiresOf(refresh) != 2 {
		t.Errorf("want a refresh for 2 s")
	}
	lost := w.expect(t, 3*time.Second, "link-lost")[0]
	if !strings.Contains(lost.Reason, "481") {
		t.Errorf("reason %q", lost.Reason)
	}
	if again := f.waitSubscribe(t, 3*time.Second); inDialog(again) {
		t.Errorf("want a new subscription")
	}
	f.notify(t, "active", dialogDoc(1, true))
	w.expect(t, 3*time.Second, "link-up")
}

// 423 Interval Too Brief: subscribe again for what the phone system allows.
func TestIntervalTooBrief(t *testing.T) {
	f := newFakePBX(t)
	f.setAnswer(func(req *sipmsg.Request) (int, []sipmsg.Header) {
		if expiresOf(req) < 120 {
			return 423, []sipmsg.Header{sipmsg.NewHeader("Min-Expires", "120")}
		}
		return 200, nil
	})
	cfg := f.config()
	cfg.Expires = 30 * time.Second
	w := watch(t, cfg, fastOptions()...)
	if e := expiresOf(f.waitSubscribe(t, 3*time.Second)); e != 30 {
		t.Errorf("first SUBSCRIBE asks for %d s", e)
	}
	if e := expiresOf(f.waitSubscribe(t, 3*time.Second)); e != 120 {
		t.Errorf("after 423 the SUBSCRIBE asks for %d s, want 120", e)
	}
	f.notify(t, "active", dialogDoc(1, true))
	w.expect(t, 3*time.Second, "link-up")
}

func TestNotifyOfAnotherSubscriptionIs481(t *testing.T) {
	f := newFakePBX(t)
	w := watch(t, f.config(), fastOptions()...)
	f.waitSubscribe(t, 3*time.Second)
	if code := f.notifyAs(t, "active", dialogDoc(1, true, "9:early"), "someone-else"); code != 481 {
		t.Errorf("foreign NOTIFY answered %d, want 481", code)
	}
	f.notify(t, "active", dialogDoc(1, true))
	w.expect(t, 3*time.Second, "link-up")
	w.quiet(t, 200*time.Millisecond)
}

// A phone system that accepts the subscription but never says anything is
// no link.
func TestNoInitialNotify(t *testing.T) {
	f := newFakePBX(t)
	w := watch(t, f.config(), append(fastOptions(), WithRequestTimeout(500*time.Millisecond))...)
	f.waitSubscribe(t, 3*time.Second)
	lost := w.expect(t, 3*time.Second, "link-lost")[0]
	if lost.Reason != ErrNoAnswer.Error() {
		t.Errorf("reason %q", lost.Reason)
	}
	f.waitSubscribe(t, 3*time.Second) // and tries again
}

// A consumer that does not read never holds up the SIP side: NOTIFYs are
// answered at once and every event waits, in order.
func TestSlowConsumerNeverBlocks(t *testing.T) {
	f := newFakePBX(t)
	w := watch(t, f.config(), fastOptions()...)
	f.waitSubscribe(t, 3*time.Second)
	start := time.Now()
	f.notify(t, "active", dialogDoc(1, true))
	const notifies, perNotify = 40, 3 // UDP: a NOTIFY must stay under 1300 bytes
	for v := 2; v < 2+notifies; v++ {
		var dialogs []string
		for i := range perNotify {
			dialogs = append(dialogs, strconv.Itoa(v*10+i)+":early")
		}
		if code := f.notify(t, "active", dialogDoc(v, false, dialogs...)); code != 200 {
			t.Fatalf("NOTIFY answered %d", code)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("%d NOTIFYs took %v with nobody reading", notifies+1, d)
	}
	w.expect(t, time.Second, "link-up")
	for v := 2; v < 2+notifies; v++ {
		for i := range perNotify {
			ev := w.next(t, time.Second)
			if want := "c-" + strconv.Itoa(v*10+i); ev.CallID != want {
				t.Fatalf("event %q for %s, want %s: out of order", w.describe(ev), ev.CallID, want)
			}
		}
	}
	w.quiet(t, 100*time.Millisecond)
}

func TestRunTwice(t *testing.T) {
	f := newFakePBX(t)
	sub, err := New(f.config())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sub.Run(ctx) }()
	f.waitSubscribe(t, 3*time.Second)
	if err := sub.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, ok := <-sub.Events(); ok {
		// Drain: LinkUp never came, so nothing but possibly nothing at all.
		for range sub.Events() {
		}
	}
}

func TestConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  Config
		want error
	}{
		"no address":    {Config{Extension: "1"}, ErrNoAddress},
		"no extension":  {Config{Address: "pbx"}, ErrConfig},
		"bad transport": {Config{Address: "pbx", Extension: "1", Transport: "sctp"}, ErrConfig},
		"bad port":      {Config{Address: "pbx:99999", Extension: "1"}, ErrConfig},
		"bad local":     {Config{Address: "pbx", Extension: "1", LocalAddr: "nowhere"}, ErrConfig},
		"missing CA":    {Config{Address: "pbx", Extension: "1", Transport: "tls", CAFile: "/nonexistent.pem"}, ErrConfig},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(tc.cfg); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	c, err := Config{Address: "pbx.example.org", Extension: "1001", Transport: "TLS"}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if c.Address != "pbx.example.org:5061" || c.Domain != "pbx.example.org" || c.AuthUser != "1001" || c.Expires != DefaultExpires || c.Transport != "tls" {
		t.Errorf("defaults: %+v", c)
	}
	secret := Config{Address: "a", Extension: "1", Password: "hunter2"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", secret)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", secret)
	js, _ := json.Marshal(secret)
	for _, s := range []string{secret.String(), fmt.Sprintf("%v %+v", secret, secret), logged.String(), string(js)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the password shows: %s", s)
		}
	}
}

// After Run returns, nothing of the subscriber is left running: neither
// its own goroutines nor those of the SIP stack it started.
func TestRunLeavesNoGoroutine(t *testing.T) {
	f := newFakePBX(t)
	before := stackGoroutines()
	w := watch(t, f.config(), fastOptions()...)
	f.waitSubscribe(t, 3*time.Second)
	f.notify(t, "active", dialogDoc(1, true, "1:early"))
	w.expect(t, 3*time.Second, "ringing A inbound 077009001", "link-up")
	f.notify(t, "active", dialogDoc(2, true, "1:confirmed"))
	w.expect(t, 3*time.Second, "answered A inbound 077009001")
	w.stop(t)
	deadline := time.Now().Add(3 * time.Second)
	for {
		var left []string
		for id, g := range stackGoroutines() {
			if _, old := before[id]; !old {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after Run returned:\n%s", strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stackGoroutines returns, by goroutine id, the stacks of the goroutines
// running code of this package or of sipgo.
func stackGoroutines() map[string]string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "callguard/sip.") && !strings.Contains(g, "emiago/sipgo") {
			continue
		}
		if strings.Contains(g, "callguard/sip.TestRunLeavesNoGoroutine") {
			continue // this test itself
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(g, "goroutine "), " ")
		out[id] = g
	}
	return out
}

func TestLossReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("refresh: %w (481: it no longer knows it)", ErrTerminated), "the phone system ended the subscription (481: it no longer knows it)"},
		{fmt.Errorf("%w (403 Forbidden)", ErrRejected), "the phone system refused the subscription (403 Forbidden)"},
		{fmt.Errorf("%w: user %q: 401", ErrAuth, "1001"), ErrAuth.Error()},
		{fmt.Errorf("%w: OPTIONS: dial udp: connection refused", ErrNoAnswer), ErrNoAnswer.Error()},
		{errors.New("something else"), "lost contact with the phone system"},
	} {
		if got := lossReason(tc.err); got != tc.want {
			t.Errorf("lossReason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// A refused password is not retried at the pace of other losses: brute-force
// protection on the phone system would lock the officer's PC out.
func TestRefusedPasswordBacksOffSlowly(t *testing.T) {
	f := newFakePBX(t)
	f.setAnswer(func(req *sipmsg.Request) (int, []sipmsg.Header) {
		return 401, []sipmsg.Header{sipmsg.NewHeader("WWW-Authenticate", `Digest realm="127.0.0.1", nonce="abc", qop="auth"`)}
	})
	cfg := f.config()
	cfg.Password = "wrong"
	w := watch(t, cfg, fastOptions()...) // 200 ms backoff for other losses
	f.waitSubscribe(t, 3*time.Second)
	if req := f.waitSubscribe(t, 3*time.Second); req.GetHeader("Authorization") == nil {
		t.Fatalf("the challenge was not answered")
	}
	if lost := w.expect(t, 3*time.Second, "link-lost")[0]; lost.Reason != ErrAuth.Error() {
		t.Errorf("reason %q", lost.Reason)
	}
	select {
	case req := <-f.subs:
		t.Errorf("SUBSCRIBE again within 1.5 s of a refused password: %s", req.StartLine())
	case <-time.After(1500 * time.Millisecond):
	}
}

// Digest challenges by a proxy (407) are answered too, on refreshes as well
// as on the first SUBSCRIBE.
func TestProxyChallengeOnEverySubscribe(t *testing.T) {
	f := newFakePBX(t)
	f.setAnswer(func(req *sipmsg.Request) (int, []sipmsg.Header) {
		if req.GetHeader("Proxy-Authorization") == nil {
			return 407, []sipmsg.Header{sipmsg.NewHeader("Proxy-Authenticate", `Digest realm="127.0.0.1", nonce="n`+req.CSeq().Value()+`", algorithm=MD5`)}
		}
		return 200, nil
	})
	cfg := f.config()
	cfg.Password = "pw-407"
	cfg.Expires = 2 * time.Second
	w := watch(t, cfg, fastOptions()...)
	for i, want := range []bool{false, true} {
		if req := f.waitSubscribe(t, 3*time.Second); (req.GetHeader("Proxy-Authorization") != nil) != want {
			t.Fatalf("SUBSCRIBE %d: credentials %v, want %v", i, !want, want)
		}
	}
	f.notify(t, "active", dialogDoc(1, true))
	w.expect(t, 3*time.Second, "link-up")
	// The refresh a second later is challenged again and answered.
	for i, want := range []bool{false, true} {
		req := f.waitSubscribe(t, 3*time.Second)
		if !inDialog(req) || (req.GetHeader("Proxy-Authorization") != nil) != want {
			t.Fatalf("refresh %d: in dialog %v, credentials %v", i, inDialog(req), !want)
		}
	}
	w.quiet(t, 500*time.Millisecond)
}

// A version older than one applied is ignored, and the full state is asked
// for at once (a refresh), since every document is reconciled anyway.
func TestOutOfOrderVersionAsksForTheFullState(t *testing.T) {
	f := newFakePBX(t)
	w := watch(t, f.config(), fastOptions()...)
	f.waitSubscribe(t, 3*time.Second)
	f.notify(t, "active", dialogDoc(3, true, "1:confirmed"))
	w.expect(t, 3*time.Second, "answered A inbound 077009001", "link-up")
	sent := time.Now()
	f.notify(t, "active", dialogDoc(2, true, "1:trying"))
	refresh := f.waitSubscribe(t, 2*time.Second)
	if !inDialog(refresh) {
		t.Fatalf("want a refresh of the subscription, got a new one")
	}
	t.Logf("full state asked for %v after the out-of-order NOTIFY", time.Since(sent).Round(time.Millisecond))
	f.notify(t, "active", dialogDoc(4, true, "1:confirmed"))
	w.quiet(t, 300*time.Millisecond)
	f.notify(t, "active", dialogDoc(5, true, "1:terminated"))
	w.expect(t, 3*time.Second, "ended A inbound 077009001")
}
