package sip

import (
	"bytes"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
)

const officer = "1001"

func cfgFor(pbx *testrig.PBX, transport string) Config {
	return Config{Address: pbx.Addr(transport), Transport: transport, Extension: officer, Domain: pbx.Domain(), CAFile: pbx.CAFile()}
}

func TestInboundAnswered(t *testing.T) {
	for _, transport := range []string{"udp", "tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			pbx := testrig.Kamailio(t, testrig.KamailioOptions{TLS: transport == "tls"})
			testrig.SIPpPhone(t, pbx, officer, testrig.PhoneOptions{RingFor: 300 * time.Millisecond})
			w := watch(t, cfgFor(pbx, transport), fastOptions()...)
			w.expect(t, 5*time.Second, "link-up")

			relay := newInviteRelay(t, pbx.Addr("udp"))
			call := testrig.SIPpCallWith(t, pbx, "3000", officer, testrig.CallOptions{HoldFor: 500 * time.Millisecond, Via: relay.addr()})
			evs := w.expect(t, 5*time.Second, "ringing A inbound 3000")
			ringTaken := w.lastTaken()
			w.expect(t, 5*time.Second,
				"answered A inbound 3000",
				"ended A inbound 3000")
			call.Wait(t, 10*time.Second)
			ring := evs[0]
			sent := relay.lastInvite()
			t.Logf("%s: INVITE → NOTIFY received (the event's At) %v, → Ringing event taken from Events %v",
				transport, ring.At.Sub(sent).Round(10*time.Microsecond), ringTaken.Sub(sent).Round(10*time.Microsecond))
			if ring.Local.Number != officer || ring.CallID == "" || ring.Remote.URI == "" {
				t.Errorf("ringing event lacks facts: %+v", ring)
			}
			w.quiet(t, 300*time.Millisecond)
		})
	}
}

func TestOutboundFromBaresip(t *testing.T) {
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
	testrig.SIPpPhone(t, pbx, "2000", testrig.PhoneOptions{RingFor: 400 * time.Millisecond})
	phone := testrig.Baresip(t, pbx, officer)
	w := watch(t, cfgFor(pbx, "udp"), fastOptions()...)
	w.expect(t, 5*time.Second, "link-up")

	phone.Dial(t, "2000")
	w.expect(t, 5*time.Second,
		"ringing A outbound 2000",
		"answered A outbound 2000")
	phone.WaitEvent(t, "CALL_ESTABLISHED", 5*time.Second)
	phone.Hangup(t)
	w.expect(t, 5*time.Second, "ended A outbound 2000")
	w.quiet(t, 300*time.Millisecond)
}

func TestInboundMissed(t *testing.T) {
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
	testrig.SIPpPhone(t, pbx, officer, testrig.PhoneOptions{Never: true})
	w := watch(t, cfgFor(pbx, "udp"), fastOptions()...)
	w.expect(t, 5*time.Second, "link-up")

	call := testrig.SIPpCallCancel(t, pbx, "3000", officer, 600*time.Millisecond)
	w.expect(t, 5*time.Second,
		"ringing A inbound 3000",
		"ended A inbound 3000 missed")
	call.Wait(t, 10*time.Second)
	w.quiet(t, 300*time.Millisecond)
}

// Call waiting: a second call rings and is answered while the first goes on.
func TestCallWaiting(t *testing.T) {
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
	testrig.SIPpPhone(t, pbx, officer, testrig.PhoneOptions{RingFor: 200 * time.Millisecond})
	w := watch(t, cfgFor(pbx, "udp"), fastOptions()...)
	w.expect(t, 5*time.Second, "link-up")

	first := testrig.SIPpCall(t, pbx, "3000", officer, 3*time.Second)
	w.expect(t, 5*time.Second, "ringing A inbound 3000", "answered A inbound 3000")
	second := testrig.SIPpCall(t, pbx, "3001", officer, 500*time.Millisecond)
	w.expect(t, 5*time.Second,
		"ringing B inbound 3001",
		"answered B inbound 3001",
		"ended B inbound 3001",
		"ended A inbound 3000")
	first.Wait(t, 10*time.Second)
	second.Wait(t, 10*time.Second)
	w.quiet(t, 300*time.Millisecond)
}

