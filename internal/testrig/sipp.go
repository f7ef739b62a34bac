package testrig

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// SIPp is a running SIPp process (Debian package sip-tester), killed when
// the test ends.
type SIPp struct {
	name    string
	port    int
	dir     string
	cmd     *exec.Cmd
	done    chan struct{}
	exitErr error
}

// Port is the local UDP port SIPp uses.
func (s *SIPp) Port() int { return s.port }

// Contact is SIPp's host:port, as registered for a phone.
func (s *SIPp) Contact() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Wait waits until SIPp exits and fails the test unless every call of its
// scenario succeeded.
func (s *SIPp) Wait(t testing.TB, timeout time.Duration) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.Kill()
		t.Fatalf("sipp %s: still running after %v\n%s", s.name, timeout, s.Errors())
	}
	if s.exitErr != nil {
		t.Fatalf("sipp %s: %v\n%s", s.name, s.exitErr, s.Errors())
	}
}

// Kill stops SIPp at once (SIGKILL) and waits for it.
func (s *SIPp) Kill() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// Errors returns SIPp's error log.
func (s *SIPp) Errors() string {
	data, _ := os.ReadFile(filepath.Join(s.dir, "errors.log"))
	return string(data)
}

// startSIPp runs sipp against the PBX's UDP address (or via, if not empty)
// with the scenario rendered from scenario and data; extra arguments follow.
func startSIPp(t testing.TB, pbx *PBX, via, name, scenario string, data any, args ...string) *SIPp {
	t.Helper()
	NeedCommand(t, "sipp")
	dir, err := os.MkdirTemp(pbx.dir, "sipp-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := template.Must(template.New(name).Parse(scenario))
	f, err := os.Create(filepath.Join(dir, "scenario.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.Execute(f, data); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if via == "" {
		via = pbx.Addr("udp")
	}
	// The port FreePort found free can be taken by another test's process
	// before SIPp binds it; SIPp then exits at once, and is started again
	// on another port.
	var s *SIPp
	for attempt := 1; ; attempt++ {
		s = &SIPp{name: name, dir: dir, port: FreePort(t, "udp"), done: make(chan struct{})}
		argv := append([]string{via, "-sf", filepath.Join(dir, "scenario.xml"),
			"-i", "127.0.0.1", "-p", strconv.Itoa(s.port), "-nostdin",
			"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
			"-trace_err", "-error_file", filepath.Join(dir, "errors.log")}, args...)
		s.cmd = exec.Command("sipp", argv...)
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := os.Create(filepath.Join(dir, "output.log"))
		if err != nil {
			t.Fatal(err)
		}
		s.cmd.Stdout, s.cmd.Stderr = out, out
		if err := s.cmd.Start(); err != nil {
			out.Close()
			t.Fatalf("start sipp: %v", err)
		}
		go func() {
			err := s.cmd.Wait()
			out.Close()
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				err = fmt.Errorf("exit status %d (%s)", exit.ExitCode(), sippStatus(exit.ExitCode()))
			}
			s.exitErr = err
			close(s.done)
		}()
		if s.waitBound() || attempt == 3 {
			break
		}
		t.Logf("sipp %s: exited before it bound port %d (%v), starting it again", name, s.port, s.exitErr)
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("sipp %s (port %d): %v\n%s", name, s.port, s.exitErr, s.logs())
		}
	})
	return s
}

// waitBound waits until SIPp has bound its SIP port, and reports false if
// it failed before it sent or received a single message (a port taken).
func (s *SIPp) waitBound() bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		select {
		case <-s.done:
			fi, err := os.Stat(filepath.Join(s.dir, "messages.log"))
			return s.exitErr == nil || (err == nil && fi.Size() > 0)
		default:
		}
		if udpBound(s.port) {
			return true
		}
	}
	return true // not seen bound, but running: let the test say what fails
}

// udpBound reports whether a socket is bound to UDP port on IPv4, from
// /proc/net/udp (reading it disturbs nobody, unlike trying to bind).
func udpBound(port int) bool {
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return true // no procfs: assume it is
	}
	suffix := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[1], suffix) {
			return true
		}
	}
	return false
}

// logs are the ends of SIPp's output, error log and message trace, for a
// failed test's log.
func (s *SIPp) logs() string {
	var b strings.Builder
	for _, name := range []string{"output.log", "errors.log", "messages.log"} {
		data, _ := os.ReadFile(filepath.Join(s.dir, name))
		if len(data) > 3000 {
			data = append([]byte("…"), data[len(data)-3000:]...)
		}
		fmt.Fprintf(&b, "=== %s\n%s\n", name, data)
	}
	return b.String()
}

func sippStatus(code int) string {
	switch code {
	case 1:
		return "at least one call failed"
	case 97:
		return "exit on internal command"
	case 99:
		return "no call processed"
	}
	return "fatal error"
}

// Register registers ext at the PBX with contact (host:port) as its phone,
// using SIPp, and waits for the 200.
func (p *PBX) Register(t testing.TB, ext, contact string) {
	t.Helper()
	s := startSIPp(t, p, "", "register-"+ext, registerScenario,
		map[string]string{"Ext": ext, "Contact": contact}, "-m", "1", "-timeout", "10s", "-timeout_error")
	s.Wait(t, 15*time.Second)
}

