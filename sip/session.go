package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/callguard/callguard/app"
)

// notification is one NOTIFY of the subscription, as the SIP stack's
// goroutine hands it to the event loop.
type notification struct {
	at     time.Time
	cseq   uint32
	empty  bool        // no body: "no dialogs" for the phone systems that send it
	info   *DialogInfo // nil when the body was unusable (err) or empty
	err    error
	state  string // Subscription-State: active, pending or terminated
	reason string // its reason parameter, for terminated
}

// session is one subscription over one SIP stack. A lost subscription is
// never revived: the next attempt starts a new session with a fresh stack,
// Call-ID and local port, so nothing of a broken one can leak into it.
type session struct {
	s       *Subscriber
	cfg     Config
	log     *slog.Logger
	network string // sipgo's transport name: UDP, TCP or TLS

	ua     *sipgo.UserAgent
	client *sipgo.Client
	pconn  net.PacketConn // UDP only: where NOTIFYs arrive

	localKey string // host:port of the connection to the phone system (TCP, TLS)
	aor      sipmsg.Uri
	contact  *sipmsg.ContactHeader
	callID   string
	fromTag  string

	notifies chan notification
	done     chan struct{} // closed when the session ends: NOTIFYs are refused from then on
	serving  sync.WaitGroup

	mu           sync.Mutex // the dialog state below, shared by the loop and request goroutines
	remoteTag    string
	remoteTarget sipmsg.Uri
	routes       []sipmsg.Uri
	cseq         uint32
}

// session runs one subscription until it is lost or ctx ends. up reports
// whether it got as far as LinkUp.
func (s *Subscriber) session(ctx context.Context) (up bool, err error) {
	ss, err := s.openSession()
	if err != nil {
		return false, err
	}
	l := &loop{s: s, ss: ss, results: make(chan outcome, 2)}
	var cancel context.CancelFunc
	l.ctx, cancel = context.WithCancel(ctx)
	defer func() {
		cancel()
		l.requests.Wait()
		ss.close()
	}()
	s.track.newSubscription()

	// One OPTIONS first: while the phone system is away, this is all each
	// retry sends, and it fails as fast as a keepalive would.
	if err := ss.probe(l.ctx, max(s.keepAliveWait, 500*time.Millisecond)); err != nil {
		return false, err
	}
	ss.contact = ss.contactHeader()
	granted, err := ss.subscribe(l.ctx, s.cfg.Expires)
	if err != nil {
		return false, err
	}
	ss.log.Debug("subscribed", "expires", granted)
	err = l.run(ctx, granted)
	return l.up, err
}

// refreshIn is when to refresh a subscription granted for granted: half
// way, and at least every MaxRefreshInterval.
func refreshIn(granted time.Duration) time.Duration {
	return min(granted/2, MaxRefreshInterval)
}

// outcome is the result of a refresh or keepalive request.
type outcome struct {
	refresh bool // else a keepalive probe
	granted time.Duration
	err     error
}

// loop is the event loop of one session. It alone touches the tracker and
// the event queue; requests run on goroutines it starts and waits for.
type loop struct {
	s        *Subscriber
	ss       *session
	ctx      context.Context // cancelled when the session ends
	requests sync.WaitGroup
	results  chan outcome

	up                  bool
	refreshing, probing bool
	refreshAgain        bool // a refresh was asked for while one was under way
	refresh             *time.Timer
	recovery            *time.Timer // a deferred requestFull
	recoveryArmed       bool
	lastFull            time.Time
	lastCSeq            uint32
}

