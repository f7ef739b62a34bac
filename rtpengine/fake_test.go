package rtpengine

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/rtpengine/bencode"
)

// fakeNG is a UDP peer that speaks just enough ng for the client's
// protocol tests: handle decides, for each datagram received, what to send
// back and when.
type fakeNG struct {
	t      testing.TB
	conn   net.PacketConn
	handle func(r request) []reply

	mu  sync.Mutex
	got []request
	wg  sync.WaitGroup
}

// request is one datagram the fake received.
type request struct {
	n      int // 0 for the first datagram received
	raw    []byte
	cookie string
	cmd    bencode.Dict // nil if it did not decode
	at     time.Time
}

// reply is one datagram to send back after a delay.
type reply struct {
	data  []byte
	after time.Duration
}

// answerTo is the datagram rtpengine would send for cookie with body d.
func answerTo(cookie string, d bencode.Dict) []byte {
	b, err := bencode.Marshal(d)
	if err != nil {
		panic(err)
	}
	return append([]byte(cookie+" "), b...)
}

func ok(r request) []reply { return []reply{{data: answerTo(r.cookie, bencode.Dict{"result": "ok"})}} }

func newFakeNG(t testing.TB, handle func(r request) []reply) *fakeNG {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNG{t: t, conn: conn, handle: handle}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() {
		conn.Close()
		f.wg.Wait()
	})
	return f
}

func (f *fakeNG) addr() string { return f.conn.LocalAddr().String() }

func (f *fakeNG) serve() {
	defer f.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := f.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		raw := append([]byte(nil), buf[:n]...)
		r := request{raw: raw, at: time.Now()}
		if sp := bytes.IndexByte(raw, ' '); sp > 0 {
			r.cookie = string(raw[:sp])
			r.cmd, _ = bencode.UnmarshalDict(raw[sp+1:])
		}
		f.mu.Lock()
		r.n = len(f.got)
		f.got = append(f.got, r)
		f.mu.Unlock()
		for _, rep := range f.handle(r) {
			if rep.after == 0 {
				f.conn.WriteTo(rep.data, from)
				continue
			}
			f.wg.Add(1)
			time.AfterFunc(rep.after, func() {
				defer f.wg.Done()
				f.conn.WriteTo(rep.data, from)
			})
		}
	}
}

func (f *fakeNG) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.got...)
}
