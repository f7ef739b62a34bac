package sip

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// fakePBX is a scripted SIP peer built on sipgo, for the logic a real PBX
// will not show on demand: malformed bodies, partial documents, terminated
// subscriptions, 481 to a refresh. Tests against real phone systems use
// Kamailio (integration_test.go).
type fakePBX struct {
	ua     *sipgo.UserAgent
	client *sipgo.Client
	conn   net.PacketConn
	served chan struct{}
	subs   chan *sipmsg.Request

	mu      sync.Mutex
	answer  func(req *sipmsg.Request) (int, []sipmsg.Header) // status and extra headers for a SUBSCRIBE; default 200
	callID  string
	fromTag string // the watcher's tag
	toTag   string // ours
	contact sipmsg.Uri
	cseq    uint32
}

func newFakePBX(t testing.TB) *fakePBX {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("fakepbx"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakePBX{ua: ua, conn: pc, served: make(chan struct{}), subs: make(chan *sipmsg.Request, 16),
		toTag: sipmsg.GenerateTagN(8), cseq: 100}
	srv.OnSubscribe(f.onSubscribe)
	srv.OnOptions(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { srv.ServeUDP(pc); close(f.served) }()
	addr := pc.LocalAddr().String()
	for range 1000 {
		if c, err := ua.TransportLayer().GetConnection("udp", addr); err == nil {
			c.TryClose()
			break
		}
		time.Sleep(time.Millisecond)
	}
	f.client, err = sipgo.NewClient(ua, sipgo.WithClientAddr(addr), sipgo.WithClientConnectionAddr(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ua.Close()
		pc.Close()
		<-f.served
	})
	return f
}

// setAnswer scripts the answers to SUBSCRIBE: a status and extra headers.
func (f *fakePBX) setAnswer(answer func(req *sipmsg.Request) (int, []sipmsg.Header)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = answer
}

func (f *fakePBX) addr() string { return f.conn.LocalAddr().String() }

func (f *fakePBX) config() Config {
	return Config{Address: f.addr(), Transport: "udp", Extension: officer, Domain: "127.0.0.1", LocalAddr: "127.0.0.1:0"}
}

func (f *fakePBX) onSubscribe(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	f.mu.Lock()
	code, extra := 200, []sipmsg.Header(nil)
	if f.answer != nil {
		code, extra = f.answer(req)
	}
	res := sipmsg.NewResponseFromRequest(req, code, "Scripted", nil)
	for _, h := range extra {
		res.AppendHeader(h)
	}
	if code == 200 {
		to := res.To()
		if _, ok := to.Params.Get("tag"); !ok {
			to.Params.Add("tag", f.toTag)
		}
		f.callID = req.CallID().Value()
		f.fromTag, _ = req.From().Params.Get("tag")
		f.contact = *req.Contact().Address.Clone()
		res.AppendHeader(&sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", Host: "127.0.0.1", Port: f.conn.LocalAddr().(*net.UDPAddr).Port}})
		res.AppendHeader(req.GetHeader("Expires"))
	}
	f.mu.Unlock()
	tx.Respond(res)
	f.subs <- req
}

// waitSubscribe returns the next SUBSCRIBE the watcher sent.
func (f *fakePBX) waitSubscribe(t testing.TB, timeout time.Duration) *sipmsg.Request {
	t.Helper()
	select {
	case req := <-f.subs:
		return req
	case <-time.After(timeout):
		t.Fatalf("no SUBSCRIBE within %v", timeout)
	}
	return nil
}

// notify sends a NOTIFY in the current subscription and returns the status
// of the answer.
func (f *fakePBX) notify(t testing.TB, state, body string) int {
	t.Helper()
	return f.notifyAs(t, state, body, "")
}

// notifyAs is notify with another Call-ID when callID is not empty.
func (f *fakePBX) notifyAs(t testing.TB, state, body, callID string) int {
	t.Helper()
	req := f.notifyRequest(state, body, callID)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := f.client.Do(ctx, req)
	if err != nil {
		t.Fatalf("NOTIFY: %v", err)
	}
	return res.StatusCode
}

func (f *fakePBX) notifyRequest(state, body, callID string) *sipmsg.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	if callID == "" {
		callID = f.callID
	}
	req := sipmsg.NewRequest(sipmsg.NOTIFY, f.contact)
	from := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: officer, Host: "127.0.0.1"}, Params: sipmsg.NewParams()}
	from.Params.Add("tag", f.toTag)
	to := &sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", User: officer, Host: "127.0.0.1"}, Params: sipmsg.NewParams()}
	to.Params.Add("tag", f.fromTag)
	id := sipmsg.CallIDHeader(callID)
	f.cseq++
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&id)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: f.cseq, MethodName: sipmsg.NOTIFY})
	req.AppendHeader(sipmsg.NewHeader("Event", "dialog"))
	req.AppendHeader(sipmsg.NewHeader("Subscription-State", state))
	if body != "" {
		req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/dialog-info+xml"))
		req.SetBody([]byte(body))
	} else {
		req.SetBody(nil)
	}
	return req
}

// dialogDoc is a dialog-info body with one dialog per "id:state[:direction]".
func dialogDoc(version int, full bool, dialogs ...string) string {
	state := "partial"
	if full {
		state = "full"
	}
	s := fmt.Sprintf(`<?xml version="1.0"?>`+"\n"+`<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="%d" state="%s" entity="sip:1001@127.0.0.1">`, version, state)
	for _, d := range dialogs {
		var id, st, dir string
		fmt.Sscanf(replaceColons(d), "%s %s %s", &id, &st, &dir)
		if dir == "" {
			dir = "recipient"
		}
		s += fmt.Sprintf(`<dialog id="%s" call-id="c-%s" direction="%s"><state>%s</state>`+
			`<remote><identity>sip:07700900%s@127.0.0.1</identity></remote>`+
			`<local><identity>sip:1001@127.0.0.1</identity></local></dialog>`, id, id, dir, st, id)
	}
	return s + "</dialog-info>"
}

func replaceColons(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == ':' {
			b[i] = ' '
		}
	}
	return string(b)
}

func expiresOf(req *sipmsg.Request) int {
	if h := req.GetHeader("Expires"); h != nil {
		n, _ := strconv.Atoi(h.Value())
		return n
	}
	return -1
}
