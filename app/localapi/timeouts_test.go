package localapi_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
	"github.com/callguard/callguard/app/localapi"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

// serveShort is serve with timeouts a test outlasts in seconds.
func serveShort(t *testing.T) string {
	t.Helper()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	core := app.NewCore(app.MachineConfig{
		Policy: pol, Agent: app.AgentView{ID: "1001"}, Manual: true,
		Recorder: &apptest.Recorder{}, Sink: apptest.Discard{},
		Logger: slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(context.Background())
	l, err := localapi.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := localapi.New(core, localapi.Options{
		Token: token, Logger: slog.New(slog.DiscardHandler), KeepAlive: 200 * time.Millisecond,
		Timeouts: localapi.Timeouts{ReadHeader: time.Second, Read: time.Second, Write: time.Second, Idle: time.Second, Stall: time.Second},
	})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); core.Run(ctx) }()
	go func() { defer wg.Done(); api.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return l.Addr().String()
}

// TestLocalAPISlowBodyIsCutOff: a pause sent one byte every two seconds is
// cut off by the read timeout instead of holding a connection for minutes.
func TestLocalAPISlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	addr := serveShort(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /v1/pause HTTP/1.1\r\nHost: "+addr+"\r\nAuthorization: Bearer "+token+"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	begun := time.Now()
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, conn)
		close(closed)
	}()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			if took := time.Since(begun); took > 4*time.Second {
				t.Fatalf("closed after %v", took)
			}
			return
		case <-tick.C:
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
			if time.Since(begun) > 6*time.Second {
				t.Fatalf("a body sent at 1 byte per 2 s is still being read after %v", time.Since(begun).Round(time.Second))
			}
		}
	}
}

// TestLocalAPIEventStreamOutlivesTheTimeouts: /v1/events streams for
// several times the read and write timeouts.
func TestLocalAPIEventStreamOutlivesTheTimeouts(t *testing.T) {
	t.Parallel()
	addr := serveShort(t)
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	begun := time.Now()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), ":") && time.Since(begun) > 3500*time.Millisecond {
			return
		}
	}
	t.Fatalf("the event stream ended after %v: %v", time.Since(begun).Round(100*time.Millisecond), sc.Err())
}