func (l *loop) run(ctx context.Context, granted time.Duration) error {
	s, ss := l.s, l.ss
	l.refresh = time.NewTimer(refreshIn(granted))
	defer l.refresh.Stop()
	l.recovery = time.NewTimer(time.Hour)
	l.recovery.Stop()
	defer l.recovery.Stop()
	initial := time.NewTimer(s.requestTimeout)
	defer initial.Stop()
	keepAlive := time.NewTicker(s.keepAlive)
	defer keepAlive.Stop()
	var connCheck <-chan time.Time
	if ss.localKey != "" {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		connCheck = t.C
	}
	for {
		var initialC <-chan time.Time
		if !l.up {
			initialC = initial.C
		}
		select {
		case <-ctx.Done():
			ss.unsubscribe()
			return ctx.Err()

		case n := <-ss.notifies:
			if err := l.notified(n); err != nil {
				return err
			}

		case <-initialC:
			return fmt.Errorf("%w: no NOTIFY with the dialog state within %v", ErrNoAnswer, s.requestTimeout)

		case <-l.refresh.C:
			l.startRefresh()

		case <-l.recovery.C:
			l.recoveryArmed = false
			l.requestFull()

		case <-keepAlive.C:
			l.startProbe()

		case <-connCheck:
			if !ss.connAlive() {
				return fmt.Errorf("%w: %s connection closed", ErrTransport, ss.cfg.Transport)
			}

		case r := <-l.results:
			if err := l.finished(r); err != nil {
				return err
			}

		case s.outbox() <- s.head():
			s.pop()
		}
	}
}

// notified applies one NOTIFY; an error ends the session.
func (l *loop) notified(n notification) error {
	s, ss := l.s, l.ss
	if n.cseq > l.lastCSeq {
		l.lastCSeq = n.cseq
	} else if n.empty {
		n.empty = false // an unversioned "no dialogs" that is not the newest news
	}
	var r result
	switch {
	case n.empty:
		r = s.track.applyEmpty(n.at)
	case n.info != nil:
		r = s.track.apply(n.info, n.at)
	}
	for _, ev := range r.events {
		s.emit(ev)
	}
	full := n.empty || n.info != nil && n.info.Full
	switch {
	case r.stale:
		// Every document is reconciled anyway, so the full state costs one
		// SUBSCRIBE and settles whatever the old one meant.
		ss.log.Info("dialog-info out of order ignored; asking for the full state", "version", n.info.Version)
		l.requestFull()
	case r.gap:
		ss.log.Info("dialog-info out of sequence; asking for the full state", "version", n.info.Version)
		l.requestFull()
	case r.verify:
		ss.log.Debug("a dialog is missing from the full state; asking for it again", "version", n.info.Version)
		l.requestFull()
	}
	switch {
	case r.stale || r.gap:
	case !l.up && full:
		l.up = true
		s.emit(app.CallEvent{Kind: app.LinkUp, At: s.now()})
		ss.log.Info("phone system link up", "dialogs", len(s.track.dialogs))
	}
	if n.err != nil {
		ss.log.Warn("unusable dialog-info; asking for the full state", "error", n.err)
		l.requestFull()
	}
	if n.state == "terminated" {
		return fmt.Errorf("%w (%s)", ErrTerminated, orDefault(n.reason, "no reason given"))
	}
	return nil
}

// finished handles the result of a refresh or probe; an error ends the
// session.
func (l *loop) finished(r outcome) error {
	if !r.refresh {
		l.probing = false
		return r.err
	}
	l.refreshing = false
	if r.err != nil {
		return fmt.Errorf("refresh: %w", r.err)
	}
	l.refresh.Reset(refreshIn(r.granted))
	if l.refreshAgain {
		l.refreshAgain = false
		l.startRefresh()
	}
	return nil
}

// startRefresh refreshes the subscription on a goroutine, or once more
// after the one under way.
func (l *loop) startRefresh() {
	if l.refreshing {
		l.refreshAgain = true
		return
	}
	l.refreshing = true
	l.requests.Add(1)
	go func() {
		defer l.requests.Done()
		g, err := l.ss.subscribe(l.ctx, l.s.cfg.Expires)
		l.results <- outcome{refresh: true, granted: g, err: err}
	}()
}

