package testrig

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
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
	"time"
)

// RTPEngineOptions shape a test rtpengine.
type RTPEngineOptions struct {
	// Format is rtpengine's recording-format: "eth" (Ethernet frames, the
	// default) or "raw" (bare IP packets).
	Format string
}

// RTPEngine is an rtpengine 10.5 (Debian rtpengine-daemon) running in
// userspace for one test: no kernel module (table = -1), recording every
// call it is told to record as pcap files (recording-method = pcap), its ng
// control port and media ports on loopback. It is killed in t.Cleanup and
// its log printed if the test failed.
type RTPEngine struct {
	dir     string
	ngPort  int
	portMin int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRTPEngine starts rtpengine for t and waits until it answers ng ping.
// Without rtpengine it skips (fails in CI).
func StartRTPEngine(t testing.TB, opts RTPEngineOptions) *RTPEngine {
	t.Helper()
	bin := NeedCommand(t, "rtpengine")
	if opts.Format == "" {
		opts.Format = "eth"
	}
	r := &RTPEngine{dir: t.TempDir(), ngPort: FreePort(t, "udp")}
	// rtpengine skips media ports it cannot bind, so a range that other
	// programs partly use is fine.
	r.portMin = FreePort(t, "udp") &^ 1
	if r.portMin > 65535-200 {
		r.portMin = 65535 - 200
	}
	conf := fmt.Sprintf(`[rtpengine]
table = -1
interface = 127.0.0.1
listen-ng = 127.0.0.1:%d
port-min = %d
port-max = %d
timeout = 60
recording-dir = %s
recording-method = pcap
recording-format = %s
log-level = 6
delete-delay = 0
`, r.ngPort, r.portMin, r.portMin+199, r.RecordingDir(), opts.Format)
	cfg := filepath.Join(r.dir, "rtpengine.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.RecordingDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(r.dir, "rtpengine.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	r.cmd = exec.Command(bin, "--config-file="+cfg, "--config-section=rtpengine", "--foreground",
		"--log-stderr", "--pidfile="+filepath.Join(r.dir, "rtpengine.pid"))
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start rtpengine: %v", err)
	}
	r.done = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			t.Logf("rtpengine log:\n%s", r.Log())
		}
	})
	if err := waitNG(r.NG(), r.done, 10*time.Second); err != nil {
		t.Fatalf("rtpengine did not start: %v\n%s", err, r.Log())
	}
	return r
}

// NG is rtpengine's ng control address, host:port.
func (r *RTPEngine) NG() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.ngPort)) }

// RecordingDir is rtpengine's recording-dir: it writes each recorded
// stretch of a call to pcaps/ and, once the stretch's file is closed, its
// metadata file to metadata/.
func (r *RTPEngine) RecordingDir() string { return filepath.Join(r.dir, "rec") }

// Log returns what rtpengine logged.
func (r *RTPEngine) Log() string {
	data, _ := os.ReadFile(filepath.Join(r.dir, "rtpengine.log"))
	return string(data)
}

// Count returns how many lines of the log contain s.
func (r *RTPEngine) Count(s string) int { return strings.Count(r.Log(), s) }

// Kill kills rtpengine with SIGKILL, as a crash would, and waits until it
// is gone.
func (r *RTPEngine) Kill(t testing.TB) {
	t.Helper()
	if !r.stop() {
		t.Fatal("rtpengine: not running")
	}
}

func (r *RTPEngine) stop() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return false
	}
	syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	<-r.done
	r.cmd = nil
	return true
}

// Stretch is one recorded stretch of a call: rtpengine starts a new pcap
// file each time recording starts, and writes its metadata file once the
// pcap is closed (recording stopped, call deleted).
type Stretch struct {
	PCAP     string // the pcap file
	Metadata string // its metadata file
}

// Stretches returns the call's closed stretches, by name (their order in
// time is in the packets, not the names). rtpengine names files after the
// Call-ID with "@" written %40.
func (r *RTPEngine) Stretches(callID string) ([]Stretch, error) {
	metas, err := filepath.Glob(filepath.Join(r.RecordingDir(), "metadata", "*.txt"))
	if err != nil {
		return nil, err
	}
	prefix := strings.ReplaceAll(callID, "@", "%40") + "-"
	var out []Stretch
	for _, m := range metas {
		data, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		first, _, _ := bytes.Cut(data, []byte("\n"))
		pcap := string(bytes.TrimSpace(first))
		if strings.HasPrefix(filepath.Base(pcap), prefix) {
			out = append(out, Stretch{PCAP: pcap, Metadata: m})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PCAP < out[j].PCAP })
	return out, nil
}

// OpenPCAPs returns the names of pcap files still being written (their
// stretch not yet closed).
func (r *RTPEngine) OpenPCAPs() []string {
	tmp, _ := filepath.Glob(filepath.Join(r.RecordingDir(), "tmp", "*"))
	return tmp
}

// waitNG sends ng pings to addr until rtpengine answers pong, it exits
// (done) or timeout passes.
func waitNG(addr string, done <-chan struct{}, timeout time.Duration) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 512)
	for i := 0; time.Now().Before(deadline); i++ {
		select {
		case <-done:
			return errors.New("rtpengine exited")
		default:
		}
		cookie := fmt.Sprintf("wait%d", i)
		c.Write([]byte(cookie + " d7:command4:pinge"))
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(50 * time.Millisecond) // refused: not listening yet
			continue
		}
		if sc := bufio.NewScanner(bytes.NewReader(buf[:n])); sc.Scan() && strings.HasPrefix(sc.Text(), cookie+" ") &&
			strings.Contains(sc.Text(), "4:pong") {
			return nil
		}
	}
	return fmt.Errorf("no pong from %s within %v", addr, timeout)
}