// Consultation: the officer holds a caller, dials a colleague, talks,
// hangs up on the colleague and goes back to the caller: two dialogs, one
// in each direction.
func TestConsultationCall(t *testing.T) {
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
	testrig.SIPpPhone(t, pbx, "2000", testrig.PhoneOptions{RingFor: 200 * time.Millisecond})
	phone := testrig.Baresip(t, pbx, officer)
	caller := testrig.Baresip(t, pbx, "3000") // SIPp's caller would not take the hold re-INVITE
	w := watch(t, cfgFor(pbx, "udp"), fastOptions()...)
	w.expect(t, 5*time.Second, "link-up")

	caller.Dial(t, officer)
	w.expect(t, 5*time.Second, "ringing A inbound 3000")
	phone.WaitEvent(t, "CALL_INCOMING", 5*time.Second)
	phone.Accept(t)
	w.expect(t, 5*time.Second, "answered A inbound 3000")
	phone.WaitEvent(t, "CALL_ESTABLISHED", 5*time.Second)

	phone.Hold(t)
	phone.Dial(t, "2000")
	w.expect(t, 5*time.Second, "ringing B outbound 2000", "answered B outbound 2000")
	phone.WaitEvent(t, "CALL_ESTABLISHED", 5*time.Second)
	phone.Hangup(t) // the current call: the colleague
	w.expect(t, 5*time.Second, "ended B outbound 2000")
	w.quiet(t, 300*time.Millisecond) // the caller is still there, on hold
	caller.Hangup(t)
	w.expect(t, 5*time.Second, "ended A inbound 3000")
	w.quiet(t, 300*time.Millisecond)
}

// Blind transfer: the officer answers and transfers the caller (REFER) to
// a colleague; the caller's softphone calls the colleague and leaves the
// officer. For the officer's extension that is one dialog that ends.
func TestBlindTransfer(t *testing.T) {
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
	testrig.SIPpPhone(t, pbx, "2000", testrig.PhoneOptions{RingFor: 200 * time.Millisecond})
	phone := testrig.Baresip(t, pbx, officer)
	caller := testrig.Baresip(t, pbx, "3000")
	w := watch(t, cfgFor(pbx, "udp"), fastOptions()...)
	w.expect(t, 5*time.Second, "link-up")

	caller.Dial(t, officer)
	w.expect(t, 5*time.Second, "ringing A inbound 3000")
	phone.WaitEvent(t, "CALL_INCOMING", 5*time.Second)
	phone.Accept(t)
	w.expect(t, 5*time.Second, "answered A inbound 3000")
	phone.WaitEvent(t, "CALL_ESTABLISHED", 5*time.Second)

	caller.WaitEvent(t, "CALL_ESTABLISHED", 5*time.Second) // with the officer

	phone.Transfer(t, "2000")
	w.expect(t, 5*time.Second, "ended A inbound 3000")
	if ev := caller.WaitEvent(t, "CALL_ESTABLISHED", 5*time.Second); !strings.Contains(ev.PeerURI, "2000") {
		t.Errorf("the caller was connected to %s, want the colleague 2000", ev.PeerURI)
	}
	if !strings.Contains(pbx.Log(), "req REFER") {
		t.Errorf("no REFER went through the PBX")
	}
	w.quiet(t, 500*time.Millisecond)
	caller.Hangup(t)
	w.quiet(t, 300*time.Millisecond)
}

// Kamailio killed with SIGKILL mid-call: LinkLost at once; once it is back
// (with its state lost), the call it forgot ends ("gone") before LinkUp, and
// new calls show again.
func TestPBXKilledAndRestarted(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
			phone := testrig.SIPpPhone(t, pbx, officer, testrig.PhoneOptions{RingFor: 200 * time.Millisecond})
			w := watch(t, cfgFor(pbx, transport), fastOptions()...)
			w.expect(t, 5*time.Second, "link-up")

			call := testrig.SIPpCall(t, pbx, "3000", officer, time.Minute)
			w.expect(t, 5*time.Second, "ringing A inbound 3000", "answered A inbound 3000")
			killed := time.Now()
			pbx.Kill(t)
			lost := w.expect(t, 3*time.Second, "link-lost")[0]
			t.Logf("%s: LinkLost %v after SIGKILL (keepalive every 300 ms, 600 ms to answer): %s",
				transport, lost.At.Sub(killed).Round(time.Millisecond), lost.Reason)
			if lost.Reason == "" {
				t.Errorf("LinkLost without a reason")
			}
			call.Kill()

			restarted := time.Now()
			pbx.Start(t)
			answering := time.Since(restarted)
			up := w.expect(t, 5*time.Second, "ended A inbound 3000 gone", "link-up")[1]
			t.Logf("%s: LinkUp %v after starting Kamailio again (which answered OPTIONS after %v)",
				transport, up.At.Sub(restarted).Round(time.Millisecond), answering.Round(time.Millisecond))

			pbx.Register(t, officer, phone.Contact()) // the restart lost the registration too
			again := testrig.SIPpCall(t, pbx, "3001", officer, 300*time.Millisecond)
			w.expect(t, 5*time.Second,
				"ringing B inbound 3001",
				"answered B inbound 3001",
				"ended B inbound 3001")
			again.Wait(t, 10*time.Second)
			w.quiet(t, 300*time.Millisecond)
		})
	}
}

// The phone system is down when callguard starts: LinkLost first (once,
// however often the retries fail), LinkUp when it comes.
func TestPBXDownAtStart(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
			pbx.Kill(t)
			w := watch(t, cfgFor(pbx, transport), fastOptions()...)
			w.expect(t, 3*time.Second, "link-lost")
			w.quiet(t, 1500*time.Millisecond) // several retries fail meanwhile
			pbx.Start(t)
			w.expect(t, 5*time.Second, "link-up")
		})
	}
}

