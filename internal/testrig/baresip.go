package testrig

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Softphone is baresip running headless as the softphone of one extension,
// registered with a PBX over UDP and driven through its ctrl_tcp module
// (JSON commands in netstrings). Audio goes nowhere (aubridge), so no sound
// device is needed. It is killed when the test ends.
type Softphone struct {
	ext      string
	pbx      *PBX
	dir      string
	cmd      *exec.Cmd
	done     chan struct{}
	conn     net.Conn
	readDone chan struct{} // closed when the ctrl_tcp reader has stopped

	mu        sync.Mutex
	cond      *sync.Cond
	events    []BaresipEvent
	responses []baresipResponse
	readErr   error
}

// BaresipEvent is an event baresip reports, such as CALL_INCOMING,
// CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED or REGISTER_OK.
type BaresipEvent struct {
	Type      string `json:"type"`
	Class     string `json:"class"`
	Direction string `json:"direction"`
	PeerURI   string `json:"peeruri"`
	ID        string `json:"id"` // the call's SIP Call-ID
	Param     string `json:"param"`
}

type baresipResponse struct {
	OK   bool   `json:"ok"`
	Data string `json:"data"`
}

// Baresip starts baresip as extension ext's softphone, registers it with
// pbx and waits for the registration. Calls ring until Accept (answermode
// manual).
func Baresip(t testing.TB, pbx *PBX, ext string) *Softphone {
	t.Helper()
	NeedCommand(t, "baresip")
	dir, err := os.MkdirTemp(pbx.dir, "baresip-"+ext+"-")
	if err != nil {
		t.Fatal(err)
	}
	sipPort := freeBaresipPort(t)
	ctrlPort := FreePort(t, "tcp")
	config := fmt.Sprintf(`poll_method		epoll
sip_listen		127.0.0.1:%d
call_local_timeout	120
call_max_calls		4
audio_player		aubridge,callguard
audio_source		aubridge,callguard
audio_alert		aubridge,callguard
module_path		/usr/lib/baresip/modules
module			g711.so
module			aubridge.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:%d
`, sipPort, ctrlPort)
	account := fmt.Sprintf("<sip:%s@%s>;outbound=\"sip:%s\";regint=3600;answermode=manual\n",
		ext, pbx.Domain(), pbx.Addr("udp"))
	for name, data := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &Softphone{ext: ext, pbx: pbx, dir: dir, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	logf, err := os.Create(filepath.Join(dir, "baresip.log"))
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command("baresip", "-f", dir)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start baresip: %v", err)
	}
	logf.Close()
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			data, _ := os.ReadFile(filepath.Join(dir, "baresip.log"))
			t.Logf("baresip %s log:\n%s", ext, data)
		}
	})

	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ctrlPort)))
		if err == nil {
			p.conn = c
			break
		}
		select {
		case <-p.done:
			t.Fatalf("baresip exited at start")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip ctrl_tcp: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.readDone = make(chan struct{})
	go p.read()
	// The registration may be over before ctrl_tcp had a client to tell:
	// ask for it rather than wait for its event.
	for !strings.Contains(p.command(t, "reginfo", ""), "OK") {
		if time.Now().After(deadline) {
			t.Fatalf("baresip %s did not register", ext)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// freeBaresipPort finds a port free for UDP and TCP whose successor is free
// for TCP too: baresip also listens for SIP over TLS on the next port.
func freeBaresipPort(t testing.TB) int {
	for range 50 {
		p := FreeUDPTCPPort(t)
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+1))); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no port pair free for baresip")
	return 0
}

// URI is the softphone's address of record.
func (p *Softphone) URI() string { return "sip:" + p.ext + "@" + p.pbx.Domain() }

// Dial calls target: an extension, or a full SIP URI.
func (p *Softphone) Dial(t testing.TB, target string) {
	t.Helper()
	p.command(t, "dial", p.target(target))
}

// Accept answers the ringing call.
func (p *Softphone) Accept(t testing.TB) { t.Helper(); p.command(t, "accept", "") }

// Hangup ends the current call.
func (p *Softphone) Hangup(t testing.TB) { t.Helper(); p.command(t, "hangup", "") }

// Hold puts the current call on hold (re-INVITE, sendonly).
func (p *Softphone) Hold(t testing.TB) { t.Helper(); p.command(t, "hold", "") }

// Transfer transfers the current call to target (a blind transfer: REFER).
func (p *Softphone) Transfer(t testing.TB, target string) {
	t.Helper()
	p.command(t, "transfer", p.target(target))
}

func (p *Softphone) target(target string) string {
	if strings.HasPrefix(target, "sip:") {
		return target
	}
	return "sip:" + target + "@" + p.pbx.Domain()
}

// WaitEvent waits for the next event of type typ, skipping others, and
// returns it.
func (p *Softphone) WaitEvent(t testing.TB, typ string, timeout time.Duration) BaresipEvent {
	t.Helper()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { p.mu.Lock(); p.cond.Broadcast(); p.mu.Unlock() })
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.events) > 0 {
			ev := p.events[0]
			p.events = p.events[1:]
			if ev.Type == typ {
				return ev
			}
		}
		if p.readErr != nil {
			t.Fatalf("baresip %s: waiting for %s: %v", p.ext, typ, p.readErr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip %s: no %s within %v", p.ext, typ, timeout)
		}
		p.cond.Wait()
	}
}

