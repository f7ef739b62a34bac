package testrig

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// KamailioOptions shape the test PBX.
type KamailioOptions struct {
	// Users maps extensions to digest passwords. When it is not empty, every
	// new SUBSCRIBE must authenticate as one of them (401, then digest).
	Users map[string]string
	// TLS adds a TLS listener with a certificate for 127.0.0.1 signed by a
	// CA made for the test (PBX.CAFile).
	TLS bool
	// Template is the path of the config template; default
	// sip/testdata/kamailio.cfg.tmpl in this module, or
	// internal/testrig/testdata/kamailio-rtpengine.cfg.tmpl with RTPEngine.
	Template string
	// RTPEngine, an rtpengine's ng address (RTPEngine.NG), puts that
	// rtpengine in the media path of every call, recording from the offer
	// of the initial INVITE on.
	RTPEngine string
	// RecordOnCommand, with RTPEngine, records nothing by itself: only
	// what callguard starts over ng (policy record.where pbx or both).
	RecordOnCommand bool
}

// PBX is a Kamailio started for one test: registrar, proxy and dialog
// event package server on free loopback ports, killed in t.Cleanup.
type PBX struct {
	opts    KamailioOptions
	dir     string
	port    int // UDP and TCP
	tlsPort int
	caFile  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	logs int           // how many times it was started, for log file names
}

// Kamailio starts a PBX for t and stops it when t ends. Without kamailio it
// skips (fails in CI). The log is printed if the test fails.
func Kamailio(t testing.TB, opts KamailioOptions) *PBX {
	t.Helper()
	NeedCommand(t, "kamailio")
	if _, err := os.Stat(kamailioModule("presence_dialoginfo.so")); err != nil {
		Need(t, "kamailio-presence-modules", err)
	}
	if opts.TLS {
		if _, err := os.Stat(kamailioModule("tls.so")); err != nil {
			Need(t, "kamailio-tls-modules", err)
		}
	}
	if opts.RTPEngine != "" {
		if _, err := os.Stat(kamailioModule("rtpengine.so")); err != nil {
			Need(t, "kamailio's rtpengine module", err)
		}
	}
	if opts.Template == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatalf("kamailio: %v", err)
		}
		opts.Template = filepath.Join(root, "sip", "testdata", "kamailio.cfg.tmpl")
		if opts.RTPEngine != "" {
			opts.Template = filepath.Join(root, "internal", "testrig", "testdata", "kamailio-rtpengine.cfg.tmpl")
		}
	}
	p := &PBX{opts: opts, dir: t.TempDir(), port: FreeUDPTCPPort(t)}
	if opts.TLS {
		p.tlsPort = FreePort(t, "tcp")
		if err := p.makeCerts(); err != nil {
			t.Fatalf("kamailio TLS certificates: %v", err)
		}
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("kamailio log:\n%s", p.Log())
		}
	})
	p.Start(t)
	return p
}

func kamailioModule(name string) string {
	return filepath.Join("/usr/lib/x86_64-linux-gnu/kamailio/modules", name)
}

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Addr is the PBX's host:port for transport "udp", "tcp" or "tls".
func (p *PBX) Addr(transport string) string {
	if transport == "tls" {
		if p.tlsPort == 0 {
			panic("testrig: PBX started without TLS")
		}
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.tlsPort))
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
}

// Domain is the SIP domain of the PBX's users.
func (p *PBX) Domain() string { return "127.0.0.1" }

// CAFile is the PEM file of the CA that signed the TLS certificate ("" without TLS).
func (p *PBX) CAFile() string { return p.caFile }

// Dir is the PBX's working directory (config, database, logs).
func (p *PBX) Dir() string { return p.dir }

// Start starts Kamailio (again, after Kill) on the same ports with an empty
// database, as after a crash that lost its state, and waits until it
// answers OPTIONS on UDP.
func (p *PBX) Start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		t.Fatal("kamailio: already running")
	}
	if err := p.writeConfig(); err != nil {
		t.Fatalf("kamailio config: %v", err)
	}
	p.logs++
	logf, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("kamailio.%d.log", p.logs)))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	var lastErr error
	// The TCP port may linger a moment after a kill: try again briefly.
	for attempt := 0; attempt < 20; attempt++ {
		cmd := exec.Command("kamailio", "-f", filepath.Join(p.dir, "kamailio.cfg"),
			"-P", filepath.Join(p.dir, "kamailio.pid"), "-Y", p.dir, "-DD", "-E", "-m", "48", "-M", "8")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start kamailio: %v", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		if lastErr = waitSIP(p.Addr("udp"), done, 5*time.Second); lastErr == nil {
			p.cmd, p.done = cmd, done
			return
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("kamailio did not start: %v\n%s", lastErr, p.Log())
}