// startProbe asks whether the phone system is there, unless a probe is
// still waiting for its answer.
func (l *loop) startProbe() {
	if l.probing {
		return
	}
	l.probing = true
	l.requests.Add(1)
	go func() {
		defer l.requests.Done()
		l.results <- outcome{err: l.ss.probe(l.ctx, l.s.keepAliveWait)}
	}()
}

// requestFull asks for the full state again (a refresh makes the phone
// system send it) after a document could not be used: at most once per
// keepalive period, so that a phone system that keeps sending garbage is
// not answered with a storm of SUBSCRIBEs.
func (l *loop) requestFull() {
	if wait := time.Until(l.lastFull.Add(l.s.keepAlive)); wait > 0 {
		if !l.recoveryArmed {
			l.recoveryArmed = true
			l.recovery.Reset(wait)
		}
		return
	}
	l.lastFull = time.Now()
	l.startRefresh()
}

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

// newRequest starts a request that goes to the configured address (an
// outbound proxy, in RFC 3261 terms) over the configured transport.
func (ss *session) newRequest(method sipmsg.RequestMethod, ruri sipmsg.Uri) *sipmsg.Request {
	req := sipmsg.NewRequest(method, ruri)
	req.SetTransport(ss.network)
	req.SetDestination(ss.cfg.Address)
	maxfwd := sipmsg.MaxForwardsHeader(70)
	req.AppendHeader(&maxfwd)
	req.AppendHeader(sipmsg.NewHeader("User-Agent", "callguard"))
	return req
}

// probe asks the phone system whether it is there (OPTIONS). Any answer,
// even an error or a challenge, will do. On TCP and TLS the first probe
// opens the connection the subscription then uses.
func (ss *session) probe(ctx context.Context, wait time.Duration) error {
	req := ss.newRequest(sipmsg.OPTIONS, sipmsg.Uri{Scheme: "sip", Host: ss.cfg.Domain})
	from := &sipmsg.FromHeader{Address: ss.aor, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", Host: ss.cfg.Domain}})
	callID := sipmsg.CallIDHeader(uuid.NewString())
	req.AppendHeader(&callID)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: 1, MethodName: sipmsg.OPTIONS})
	req.SetBody(nil)

	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	res, err := ss.client.Do(ctx, req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w within %v (OPTIONS)", ErrNoAnswer, wait)
		}
		return fmt.Errorf("%w: OPTIONS: %v", ErrNoAnswer, err)
	}
	ss.log.Debug("phone system answered OPTIONS", "status", res.StatusCode)
	if ss.pconn == nil && ss.localKey == "" {
		// The connection now open: its local address is our Contact, and
		// its closing is the end of the subscription.
		if via := req.Via(); via != nil && via.Port > 0 {
			ss.localKey = net.JoinHostPort(via.Host, strconv.Itoa(via.Port))
		} else {
			return fmt.Errorf("%w: cannot tell the local address of the %s connection", ErrTransport, ss.cfg.Transport)
		}
	}
	return nil
}

// connAlive reports whether the TCP/TLS connection the subscription uses is
// still open.
func (ss *session) connAlive() bool {
	c, err := ss.ua.TransportLayer().GetConnection(ss.network, ss.localKey)
	if err != nil || c == nil {
		return false
	}
	c.TryClose() // GetConnection took a reference
	return true
}

