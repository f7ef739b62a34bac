package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
)

// ErrPortTaken is returned by Listen when another program listens on the
// local API's port: the desktop then runs without its local API and tells
// the officer, rather than leave CRM pages (and their token) to that
// program.
var ErrPortTaken = errors.New("another program is using the local API's port")

// Listen opens the local API on addr, a loopback address such as
// 127.0.0.1:7465, and on the same port of the other loopback address
// (::1 beside 127.0.0.1) where this computer has one: a browser may reach
// "localhost" on either, and whatever held the other would receive the
// pages' requests and their bearer token. If another program holds the
// port on either address, Listen opens nothing and fails with ErrPortTaken.
// On Windows the port is held exclusively, so no program can bind it after
// us either.
func Listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("local API address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("local API address %q: %w", addr, ErrNotLoopback)
	}
	other := net.IPv6loopback
	if ip.To4() == nil {
		other = net.IPv4(127, 0, 0, 1)
	}
	// An ephemeral port (tests) is picked on the first address; another
	// program may have it on the other, so try a few.
	for range 5 {
		first, err := listenTCP(addr)
		if err != nil {
			return nil, err
		}
		p := strconv.Itoa(first.Addr().(*net.TCPAddr).Port)
		second, err := listenTCP(net.JoinHostPort(other.String(), p))
		switch {
		case err == nil:
			return newPair(first, second), nil
		case errors.Is(err, errNoAddress):
			return first, nil // no such loopback here: nothing to hold
		case errors.Is(err, ErrPortTaken) && port == "0":
			first.Close()
			continue
		}
		first.Close()
		return nil, err
	}
	return nil, fmt.Errorf("local API: no port free on both loopback addresses: %w", ErrPortTaken)
}

// errNoAddress: the computer has no such loopback address (no IPv6).
var errNoAddress = errors.New("no such loopback address")

func listenTCP(addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: exclusive}
	l, err := lc.Listen(context.Background(), "tcp", addr)
	switch {
	case err == nil:
		return l, nil
	case portInUse(err):
		return nil, fmt.Errorf("local API on %s: %w", addr, ErrPortTaken)
	case noSuchAddress(err):
		return nil, fmt.Errorf("local API on %s: %w", addr, errNoAddress)
	}
	return nil, fmt.Errorf("local API: %w", err)
}

// pair serves two listeners as one: Accept returns a connection from
// either, Close closes both, Addr is the first's.
type pair struct {
	first, second net.Listener
	conns         chan net.Conn
	errs          chan error
	done          chan struct{}
	once          sync.Once
	wg            sync.WaitGroup
}

func newPair(first, second net.Listener) *pair {
	p := &pair{first: first, second: second, conns: make(chan net.Conn), errs: make(chan error, 2), done: make(chan struct{})}
	for _, l := range []net.Listener{first, second} {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				c, err := l.Accept()
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					// Handed to the server, which retries a passing error
					// (too many open files) and stops on any other.
					select {
					case p.errs <- err:
						continue
					case <-p.done:
						return
					}
				}
				select {
				case p.conns <- c:
				case <-p.done:
					c.Close()
					return
				}
			}
		}()
	}
	return p
}

func (p *pair) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case err := <-p.errs:
		return nil, err
	case <-p.done:
		return nil, net.ErrClosed
	}
}

func (p *pair) Close() error {
	var err error
	p.once.Do(func() {
		close(p.done)
		err = errors.Join(p.first.Close(), p.second.Close())
		p.wg.Wait()
	})
	return err
}

func (p *pair) Addr() net.Addr { return p.first.Addr() }
