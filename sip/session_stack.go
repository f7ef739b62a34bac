package sip

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// openSession builds the SIP stack and, on UDP, the socket NOTIFYs arrive on.
func (s *Subscriber) openSession() (*session, error) {
	cfg := s.cfg
	ss := &session{
		s:        s,
		cfg:      cfg,
		network:  strings.ToUpper(cfg.Transport),
		aor:      sipmsg.Uri{Scheme: "sip", User: cfg.Extension, Host: cfg.Domain},
		callID:   uuid.NewString(),
		fromTag:  sipmsg.GenerateTagN(16),
		notifies: make(chan notification, 32),
		done:     make(chan struct{}),
	}
	ss.log = s.log.With("call_id", ss.callID)

	host, port := "", "0"
	if cfg.LocalAddr != "" {
		host, port, _ = net.SplitHostPort(cfg.LocalAddr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		ip, err := routeTo(cfg.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: no route to %s: %v", ErrTransport, cfg.Address, err)
		}
		host = ip
	}

	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent("callguard"),
		sipgo.WithUserAgentHostname(cfg.Domain),
		sipgo.WithUserAgentTransportLayerOptions(sipmsg.WithTransportLayerLogger(ss.log)),
		sipgo.WithUserAgentTransactionLayerOptions(sipmsg.WithTransactionLayerLogger(ss.log)),
	}
	if s.tlsConf != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(s.tlsConf))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("sip stack: %w", err)
	}
	ss.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(ss.log))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip stack: %w", err)
	}
	srv.OnNotify(ss.onNotify)

	local := net.JoinHostPort(host, port)
	clientOpts := []sipgo.ClientOption{sipgo.WithClientLogger(ss.log), sipgo.WithClientHostname(host)}
	if cfg.Transport == "udp" {
		pc, err := net.ListenPacket("udp", local)
		if err != nil {
			ua.Close()
			return nil, fmt.Errorf("%w: listen on %s: %v", ErrTransport, local, err)
		}
		ss.pconn = pc
		local = pc.LocalAddr().String()
		ss.serving.Add(1)
		go func() {
			defer ss.serving.Done()
			_ = srv.ServeUDP(pc) // returns when pc is closed
		}()
		// Requests must leave from this socket (the Contact); the stack only
		// finds it once the serving goroutine has registered it.
		if !ss.listening(local) {
			ss.close()
			return nil, fmt.Errorf("%w: UDP socket %s not ready", ErrTransport, local)
		}
		clientOpts = append(clientOpts, sipgo.WithClientAddr(local), sipgo.WithClientConnectionAddr(local))
	} else if cfg.LocalAddr != "" {
		// TCP and TLS connect from the address asked for (any port if 0).
		clientOpts = append(clientOpts, sipgo.WithClientConnectionAddr(local))
	}
	client, err := sipgo.NewClient(ua, clientOpts...)
	if err != nil {
		ss.close()
		return nil, fmt.Errorf("sip stack: %w", err)
	}
	ss.client = client
	return ss, nil
}

// listening waits briefly until the stack knows the UDP socket at local.
func (ss *session) listening(local string) bool {
	for range 200 {
		if c, err := ss.ua.TransportLayer().GetConnection("udp", local); err == nil && c != nil {
			c.TryClose() // GetConnection took a reference
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// close stops the stack and waits for the goroutines the session started.
func (ss *session) close() {
	close(ss.done)
	ss.closeConn()
	ss.ua.Close()
	if ss.pconn != nil {
		ss.pconn.Close()
	}
	ss.serving.Wait()
}

// closeConn closes the TCP/TLS connection and waits briefly until the stack
// has let go of it. Closing the stack with the connection still open makes
// sipgo's reader log a spurious "TCP ref went negative" warning.
func (ss *session) closeConn() {
	if ss.localKey == "" {
		return
	}
	c, err := ss.ua.TransportLayer().GetConnection(ss.network, ss.localKey)
	if err != nil {
		return
	}
	tc, ok := c.(*sipmsg.TCPConnection)
	c.TryClose() // GetConnection took a reference
	if !ok {
		return
	}
	tc.Conn.Close()
	for range 100 {
		if !ss.connAlive() {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// routeTo returns the local IP address that routes to address.
func routeTo(address string) (string, error) {
	c, err := net.Dial("udp", address) // sends nothing
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}

// contactHeader is where the phone system sends NOTIFYs: the UDP socket, or
// the TCP/TLS connection already open to it (the phone system reuses it).
func (ss *session) contactHeader() *sipmsg.ContactHeader {
	hostport := ss.localKey
	if ss.pconn != nil {
		hostport = ss.pconn.LocalAddr().String()
	}
	host, port, _ := net.SplitHostPort(hostport)
	p, _ := strconv.Atoi(port)
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	c := &sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "callguard", Host: host, Port: p}}
	if ss.network != "UDP" {
		c.Address.UriParams = sipmsg.NewParams()
		c.Address.UriParams.Add("transport", strings.ToLower(ss.network))
	}
	return c
}