// Kill kills Kamailio and all its processes with SIGKILL, as a crash would,
// and waits until they are gone.
func (p *PBX) Kill(t testing.TB) {
	t.Helper()
	if !p.stop() {
		t.Fatal("kamailio: not running")
	}
}

func (p *PBX) stop() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	// The children die too (same process group); wait until none holds the
	// UDP port any more. (Their zombies may outlive them: they hold nothing.)
	for range 200 {
		c, err := net.ListenPacket("udp", p.Addr("udp"))
		if err == nil {
			c.Close()
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.cmd, p.done = nil, nil
	return true
}

// Log returns what Kamailio logged, every run of it.
func (p *PBX) Log() string {
	files, _ := filepath.Glob(filepath.Join(p.dir, "kamailio.*.log"))
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "=== %s\n%s", filepath.Base(f), data)
	}
	return b.String()
}

func (p *PBX) writeConfig() error {
	db := filepath.Join(p.dir, "db")
	if err := os.RemoveAll(db); err != nil {
		return err
	}
	if err := os.MkdirAll(db, 0o755); err != nil {
		return err
	}
	for _, table := range []string{"version", "presentity", "active_watchers", "watchers", "xcap", "pua", "subscriber"} {
		data, err := os.ReadFile(filepath.Join("/usr/share/kamailio/dbtext/kamailio", table))
		if err != nil {
			return fmt.Errorf("db_text table %s: %w", table, err)
		}
		if table == "subscriber" {
			data = append(bytes.TrimRight(data, "\n"), '\n')
			id := 0
			for _, user := range sortedKeys(p.opts.Users) {
				id++
				pw, realm := p.opts.Users[user], p.Domain()
				ha1 := md5.Sum([]byte(user + ":" + realm + ":" + pw))
				ha1b := md5.Sum([]byte(user + "@" + realm + ":" + realm + ":" + pw))
				data = fmt.Appendf(data, "%d:%s:%s:%s:%x:%x\n", id, dbtext(user), dbtext(realm), dbtext(pw), ha1, ha1b)
			}
		}
		if err := os.WriteFile(filepath.Join(db, table), data, 0o644); err != nil {
			return err
		}
	}
	tmpl, err := template.ParseFiles(p.opts.Template)
	if err != nil {
		return err
	}
	var cfg bytes.Buffer
	err = tmpl.Execute(&cfg, map[string]any{
		"Port": p.port, "TLSPort": p.tlsPort, "TLS": p.opts.TLS, "Auth": len(p.opts.Users) > 0,
		"Dir": p.dir, "DBDir": db, "RTPEngine": p.opts.RTPEngine,
		"RecordOnCommand": p.opts.RecordOnCommand,
	})
	if err != nil {
		return err
	}
	if p.opts.TLS {
		tlsCfg := fmt.Sprintf("[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n"+
			"private_key = %[1]s/server.key\ncertificate = %[1]s/server.pem\n\n"+
			"[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n", p.dir)
		if err := os.WriteFile(filepath.Join(p.dir, "tls.cfg"), []byte(tlsCfg), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(p.dir, "kamailio.cfg"), cfg.Bytes(), 0o644)
}

// dbtext escapes a db_text column value.
func dbtext(s string) string {
	return strings.NewReplacer(`\`, `\\`, ":", `\:`, "\n", `\n`).Replace(s)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// makeCerts makes a CA and a server certificate for 127.0.0.1 it signed.
func (p *PBX) makeCerts() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "callguard test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	p.caFile = filepath.Join(p.dir, "ca.pem")
	files := map[string][]byte{
		p.caFile:                           pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		filepath.Join(p.dir, "server.pem"): pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		filepath.Join(p.dir, "server.key"): pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for name, data := range files {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// waitSIP sends OPTIONS over UDP to addr until anything answers, the
// process exits (done) or timeout passes.
func waitSIP(addr string, done <-chan struct{}, timeout time.Duration) error {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer c.Close()
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return err
	}
	local := c.LocalAddr().String()
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for i := 0; time.Now().Before(deadline); i++ {
		select {
		case <-done:
			return errors.New("kamailio exited")
		default:
		}
		msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-ping%d\r\n"+
			"From: <sip:ping@%s>;tag=ping%d\r\nTo: <sip:%s>\r\nCall-ID: ping%d@%s\r\nCSeq: 1 OPTIONS\r\n"+
			"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", addr, local, i, local, i, addr, i, local)
		if _, err := c.WriteTo([]byte(msg), raddr); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _, err := c.ReadFrom(buf); err == nil && bytes.HasPrefix(buf[:n], []byte("SIP/2.0 ")) {
			return nil
		}
	}
	return fmt.Errorf("no answer to OPTIONS on %s within %v", addr, timeout)
}
