package sip

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
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
