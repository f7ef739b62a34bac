package localapi_test

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/callguard/callguard/internal/testrig"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/callguard/callguard/app/localapi"
)

func TestMain(m *testing.M) {
	if addr := os.Getenv("LOCALAPI_HOLD"); addr != "" {
		holdPort(addr)
		return
	}
	os.Exit(m.Run())
}

// holdPort is the other program of the port tests: it listens on addr,
// says "ready", and answers anything with a page of its own until its
// stdin closes.
func holdPort(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "not callguard; got "+r.Header.Get("Authorization"))
	}))
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}

// otherProgram starts another process that holds addr.
func otherProgram(t *testing.T, addr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOCALAPI_HOLD="+addr)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("the other program could not listen on %s: %s", addr, line)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ipv6Loopback says why this computer has no IPv6 loopback, or nil.
func ipv6Loopback() error {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return err
	}
	return l.Close()
}

// TestTheLocalAPIRefusesAPortAnotherProgramHolds is issue 12 item 13's
// port attack: another program that listens on the local API's port (on
// 127.0.0.1, or only on ::1, where a browser's "localhost" may go) would
// receive the CRM's requests and their token. Listen refuses to start
// then, so the desktop can say so.
func TestTheLocalAPIRefusesAPortAnotherProgramHolds(t *testing.T) {
	t.Parallel()
	t.Run("on 127.0.0.1", func(t *testing.T) {
		port := freePort(t)
		otherProgram(t, fmt.Sprintf("127.0.0.1:%d", port))
		if l, err := localapi.Listen(fmt.Sprintf("127.0.0.1:%d", port)); !errors.Is(err, localapi.ErrPortTaken) {
			if l != nil {
				l.Close()
			}
			t.Fatalf("Listen = %v, want ErrPortTaken", err)
		}
	})
	t.Run("on ::1 only", func(t *testing.T) {
		testrig.Need(t, "an IPv6 loopback (::1)", ipv6Loopback())
		port := freePort(t)
		otherProgram(t, fmt.Sprintf("[::1]:%d", port))
		l, err := localapi.Listen(fmt.Sprintf("127.0.0.1:%d", port))
		if !errors.Is(err, localapi.ErrPortTaken) {
			if l != nil {
				l.Close()
			}
			t.Fatalf("Listen = %v, want ErrPortTaken: a page on http://localhost:%d would talk to the other program", err, port)
		}
		// Nothing was left open on 127.0.0.1.
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			t.Fatal("127.0.0.1 left listening after the refusal")
		}
	})
	t.Run("free: both loopbacks are ours", func(t *testing.T) {
		l, err := localapi.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "callguard") }))
		hosts := []string{"127.0.0.1"}
		if ipv6Loopback() == nil {
			hosts = append(hosts, "[::1]")
		}
		for _, h := range hosts {
			resp, err := http.Get(fmt.Sprintf("http://%s:%d/", h, port))
			if err != nil {
				t.Fatalf("%s: %v", h, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "callguard" {
				t.Fatalf("%s answered %q", h, b)
			}
		}
	})
}

// TestPrivateNetworkAccessPreflight: Chrome asks a public page's right to
// reach a loopback server with Access-Control-Request-Private-Network; the
// local API says yes to the origins the policy allows, and to no other.
func TestPrivateNetworkAccessPreflight(t *testing.T) {
	base, _ := serve(t)
	preflight := func(origin string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("OPTIONS", base+"/v1/pause", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Private-Network", "true")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := preflight("https://crm.example.org"); resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Fatalf("allowed origin: %d, Allow-Private-Network %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Private-Network"))
	}
	if resp := preflight("https://evil.example"); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Private-Network") != "" {
		t.Fatalf("another origin: %d, Allow-Private-Network %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Private-Network"))
	}
}
