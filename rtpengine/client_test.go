package rtpengine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/rtpengine/bencode"
	"go.uber.org/goleak"
)

func dial(t *testing.T, addr string, opts ...Option) *Client {
	t.Helper()
	c, err := Dial(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestMain checks that no test leaves a goroutine behind (the client's
// reader, a fake's timers, the rig's process waiters).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStopRecordingSendsTheCallID(t *testing.T) {
	t.Parallel()
	f := newFakeNG(t, ok)
	c := dial(t, f.addr())
	if err := c.StopRecording(context.Background(), "1-15759@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	got := f.requests()
	if len(got) != 1 {
		t.Fatalf("%d datagrams, want 1", len(got))
	}
	want := `d7:call-id17:1-15759@127.0.0.17:command14:stop recordinge`
	if body := strings.TrimPrefix(string(got[0].raw), got[0].cookie+" "); body != want {
		t.Fatalf("sent %q, want %q", body, want)
	}
	if err := c.StartRecording(context.Background(), ""); err == nil {
		t.Fatal("an empty Call-ID was sent")
	}
}

func TestLostAnswersAreRetransmittedWithTheSameCookie(t *testing.T) {
	t.Parallel()
	// The first two answers are lost (the fake does not send them).
	f := newFakeNG(t, func(r request) []reply {
		if r.n < 2 {
			return nil
		}
		return ok(r)
	})
	c := dial(t, f.addr())
	start := time.Now()
	if err := c.StartRecording(context.Background(), "cid"); err != nil {
		t.Fatal(err)
	}
	got := f.requests()
	if len(got) != 3 {
		t.Fatalf("%d copies sent, want 3", len(got))
	}
	for _, r := range got[1:] {
		if string(r.raw) != string(got[0].raw) {
			t.Fatalf("a retransmission differs: %q vs %q", r.raw, got[0].raw)
		}
	}
	// Backoff: 50 ms, then 100 ms. Measured from the start, since a copy
	// arrives at the fake no sooner than it was sent, however late the
	// fake reads it (between two arrivals, a late first one shortens the
	// gap, as it did under load).
	if d := got[1].at.Sub(start); d < 50*time.Millisecond {
		t.Fatalf("first retransmission arrived %v after the command, want no sooner than 50 ms", d)
	}
	if d := got[2].at.Sub(start); d < 150*time.Millisecond {
		t.Fatalf("second retransmission arrived %v after the command, want no sooner than 150 ms (50 + 100)", d)
	}
	t.Logf("answered after %v", time.Since(start))
}

func TestNoAnswerTimesOutWithinTheDeadline(t *testing.T) {
	t.Parallel()
	f := newFakeNG(t, func(request) []reply { return nil })
	c := dial(t, f.addr())
	start := time.Now()
	err := c.StopRecording(context.Background(), "cid")
	took := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a *TimeoutError", err)
	}
	if took < DefaultTimeout || took > DefaultTimeout+150*time.Millisecond {
		t.Fatalf("gave up after %v, want %v", took, DefaultTimeout)
	}
	// Copies at 0, 50, 150 and 350 ms.
	if te.Sent != 4 || len(f.requests()) != 4 {
		t.Fatalf("sent %d (fake saw %d), want 4", te.Sent, len(f.requests()))
	}
	if te.Refused {
		t.Fatal("a silent peer reported as refused")
	}
	if !strings.Contains(err.Error(), `did not answer "stop recording" for call "cid" within 500ms`) {
		t.Fatalf("message: %v", err)
	}
}

func TestShorterContextDeadlineWins(t *testing.T) {
	t.Parallel()
	f := newFakeNG(t, func(request) []reply { return nil })
	c := dial(t, f.addr())
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Ping(ctx)
	if took := time.Since(start); !errors.Is(err, ErrTimeout) || took > 300*time.Millisecond {
		t.Fatalf("err = %v after %v, want a timeout after about 120 ms", err, took)
	}
}

func TestCancelledContextIsNotATimeout(t *testing.T) {
	t.Parallel()
	f := newFakeNG(t, func(request) []reply { return nil })
	c := dial(t, f.addr())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	err := c.StopRecording(ctx, "cid")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if err := c.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("an already cancelled context: %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d datagrams; nothing is sent once the context is done", n)
	}
}

func TestDuplicatedAnswersGoToTheirCommandOnly(t *testing.T) {
	t.Parallel()
	// Every answer arrives three times; each names its command's call.
	f := newFakeNG(t, func(r request) []reply {
		id, _ := r.cmd.String("call-id")
		a := answerTo(r.cookie, bencode.Dict{"result": "ok", "echo": id})
		return []reply{{data: a}, {data: a}, {data: a, after: 5 * time.Millisecond}}
	})
	c := dial(t, f.addr())
	for i := range 20 {
		id := fmt.Sprintf("call-%d", i)
		a, err := c.Do(context.Background(), "query", bencode.Dict{"call-id": id})
		if err != nil {
			t.Fatal(err)
		}
		if echo, _ := a.String("echo"); echo != id {
			t.Fatalf("command for %s got the answer for %s", id, echo)
		}
	}
}

func TestLateAnswerForAnOldCookieIsIgnored(t *testing.T) {
	t.Parallel()
	// The first command's answer ("ok") comes only after the client gave up
	// on it, just before the second command's own answer (an error). Taking
	// the stale answer would report the second command as done.
	var mu sync.Mutex
	var first string
	f := newFakeNG(t, func(r request) []reply {
		mu.Lock()
		defer mu.Unlock()
		id, _ := r.cmd.String("call-id")
		switch {
		case id == "first":
			first = r.cookie
			return nil
		case first != "":
			stale := answerTo(first, bencode.Dict{"result": "ok"})
			own := answerTo(r.cookie, bencode.Dict{"result": "error", "error-reason": "Unknown call-id"})
			return []reply{{data: stale}, {data: own, after: 10 * time.Millisecond}}
		}
		return nil
	})
	c := dial(t, f.addr(), WithTimeout(100*time.Millisecond))
	if err := c.StopRecording(context.Background(), "first"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("first: %v", err)
	}
	err := c.StopRecording(context.Background(), "second")
	var re *Error
	if !errors.As(err, &re) || !errors.Is(err, ErrUnknownCall) || re.CallID != "second" {
		t.Fatalf("second: err = %v, want its own answer (Unknown call-id)", err)
	}
}

func TestGarbageIsIgnored(t *testing.T) {
	t.Parallel()
	f := newFakeNG(t, func(r request) []reply {
		var out []reply
		for _, g := range []string{
			"",                          // empty datagram
			"no-cookie-here",            // no space
			" d6:result2:oke",           // empty cookie
			r.cookie + " d6:result2:ok", // truncated bencode, right cookie
			r.cookie + " li1ee",         // a list, not a dictionary
			r.cookie + " \x00\xff\xfe",  // binary noise
			"x" + r.cookie + " d6:result2:oke",
		} {
			out = append(out, reply{data: []byte(g)})
		}
		return append(out, reply{data: answerTo(r.cookie, bencode.Dict{"result": "pong"}), after: 5 * time.Millisecond})
	})
	c := dial(t, f.addr())
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestAnswersThatRefuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  bencode.Dict
		check   func(error) bool
		message string
	}{
		{"unknown call", bencode.Dict{"result": "error", "error-reason": "Unknown call-id"},
			func(err error) bool { return errors.Is(err, ErrUnknownCall) },
			`rtpengine refused "stop recording" for call "cid": Unknown call-id`},
		{"unrecognized command", bencode.Dict{"result": "error", "error-reason": "Unrecognized command"},
			func(err error) bool { var e *Error; return errors.As(err, &e) && !errors.Is(err, ErrUnknownCall) },
			"Unrecognized command"},
		{"load limit", bencode.Dict{"result": "load limit", "message": "CPU usage limit exceeded"},
			func(err error) bool { var e *Error; return errors.As(err, &e) && e.Result == "load limit" },
			"CPU usage limit exceeded"},
		{"a result nobody knows", bencode.Dict{"result": "maybe"},
			func(err error) bool { return errors.Is(err, ErrBadAnswer) }, `"maybe"`},
		{"no result at all", bencode.Dict{"x": "y"},
			func(err error) bool { return errors.Is(err, ErrBadAnswer) }, "result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeNG(t, func(r request) []reply { return []reply{{data: answerTo(r.cookie, tt.answer)}} })
			c := dial(t, f.addr())
			err := c.StopRecording(context.Background(), "cid")
			if err == nil || !tt.check(err) || errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestPingWantsPong(t *testing.T) {
	t.Parallel()
	f := newFakeNG(t, ok)
	c := dial(t, f.addr())
	if err := c.Ping(context.Background()); !errors.Is(err, ErrBadAnswer) {
		t.Fatalf("ping answered ok: %v", err)
	}
}

func TestConcurrentCommandsOverALossyLink(t *testing.T) {
	t.Parallel()
	// A third of the datagrams are lost and another third arrive twice,
	// some late; 40 commands share one client.
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	f := newFakeNG(t, func(r request) []reply {
		mu.Lock()
		defer mu.Unlock()
		id, _ := r.cmd.String("call-id")
		a := answerTo(r.cookie, bencode.Dict{"result": "ok", "echo": id})
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return []reply{{data: a}, {data: a, after: time.Duration(rng.IntN(40)) * time.Millisecond}}
		}
		return []reply{{data: a}}
	})
	c := dial(t, f.addr(), WithTimeout(2*time.Second), WithRetransmit(20*time.Millisecond))
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			id := fmt.Sprintf("call-%d", i)
			a, err := c.Do(context.Background(), "stop recording", bencode.Dict{"call-id": id})
			if err != nil {
				errs <- err
				return
			}
			if echo, _ := a.String("echo"); echo != id {
				errs <- fmt.Errorf("%s got the answer of %s", id, echo)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNothingListeningIsReportedAsRefused(t *testing.T) {
	t.Parallel()
	// A port that was free a moment ago: the kernel answers ICMP port
	// unreachable, which the connected socket reports.
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.LocalAddr().String()
	l.Close()
	c := dial(t, addr)
	start := time.Now()
	err = c.StopRecording(context.Background(), "cid")
	var te *TimeoutError
	if !errors.As(err, &te) || !te.Refused {
		t.Fatalf("err = %v, want a refused timeout", err)
	}
	if took := time.Since(start); took > DefaultTimeout+150*time.Millisecond {
		t.Fatalf("took %v", took)
	}
	if !strings.Contains(err.Error(), "nothing is listening there") {
		t.Fatalf("message: %v", err)
	}
}

func TestCloseEndsCommandsUnderWay(t *testing.T) {
	t.Parallel()
	f := newFakeNG(t, func(request) []reply { return nil })
	c := dial(t, f.addr(), WithTimeout(5*time.Second))
	done := make(chan error, 1)
	go func() { done <- c.StopRecording(context.Background(), "cid") }()
	for len(f.requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("the command did not end when the client closed")
	}
	if err := c.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestQueryOfARealAnswer serves an answer captured from rtpengine 10.5 and
// checks what Query makes of it.
func TestQueryOfARealAnswer(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("bencode/testdata/query.bencode")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeNG(t, func(r request) []reply { return []reply{{data: append([]byte(r.cookie+" "), raw...)}} })
	c := dial(t, f.addr())
	call, err := c.Query(context.Background(), "sample@x")
	if err != nil {
		t.Fatal(err)
	}
	if got := call.TagNames(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("tags %v", got)
	}
	a, b := call.ReceivesFrom("a"), call.ReceivesFrom("b")
	if len(a) != 1 || len(b) != 1 || a[0] == b[0] || a[0].Addr().String() != "127.0.0.1" {
		t.Fatalf("receives from a %v, from b %v", a, b)
	}
	if call.Created.IsZero() || call.Created.Year() < 2024 {
		t.Fatalf("created %v", call.Created)
	}
	for _, s := range call.Tags["a"].Streams {
		if s.RTCP && s.Local.Port() != a[0].Port()+1 {
			t.Fatalf("RTCP stream %v beside RTP %v", s.Local, a[0])
		}
	}
}

// TestAnswerFromAnotherAddressIsIgnored: someone who learns a cookie (it
// travels in clear) answers first from another address. The client's
// socket is connected to rtpengine, so the kernel drops the forgery and the
// real answer is the one taken.
func TestAnswerFromAnotherAddressIsIgnored(t *testing.T) {
	t.Parallel()
	forger, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer forger.Close()
	var clientAddr net.Addr
	var mu sync.Mutex
	f := newFakeNG(t, func(r request) []reply {
		mu.Lock()
		defer mu.Unlock()
		forged := answerTo(r.cookie, bencode.Dict{"result": "ok"})
		if clientAddr != nil {
			forger.WriteTo(forged, clientAddr)
		}
		own := answerTo(r.cookie, bencode.Dict{"result": "error", "error-reason": "Unknown call-id"})
		return []reply{{data: own, after: 20 * time.Millisecond}}
	})
	c := dial(t, f.addr())
	mu.Lock()
	clientAddr = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: c.conn.LocalAddr().(*net.UDPAddr).Port}
	mu.Unlock()
	if err := c.StopRecording(context.Background(), "cid"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("err = %v: the forged answer was taken", err)
	}
}