func TestDigestAuth(t *testing.T) {
	const password = "s3cret-Pw:1"
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{Users: map[string]string{officer: password}})
	testrig.SIPpPhone(t, pbx, officer, testrig.PhoneOptions{RingFor: 200 * time.Millisecond})

	t.Run("right password", func(t *testing.T) {
		cfg := cfgFor(pbx, "udp")
		cfg.Password = password
		w := watch(t, cfg, fastOptions()...)
		w.expect(t, 5*time.Second, "link-up")
		if n := strings.Count(pbx.Log(), "req SUBSCRIBE"); n < 2 {
			t.Errorf("%d SUBSCRIBEs reached the PBX, want the challenged one and the authenticated one", n)
		}
		call := testrig.SIPpCall(t, pbx, "3000", officer, 300*time.Millisecond)
		w.expect(t, 5*time.Second, "ringing A inbound 3000", "answered A inbound 3000", "ended A inbound 3000")
		call.Wait(t, 10*time.Second)
	})
	for name, tc := range map[string]struct {
		password string
		want     error
	}{
		"wrong password": {"not-" + password, ErrAuth},
		"no password":    {"", ErrNoPassword},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := cfgFor(pbx, "udp")
			cfg.Password = tc.password
			w := watch(t, cfg, fastOptions()...)
			lost := w.expect(t, 5*time.Second, "link-lost")[0]
			if lost.Reason != tc.want.Error() {
				t.Errorf("LinkLost reason %q, want %q", lost.Reason, tc.want)
			}
			w.quiet(t, time.Second)
		})
	}
}

// A subscription granted for 2 s is refreshed every second and never lapses.
func TestRefreshBeforeExpiry(t *testing.T) {
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
	testrig.SIPpPhone(t, pbx, officer, testrig.PhoneOptions{RingFor: 200 * time.Millisecond})
	cfg := cfgFor(pbx, "udp")
	cfg.Expires = 2 * time.Second
	w := watch(t, cfg, fastOptions()...)
	w.expect(t, 5*time.Second, "link-up")
	w.quiet(t, 4500*time.Millisecond)
	if n := strings.Count(pbx.Log(), "req SUBSCRIBE"); n < 4 {
		t.Errorf("%d SUBSCRIBEs in 4.5 s with a 2 s lifetime; want the first and at least 3 refreshes", n)
	}
	call := testrig.SIPpCall(t, pbx, "3000", officer, 300*time.Millisecond)
	w.expect(t, 5*time.Second, "ringing A inbound 3000", "answered A inbound 3000", "ended A inbound 3000")
	call.Wait(t, 10*time.Second)
}

// The wall time from the caller's INVITE leaving to the Ringing event being
// taken from Events, over several calls (UDP). A relay between SIPp and
// Kamailio notes when each INVITE passes, more precisely than SIPp's trace.
func TestInviteToRingingLatency(t *testing.T) {
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
	testrig.SIPpPhone(t, pbx, officer, testrig.PhoneOptions{RingFor: 100 * time.Millisecond})
	relay := newInviteRelay(t, pbx.Addr("udp"))
	w := watch(t, cfgFor(pbx, "udp"), fastOptions()...)
	w.expect(t, 5*time.Second, "link-up")
	var lat []time.Duration
	for i := range 5 {
		call := testrig.SIPpCallWith(t, pbx, "3000", officer, testrig.CallOptions{HoldFor: 100 * time.Millisecond, Via: relay.addr()})
		label := string(rune('A' + i))
		w.expect(t, 5*time.Second, "ringing "+label+" inbound 3000")
		taken := w.lastTaken()
		w.expect(t, 5*time.Second, "answered "+label+" inbound 3000", "ended "+label+" inbound 3000")
		call.Wait(t, 10*time.Second)
		lat = append(lat, taken.Sub(relay.lastInvite()))
	}
	slices.Sort(lat)
	t.Logf("INVITE → Ringing event over %d calls: min %v, median %v, max %v",
		len(lat), lat[0].Round(10*time.Microsecond), lat[len(lat)/2].Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	if lat[0] <= 0 || lat[len(lat)/2] > 500*time.Millisecond {
		t.Errorf("INVITE → Ringing %v: not within a fraction of a second", lat)
	}
}

// inviteRelay forwards UDP datagrams to a PBX and notes when the last
// INVITE passed. Answers go straight back (they follow the Via).
type inviteRelay struct {
	conn net.PacketConn
	mu   sync.Mutex
	at   time.Time
	done chan struct{}
}

func newInviteRelay(t *testing.T, to string) *inviteRelay {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dst, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	r := &inviteRelay{conn: pc, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if bytes.HasPrefix(buf[:n], []byte("INVITE ")) {
				r.mu.Lock()
				r.at = time.Now()
				r.mu.Unlock()
			}
			pc.WriteTo(buf[:n], dst)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-r.done })
	return r
}

func (r *inviteRelay) addr() string { return r.conn.LocalAddr().String() }

func (r *inviteRelay) lastInvite() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at
}
