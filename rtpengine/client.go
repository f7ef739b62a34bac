package rtpengine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/callguard/callguard/rtpengine/bencode"
)

// Defaults of a Client.
const (
	// DefaultTimeout is how long a command may take, retransmissions
	// included, before it fails with a *TimeoutError.
	DefaultTimeout = 500 * time.Millisecond
	// DefaultRetransmit is the wait before the first retransmission; each
	// later one waits twice as long (50, 100, 200 ms: four copies within
	// the default timeout).
	DefaultRetransmit = 50 * time.Millisecond
)

// maxDatagram is the largest ng answer read (a UDP datagram's limit).
const maxDatagram = 65535

// Client sends ng commands to one rtpengine over UDP. It is safe for
// concurrent use: answers are matched to commands by cookie.
type Client struct {
	addr       string
	conn       *net.UDPConn
	timeout    time.Duration
	retransmit time.Duration
	log        *slog.Logger

	mu      sync.Mutex
	pending map[string]chan bencode.Dict

	// refusals counts ICMP port-unreachable reports (ECONNREFUSED), so a
	// timed-out command can say whether rtpengine was down.
	refusals atomic.Int64
	done     chan struct{} // closed when the reader has stopped
	close    sync.Once
}

// Option configures a Client.
type Option func(*Client)

// WithTimeout sets how long each command may take (DefaultTimeout). A
// context deadline that comes sooner wins.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetransmit sets the wait before the first retransmission
// (DefaultRetransmit); each later wait doubles.
func WithRetransmit(d time.Duration) Option { return func(c *Client) { c.retransmit = d } }

// WithLogger sets where the client logs answers it drops (late, duplicated
// or malformed ones); by default it logs nothing.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// Dial returns a Client for the rtpengine whose ng port is addr
// ("host:port"). It only opens a UDP socket: use Ping to see that rtpengine
// answers. Close the Client when done.
func Dial(addr string, opts ...Option) (*Client, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("rtpengine address %q: %w", addr, err)
	}
	// A connected socket: the kernel drops datagrams from anyone else, and
	// reports an unreachable port as ECONNREFUSED.
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, fmt.Errorf("rtpengine at %s: %w", addr, err)
	}
	c := &Client{
		addr: addr, conn: conn, timeout: DefaultTimeout, retransmit: DefaultRetransmit,
		log:     slog.New(slog.DiscardHandler),
		pending: map[string]chan bencode.Dict{}, done: make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	if c.timeout <= 0 || c.retransmit <= 0 {
		conn.Close()
		return nil, errors.New("rtpengine: timeout and retransmit interval must be positive")
	}
	go c.read()
	return c, nil
}

// Addr is rtpengine's ng address.
func (c *Client) Addr() string { return c.addr }

// Close stops the client; commands under way fail with ErrClosed.
func (c *Client) Close() error {
	var err error
	c.close.Do(func() {
		err = c.conn.Close()
		<-c.done
	})
	return err
}

// Ping checks that rtpengine answers.
func (c *Client) Ping(ctx context.Context) error {
	a, err := c.Do(ctx, "ping", nil)
	if err != nil {
		return err
	}
	if r, _ := a.String("result"); r != "pong" {
		return fmt.Errorf("%w: ping answered %q, not pong", ErrBadAnswer, r)
	}
	return nil
}

// StartRecording makes rtpengine record the call again (or for the first
// time) from the next RTP packet; each stretch goes to a new file.
func (c *Client) StartRecording(ctx context.Context, callID string) error {
	return c.callCommand(ctx, "start recording", callID)
}

// StopRecording makes rtpengine stop recording the call, in both
// directions, from the next RTP packet. rtpengine 10.5 has no "pause
// recording": stop and start are how a recording pauses.
func (c *Client) StopRecording(ctx context.Context, callID string) error {
	return c.callCommand(ctx, "stop recording", callID)
}

func (c *Client) callCommand(ctx context.Context, command, callID string) error {
	if callID == "" {
		return fmt.Errorf("rtpengine %s: no Call-ID", command)
	}
	_, err := c.Do(ctx, command, bencode.Dict{"call-id": callID})
	return err
}

// List returns the Call-IDs of up to limit calls rtpengine handles.
func (c *Client) List(ctx context.Context, limit int) ([]string, error) {
	a, err := c.Do(ctx, "list", bencode.Dict{"limit": limit})
	if err != nil {
		return nil, err
	}
	calls, ok := a.List("calls")
	if !ok {
		return nil, fmt.Errorf("%w: list without calls", ErrBadAnswer)
	}
	ids := make([]string, 0, len(calls))
	for _, v := range calls {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%w: a call in the list is a %T", ErrBadAnswer, v)
		}
		ids = append(ids, s)
	}
	return ids, nil
}

