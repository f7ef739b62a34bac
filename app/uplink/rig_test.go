package uplink_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/outbox"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/httpapi"
)

func TestMain(m *testing.M) {
	if os.Getenv("UPLINK_CHILD") != "" {
		child()
		return
	}
	testrig.Main(m)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// rig is a real central server on a fixed loopback port, so it can be
// stopped and started again at the same address.
type rig struct {
	t    *testing.T
	db   string
	data string
	addr string
	url  string

	// rates are the server's allowances per device (zero: the defaults).
	rates httpapi.Rates
	// phone is the phone system's recorder the server commands (nil: none).
	phone httpapi.PhoneRecorder

	mu  sync.Mutex
	srv *central.Server
}

func newRig(t *testing.T, db string) *rig { return newRigWith(t, db, httpapi.Rates{}) }

// newRigWith is newRig with the server's allowances per device.
func newRigWith(t *testing.T, db string, rates httpapi.Rates) *rig {
	t.Helper()
	dir := t.TempDir()
	if db == "" {
		db = filepath.Join(dir, "cg.db")
	}
	r := &rig{t: t, db: db, data: filepath.Join(dir, "data"), addr: fmt.Sprintf("127.0.0.1:%d", testrig.FreePort(t, "tcp")), rates: rates}
	r.url = "http://" + r.addr
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *rig) start() {
	r.t.Helper()
	srv, err := central.Open(context.Background(), central.Options{DB: r.db, DataDir: r.data, Logger: quiet(), Embedded: true, BcryptCost: 4, Rates: r.rates,
		PhoneRecorder: r.phone})
	if err != nil {
		r.t.Fatal(err)
	}
	var l net.Listener
	for range 100 { // the port may linger for a moment after a stop
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		srv.Close()
		r.t.Fatal(err)
	}
	srv.Serve(l)
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
}

func (r *rig) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (r *rig) server() *central.Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.srv
}

// agent creates an agent through the embedded enrolment and returns its
// token and device id.
func (r *rig) agent(name string) (token, device string) {
	r.t.Helper()
	tok, err := r.server().EnrollLocal(context.Background(), name, name+"-pc")
	if err != nil {
		r.t.Fatal(err)
	}
	p, err := r.server().Store().Authenticate(context.Background(), auth.HashToken(tok))
	if err != nil {
		r.t.Fatal(err)
	}
	return tok, p.DeviceID
}

// user adds an account with a password.
func (r *rig) user(name string, role server.Role) {
	r.t.Helper()
	hash, _ := auth.HashPassword("password-1234", 4)
	if _, err := r.server().Store().CreateUser(context.Background(), name, role, hash, false); err != nil {
		r.t.Fatal(err)
	}
}

// stored returns how many events the device has on the server, how many
// distinct seqs and the highest.
func (r *rig) stored(device string) (events, seqs int) {
	r.t.Helper()
	n, s, err := r.server().Store().EventCount(context.Background(), device)
	if err != nil {
		r.t.Fatal(err)
	}
	return n, s
}

func static(tok string) func() (string, error) { return func() (string, error) { return tok, nil } }

// runClient runs a client until the test ends.
func runClient(t *testing.T, o uplink.Options) *uplink.Client {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quiet()
	}
	c := uplink.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return c
}

func openOutbox(t *testing.T, dir, device string) *outbox.Outbox {
	t.Helper()
	o, err := outbox.Open(dir, device, outbox.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func testEvent(i int) app.Event {
	return app.Event{ID: fmt.Sprintf("ev-%06d", i), Time: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond),
		Type: app.EventRecordingState, Agent: "olive", CallID: fmt.Sprintf("call-%03d", i/20), State: "recording"}
}

// child runs in a process of its own: it opens the outbox, runs a client
// against the parent's server and appends events as fast as it can,
// printing each seq once Append returned, until it is killed.
func child() {
	dir, url, tok := os.Getenv("UPLINK_CHILD_DIR"), os.Getenv("UPLINK_CHILD_URL"), os.Getenv("UPLINK_CHILD_TOKEN")
	ob, err := outbox.Open(dir, "child", outbox.WithLogger(quiet()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c := uplink.New(uplink.Options{BaseURL: url, Token: static(tok), Outbox: ob, Logger: quiet(), BatchSize: 50})
	go c.Run(context.Background())
	for i := int(ob.LastSeq()); ; i++ {
		if err := ob.Append(testEvent(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		c.Kick()
		fmt.Printf("%d\n", ob.LastSeq())
		if i%10 == 0 {
			time.Sleep(time.Millisecond) // let batches go out while we append
		}
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testrig.Eventually(t, d, cond, "%s", what)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