// PhoneOptions say how a SIPp phone answers.
type PhoneOptions struct {
	// RingFor is how long each call rings before the phone answers. A
	// caller that cancels sooner leaves the call missed. Default 300 ms.
	RingFor time.Duration
	// Never makes the phone ring until the caller gives up.
	Never bool
}

// SIPpPhone starts a SIPp UAS as the phone of extension ext and registers
// it: every call to ext rings (180) for opts.RingFor, is answered (200) and
// lasts until the caller hangs up. It serves any number of calls at once.
func SIPpPhone(t testing.TB, pbx *PBX, ext string, opts PhoneOptions) *SIPp {
	t.Helper()
	ring := opts.RingFor
	if ring <= 0 {
		ring = 300 * time.Millisecond
	}
	if opts.Never {
		ring = time.Hour
	}
	s := startSIPp(t, pbx, "", "phone-"+ext, phoneScenario,
		map[string]any{"Ext": ext, "RingMS": ring.Milliseconds()}, "-s", ext)
	pbx.Register(t, ext, s.Contact())
	return s
}

// SIPpCall places one call from extension from to extension to through the
// PBX with SIPp; once answered the caller holds for holdFor and hangs up.
// Wait for it with Wait.
func SIPpCall(t testing.TB, pbx *PBX, from, to string, holdFor time.Duration) *SIPp {
	t.Helper()
	return SIPpCallWith(t, pbx, from, to, CallOptions{HoldFor: holdFor})
}

// SIPpCallCancel places one call from extension from to extension to and
// gives up (CANCEL) after it has rung for ringFor.
func SIPpCallCancel(t testing.TB, pbx *PBX, from, to string, ringFor time.Duration) *SIPp {
	t.Helper()
	return SIPpCallWith(t, pbx, from, to, CallOptions{CancelAfter: ringFor})
}

// CallOptions shape a SIPp call.
type CallOptions struct {
	HoldFor     time.Duration // once answered, hang up after this long
	CancelAfter time.Duration // if > 0: give up (CANCEL) after ringing this long
	// Via is a host:port to send the caller's requests to instead of the
	// PBX's UDP address, e.g. a relay that notes when the INVITE left.
	// Responses come back directly.
	Via string
}

// SIPpCallWith places one call from extension from to extension to through
// the PBX with SIPp, as opts say.
func SIPpCallWith(t testing.TB, pbx *PBX, from, to string, opts CallOptions) *SIPp {
	t.Helper()
	name, scenario := "call-"+from+"-"+to, callScenario
	if opts.CancelAfter > 0 {
		name, scenario = "cancel-"+from+"-"+to, cancelScenario
	}
	return startSIPp(t, pbx, opts.Via, name, scenario,
		map[string]any{"From": from, "PBX": pbx.Addr("udp"), "HoldMS": opts.HoldFor.Milliseconds(), "RingMS": opts.CancelAfter.Milliseconds()},
		"-s", to, "-m", "1", "-timeout", "60s", "-timeout_error")
}

const registerScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="register">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{{.Ext}}@[remote_ip]>;tag=[pid]reg[call_number]
      To: <sip:{{.Ext}}@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:{{.Ext}}@{{.Contact}}>
      Expires: 3600
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
`

// phoneScenario rings, then answers unless the caller cancels first.
const phoneScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="phone">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="cseq"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
  <recv request="CANCEL" timeout="{{.RingMS}}" ontimeout="answer"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      CSeq: [$cseq] INVITE
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" next="end"/>
  <label id="answer"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio 40000 RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <label id="end"/>
</scenario>
`

const callInvite = `
      INVITE sip:[service]@{{.PBX}} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
      From: "Caller {{.From}}" <sip:{{.From}}@[remote_ip]>;tag=[pid]caller[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{{.From}}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio 40000 RTP/AVP 0
      a=rtpmap:0 PCMU/8000
`

// callScenario calls, holds after the answer, and hangs up, following the
// PBX's Record-Route for the ACK and BYE.
const callScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="call">
  <send retrans="500">
    <![CDATA[` + callInvite + `
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Caller {{.From}}" <sip:{{.From}}@[remote_ip]>;tag=[pid]caller[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="{{.HoldMS}}"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Caller {{.From}}" <sip:{{.From}}@[remote_ip]>;tag=[pid]caller[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
`

// cancelScenario calls and cancels after ringing for a while.
const cancelScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="cancel">
  <send retrans="500">
    <![CDATA[` + callInvite + `
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180"/>
  <pause milliseconds="{{.RingMS}}"/>
  <send retrans="500">
    <![CDATA[
      CANCEL sip:[service]@{{.PBX}} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
      From: "Caller {{.From}}" <sip:{{.From}}@[remote_ip]>;tag=[pid]caller[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <recv response="487"/>
  <send>
    <![CDATA[
      ACK sip:[service]@{{.PBX}} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
      From: "Caller {{.From}}" <sip:{{.From}}@[remote_ip]>;tag=[pid]caller[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
`