// Query returns what rtpengine knows of a call: its parties (tags) and the
// addresses their media arrive at.
func (c *Client) Query(ctx context.Context, callID string) (*Call, error) {
	if callID == "" {
		return nil, errors.New("rtpengine query: no Call-ID")
	}
	a, err := c.Do(ctx, "query", bencode.Dict{"call-id": callID})
	if err != nil {
		return nil, err
	}
	call, err := parseCall(callID, a)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", callID, err)
	}
	return call, nil
}

// Do sends one ng command with args (nil for none) and returns rtpengine's
// answer when its result is "ok" or "pong". It retransmits the same
// datagram, with the same cookie, until an answer comes, the client's
// timeout passes or ctx ends: a *TimeoutError when time ran out, an *Error
// when rtpengine refused, ctx's error when ctx was cancelled.
func (c *Client) Do(ctx context.Context, command string, args bencode.Dict) (bencode.Dict, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rtpengine %s: %w", command, err)
	}
	msg := bencode.Dict{}
	for k, v := range args {
		msg[k] = v
	}
	msg["command"] = command
	body, err := bencode.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("rtpengine %s: %w", command, err)
	}
	callID, _ := msg.String("call-id")
	cookie, err := newCookie()
	if err != nil {
		return nil, err
	}
	datagram := append(append([]byte(cookie), ' '), body...)

	answers := make(chan bencode.Dict, 1)
	c.mu.Lock()
	c.pending[cookie] = answers
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, cookie)
		c.mu.Unlock()
	}()

	start := time.Now()
	deadline := start.Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	refusedBefore := c.refusals.Load()
	giveUp := time.NewTimer(time.Until(deadline))
	defer giveUp.Stop()
	wait := c.retransmit
	again := time.NewTimer(wait)
	defer again.Stop()

	sent := 0
	send := func() error {
		sent++
		if _, err := c.conn.Write(datagram); err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				c.refusals.Add(1)
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			// Other send errors (no route, buffer full) are like a lost
			// datagram: the retransmission tries again.
			c.log.Warn("rtpengine: send failed", "command", command, "err", err)
		}
		return nil
	}
	timeout := func() error {
		return &TimeoutError{Command: command, CallID: callID, Addr: c.addr, Sent: sent,
			Timeout: deadline.Sub(start), Waited: time.Since(start), Refused: c.refusals.Load() > refusedBefore}
	}
	if err := send(); err != nil {
		return nil, err
	}
	for {
		select {
		case a := <-answers:
			return answer(command, callID, a)
		case <-again.C:
			if err := send(); err != nil {
				return nil, err
			}
			wait *= 2
			again.Reset(wait)
		case <-giveUp.C:
			return nil, timeout()
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, timeout()
			}
			return nil, fmt.Errorf("rtpengine %s: %w", command, ctx.Err())
		case <-c.done:
			return nil, ErrClosed
		}
	}
}

// answer turns an ng answer into the caller's result.
func answer(command, callID string, a bencode.Dict) (bencode.Dict, error) {
	result, _ := a.String("result")
	switch result {
	case "ok", "pong":
		return a, nil
	case "error":
		reason, _ := a.String("error-reason")
		return nil, &Error{Command: command, CallID: callID, Result: result, Reason: reason}
	case "load limit":
		reason, _ := a.String("message")
		return nil, &Error{Command: command, CallID: callID, Result: result, Reason: reason}
	}
	return nil, fmt.Errorf("%w: %q answered with result %q", ErrBadAnswer, command, result)
}

// read hands each answer to the command waiting for its cookie, and drops
// the rest: answers for commands already done (late or duplicated copies)
// and anything that is not an ng answer.
func (c *Client) read() {
	defer close(c.done)
	buf := make([]byte, maxDatagram)
	for {
		n, err := c.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				c.refusals.Add(1)
				continue
			}
			c.log.Warn("rtpengine: read failed", "err", err)
			time.Sleep(10 * time.Millisecond) // not a hot loop on a persistent error
			continue
		}
		data := buf[:n]
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 {
			c.log.Debug("rtpengine: dropped a datagram without a cookie", "bytes", n)
			continue
		}
		cookie := string(data[:sp])
		c.mu.Lock()
		waiting := c.pending[cookie]
		c.mu.Unlock()
		if waiting == nil {
			c.log.Debug("rtpengine: dropped an answer no command waits for (late or duplicated)", "cookie", cookie)
			continue
		}
		a, err := bencode.UnmarshalDict(data[sp+1:])
		if err != nil {
			c.log.Warn("rtpengine: dropped a malformed answer", "cookie", cookie, "err", err)
			continue
		}
		select {
		case waiting <- a:
		default: // a duplicate of an answer already handed over
		}
	}
}

// newCookie returns a fresh random cookie: rtpengine caches answers by
// cookie, so two commands must never share one.
func newCookie() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("rtpengine cookie: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
