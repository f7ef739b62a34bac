package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

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