// subscribe sends the initial SUBSCRIBE, or a refresh once the dialog
// exists, and returns the lifetime the phone system granted.
func (ss *session) subscribe(ctx context.Context, expires time.Duration) (time.Duration, error) {
	secs := int(expires.Round(time.Second) / time.Second)
	for attempt := 0; ; attempt++ {
		req := ss.subscribeRequest(secs)
		res, err := ss.do(ctx, req)
		if err != nil {
			return 0, err
		}
		switch {
		case res.StatusCode == 423 && attempt == 0:
			// Interval Too Brief: ask again for what it allows.
			if h := res.GetHeader("Min-Expires"); h != nil {
				if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > secs {
					secs = n
					continue
				}
			}
			return 0, fmt.Errorf("%w (423 without a usable Min-Expires)", ErrRejected)
		case res.StatusCode == 481:
			return 0, fmt.Errorf("%w (481: it no longer knows it)", ErrTerminated)
		case res.StatusCode == 401 || res.StatusCode == 407:
			return 0, fmt.Errorf("%w: %d %s", ErrAuth, res.StatusCode, res.Reason)
		case !res.IsSuccess():
			return 0, fmt.Errorf("%w (%d %s)", ErrRejected, res.StatusCode, res.Reason)
		}
		granted := time.Duration(secs) * time.Second
		if h := res.GetHeader("Expires"); h != nil {
			if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
				granted = time.Duration(n) * time.Second
			}
		}
		if granted <= 0 {
			return 0, fmt.Errorf("%w (it granted an expiry of 0)", ErrTerminated)
		}
		ss.established(req, res)
		return granted, nil
	}
}

// subscribeRequest builds a SUBSCRIBE in the subscription's dialog (or
// starting it).
func (ss *session) subscribeRequest(expires int) *sipmsg.Request {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ruri := ss.aor
	if ss.remoteTag != "" && ss.remoteTarget.Host != "" {
		ruri = ss.remoteTarget
	}
	req := ss.newRequest(sipmsg.SUBSCRIBE, ruri)
	for _, r := range ss.routes {
		req.AppendHeader(&sipmsg.RouteHeader{Address: r})
	}
	from := &sipmsg.FromHeader{Address: ss.aor, Params: sipmsg.NewParams()}
	from.Params.Add("tag", ss.fromTag)
	req.AppendHeader(from)
	to := &sipmsg.ToHeader{Address: ss.aor, Params: sipmsg.NewParams()}
	if ss.remoteTag != "" {
		to.Params.Add("tag", ss.remoteTag)
	}
	req.AppendHeader(to)
	callID := sipmsg.CallIDHeader(ss.callID)
	req.AppendHeader(&callID)
	ss.cseq++
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: ss.cseq, MethodName: sipmsg.SUBSCRIBE})
	req.AppendHeader(ss.contact)
	req.AppendHeader(sipmsg.NewHeader("Event", "dialog"))
	req.AppendHeader(sipmsg.NewHeader("Accept", "application/dialog-info+xml"))
	exp := sipmsg.ExpiresHeader(expires)
	req.AppendHeader(&exp)
	req.SetBody(nil)
	return req
}

// established records the dialog facts of a 2xx to SUBSCRIBE.
func (ss *session) established(req *sipmsg.Request, res *sipmsg.Response) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if cs := req.CSeq(); cs != nil && cs.SeqNo > ss.cseq {
		ss.cseq = cs.SeqNo // a digest retry counted one up
	}
	if ss.remoteTag != "" {
		return
	}
	if to := res.To(); to != nil {
		ss.remoteTag, _ = to.Params.Get("tag")
	}
	if c := res.Contact(); c != nil {
		ss.remoteTarget = *c.Address.Clone()
	}
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		if h, ok := rr[i].(*sipmsg.RecordRouteHeader); ok {
			ss.routes = append(ss.routes, *h.Address.Clone())
		}
	}
}

