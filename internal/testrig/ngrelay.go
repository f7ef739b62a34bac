package testrig

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/rtpengine/bencode"
)

// NGRelay sits between one ng client and rtpengine and loses answers on
// purpose: drop decides, for the nth answer (from 0) to a command, whether
// it is lost. It is stopped in t.Cleanup.
type NGRelay struct {
	conn     net.PacketConn
	upstream *net.UDPConn
	drop     func(command string, nth int) bool

	mu       sync.Mutex
	client   net.Addr
	commands map[string]string // cookie → command
	copies   map[string]int    // cookie → requests seen
	answers  map[string]int    // cookie → answers seen
	dropped  int
	wg       sync.WaitGroup
}

// StartNGRelay relays ng datagrams to rtpengine's ng address, losing the
// answers drop says to.
func StartNGRelay(t testing.TB, ng string, drop func(command string, nth int) bool) *NGRelay {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	raddr, err := net.ResolveUDPAddr("udp", ng)
	if err != nil {
		t.Fatal(err)
	}
	up, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	r := &NGRelay{conn: conn, upstream: up, drop: drop,
		commands: map[string]string{}, copies: map[string]int{}, answers: map[string]int{}}
	r.wg.Add(2)
	go r.requests()
	go r.replies()
	t.Cleanup(func() {
		conn.Close()
		up.Close()
		r.wg.Wait()
	})
	return r
}

// Addr is where ng clients send to the relay.
func (r *NGRelay) Addr() string { return r.conn.LocalAddr().String() }

func (r *NGRelay) requests() {
	defer r.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := r.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		cookie, body, _ := bytes.Cut(buf[:n], []byte(" "))
		cmd := ""
		if d, err := bencode.UnmarshalDict(body); err == nil {
			cmd, _ = d.String("command")
		}
		r.mu.Lock()
		r.client = from
		r.commands[string(cookie)] = cmd
		r.copies[string(cookie)]++
		r.mu.Unlock()
		r.upstream.Write(buf[:n])
	}
}

func (r *NGRelay) replies() {
	defer r.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, err := r.upstream.Read(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		cookie, _, _ := bytes.Cut(buf[:n], []byte(" "))
		r.mu.Lock()
		cmd := r.commands[string(cookie)]
		nth := r.answers[string(cookie)]
		r.answers[string(cookie)]++
		lose := r.drop(cmd, nth)
		if lose {
			r.dropped++
		}
		client := r.client
		r.mu.Unlock()
		if !lose && client != nil {
			r.conn.WriteTo(buf[:n], client)
		}
	}
}

// CopiesOf returns how many copies of each request of command arrived, in
// no particular order.
func (r *NGRelay) CopiesOf(command string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for cookie, cmd := range r.commands {
		if cmd == command {
			out = append(out, r.copies[cookie])
		}
	}
	return out
}
