package central_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/httpapi"
)

// short are timeouts a test can outlast in seconds.
var short = httpapi.Timeouts{ReadHeader: time.Second, Read: time.Second, Write: time.Second, Idle: time.Second, Stall: time.Second}

// served opens a server with short timeouts and serves it on loopback the
// way the real binary does.
func served(t *testing.T) (*central.Server, string) {
	t.Helper()
	dir := t.TempDir()
	srv, err := central.Open(context.Background(), central.Options{DB: filepath.Join(dir, "cg.db"), Logger: quiet(), BcryptCost: 4,
		Timeouts: short, Keepalive: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.ServeLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, url
}

// answeredCall is the event of a call answered now (a call from the
// past could be deleted by the retention run at the server's start).
func answeredCall(id string) string {
	now := time.Now().UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"events":[{"id":"%s-1","seq":1,"time":%q,"type":"call.answered","call_id":%q,
		"call":{"direction":"inbound","remote":{"number":"+441632960123"},"started":%q,"answered":%q,"recorded":true}}]}`, id, now, id, now, now)
}

// TestASlowBodyIsCutOff: an enrolment, or a recording chunk, that sends its
// body one byte every two seconds (it would take minutes) is cut off by
// the read timeout (the chunk: by its stall time).
func TestASlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	srv, url := served(t)
	olive := token(t, srv, "olive", server.RoleAgent)
	post(t, url+"/api/v1/events", olive, answeredCall("drip1"))
	for name, head := range map[string]string{
		"enrolment": "POST /api/v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
		"chunk":     "PUT /api/v1/recordings/drip1/audio?offset=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + olive + "\r\nContent-Length: 100000\r\n\r\nx",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			io.WriteString(conn, head)
			begun := time.Now()
			closed := make(chan time.Duration, 1)
			go func() {
				io.Copy(io.Discard, conn) // until the server closes the connection
				closed <- time.Since(begun)
			}()
			tick := time.NewTicker(2 * time.Second)
			defer tick.Stop()
			for {
				select {
				case took := <-closed:
					if took > 4*time.Second {
						t.Fatalf("the connection was closed after %v", took)
					}
					return
				case <-tick.C:
					if _, err := conn.Write([]byte(" ")); err != nil {
						return // closed while we wrote: cut off
					}
					if time.Since(begun) > 6*time.Second {
						t.Fatalf("a body sent at 1 byte per 2 s is still being read after %v", time.Since(begun).Round(time.Second))
					}
				}
			}
		})
	}
}

// TestLongStreamsOutliveTheTimeouts: the live board's stream and a slow
// large chunk upload each last several times the read and write timeouts.
func TestLongStreamsOutliveTheTimeouts(t *testing.T) {
	t.Parallel()
	srv, url := served(t)
	sup, olive := token(t, srv, "sue", server.RoleSupervisor), token(t, srv, "olive", server.RoleAgent)

	t.Run("live board", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest("GET", url+"/api/v1/live", nil)
		req.Header.Set("Authorization", "Bearer "+sup)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		begun := time.Now()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if time.Since(begun) > 3500*time.Millisecond {
				return // still streaming
			}
		}
		t.Fatalf("the live board's stream ended after %v: %v", time.Since(begun).Round(100*time.Millisecond), sc.Err())
	})

	t.Run("slow chunk", func(t *testing.T) {
		t.Parallel()
		post(t, url+"/api/v1/events", olive, answeredCall("slow1"))
		const size = 4 << 20
		pr, pw := io.Pipe()
		go func() {
			chunk := bytes.Repeat([]byte("a"), size/64)
			for range 64 { // 4 MiB in about 3.2 s
				time.Sleep(50 * time.Millisecond)
				if _, err := pw.Write(chunk); err != nil {
					return
				}
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("PUT", url+"/api/v1/recordings/slow1/audio?offset=0", pr)
		req.ContentLength = size
		req.Header.Set("Authorization", "Bearer "+olive)
		begun := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("slow upload after %v: %v", time.Since(begun), err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), fmt.Sprintf(`"size":%d`, size)) {
			t.Fatalf("slow upload of %d bytes in %v: %d %s", size, time.Since(begun).Round(100*time.Millisecond), resp.StatusCode, b)
		}
	})
}