// command sends a ctrl_tcp command, waits for its response and returns
// its text.
func (p *Softphone) command(t testing.TB, cmd, params string) string {
	t.Helper()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": cmd})
	if _, err := fmt.Fprintf(p.conn, "%d:%s,", len(msg), msg); err != nil {
		t.Fatalf("baresip %s %s: %v", p.ext, cmd, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	timer := time.AfterFunc(5*time.Second, func() { p.mu.Lock(); p.cond.Broadcast(); p.mu.Unlock() })
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.responses) == 0 {
		if p.readErr != nil || time.Now().After(deadline) {
			t.Fatalf("baresip %s %s: no response (%v)", p.ext, cmd, p.readErr)
		}
		p.cond.Wait()
	}
	res := p.responses[0]
	p.responses = p.responses[1:]
	if !res.OK {
		t.Fatalf("baresip %s %s %q: failed: %s", p.ext, cmd, params, res.Data)
	}
	return res.Data
}

// read decodes netstrings from ctrl_tcp into events and responses.
func (p *Softphone) read() {
	defer close(p.readDone)
	r := bufio.NewReader(p.conn)
	err := func() error {
		for {
			lenStr, err := r.ReadString(':')
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(lenStr[:len(lenStr)-1])
			if err != nil || n < 0 || n > 1<<20 {
				return fmt.Errorf("bad netstring length %q", lenStr)
			}
			buf := make([]byte, n+1)
			if _, err := io.ReadFull(r, buf); err != nil {
				return err
			}
			if buf[n] != ',' {
				return errors.New("netstring without trailing comma")
			}
			var kind struct {
				Event    bool `json:"event"`
				Response bool `json:"response"`
			}
			if err := json.Unmarshal(buf[:n], &kind); err != nil {
				return fmt.Errorf("ctrl_tcp: %w", err)
			}
			p.mu.Lock()
			switch {
			case kind.Event:
				var ev BaresipEvent
				json.Unmarshal(buf[:n], &ev)
				p.events = append(p.events, ev)
			case kind.Response:
				var res baresipResponse
				json.Unmarshal(buf[:n], &res)
				p.responses = append(p.responses, res)
			}
			p.cond.Broadcast()
			p.mu.Unlock()
		}
	}()
	p.mu.Lock()
	p.readErr = err
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *Softphone) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	if p.conn != nil {
		p.conn.Close()
		<-p.readDone
	}
}