// do sends req and answers one digest challenge. The error is ErrNoAnswer
// for a timeout or transport failure and ErrAuth when the credentials are
// refused; other final responses are returned for the caller to judge.
func (ss *session) do(ctx context.Context, req *sipmsg.Request) (*sipmsg.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, ss.s.requestTimeout)
	defer cancel()
	res, err := ss.client.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoAnswer, req.Method, err)
	}
	if res.StatusCode != 401 && res.StatusCode != 407 {
		return res, nil
	}
	if ss.cfg.Password == "" {
		return nil, fmt.Errorf("%w (%d)", ErrNoPassword, res.StatusCode)
	}
	res, err = ss.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: ss.cfg.AuthUser, Password: ss.cfg.Password})
	if err != nil {
		return nil, fmt.Errorf("%w: %s with credentials: %v", ErrNoAnswer, req.Method, err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 || res.StatusCode == 403 {
		return nil, fmt.Errorf("%w: user %q: %d %s", ErrAuth, ss.cfg.AuthUser, res.StatusCode, res.Reason)
	}
	return res, nil
}

// unsubscribe ends the subscription politely (Expires: 0), briefly.
func (ss *session) unsubscribe() {
	ss.mu.Lock()
	dialog := ss.remoteTag != ""
	ss.mu.Unlock()
	if !dialog {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := ss.do(ctx, ss.subscribeRequest(0)); err != nil {
		ss.log.Debug("unsubscribe", "error", err)
	}
}

// onNotify runs on a goroutine of the SIP stack for every NOTIFY. It hands
// the decoded NOTIFY to the event loop and answers; a NOTIFY of any other
// subscription gets 481, so the phone system drops it.
func (ss *session) onNotify(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	at := ss.s.now()
	if !ss.ours(req) {
		ss.respond(req, tx, 481, "Subscription Does Not Exist")
		return
	}
	n := notification{at: at}
	if cs := req.CSeq(); cs != nil {
		n.cseq = cs.SeqNo
	}
	if h := req.GetHeader("Subscription-State"); h != nil {
		state, params, _ := strings.Cut(h.Value(), ";")
		n.state = strings.ToLower(strings.TrimSpace(state))
		for p := range strings.SplitSeq(params, ";") {
			if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); strings.EqualFold(k, "reason") {
				n.reason = strings.TrimSpace(v)
			}
		}
	}
	body := req.Body()
	switch ct := req.ContentType(); {
	case len(strings.TrimSpace(string(body))) == 0:
		n.empty = n.state != "pending" && n.state != "terminated"
	case ct != nil && !strings.EqualFold(mediaType(ct.Value()), "application/dialog-info+xml"):
		n.err = fmt.Errorf("%w: content type %q", ErrMalformed, ct.Value())
	default:
		n.info, n.err = ParseDialogInfo(body)
	}
	if n.state == "terminated" {
		// The last NOTIFY of the subscription: handing it over makes the
		// session close its transport, so the 200 OK goes first (else the
		// phone system never hears it and retransmits to a closed port).
		ss.respond(req, tx, 200, "OK")
		select {
		case ss.notifies <- n:
		case <-ss.done:
		}
		return
	}
	// Any other NOTIFY is answered once it is queued: the phone system
	// sends the next one only after this answer, so they stay in order.
	select {
	case ss.notifies <- n:
		ss.respond(req, tx, 200, "OK")
	case <-ss.done:
		ss.respond(req, tx, 481, "Subscription Does Not Exist")
	}
}

// ours reports whether req belongs to this session's subscription.
func (ss *session) ours(req *sipmsg.Request) bool {
	id := req.CallID()
	to := req.To()
	if id == nil || to == nil || string(*id) != ss.callID {
		return false
	}
	tag, _ := to.Params.Get("tag")
	if tag != ss.fromTag {
		return false
	}
	if ev := req.GetHeader("Event"); ev != nil {
		name, _, _ := strings.Cut(ev.Value(), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "dialog") {
			return false
		}
	}
	return true
}

func (ss *session) respond(req *sipmsg.Request, tx sipmsg.ServerTransaction, code int, reason string) {
	if err := tx.Respond(sipmsg.NewResponseFromRequest(req, code, reason, nil)); err != nil {
		ss.log.Debug("answer NOTIFY", "error", err)
	}
}

func mediaType(v string) string {
	t, _, _ := strings.Cut(v, ";")
	return strings.TrimSpace(t)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
