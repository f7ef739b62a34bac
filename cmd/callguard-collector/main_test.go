package main_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/apptest"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/rtpengine/pcapaudio"
	"github.com/callguard/callguard/server"
)

func TestMain(m *testing.M) { testrig.Main(m) }

var (
	buildOnce sync.Once
	bins      string
	buildErr  error
)

// binaries builds callguard-server and callguard-collector once, as they
// ship: cgo-free.
func binaries(t *testing.T) (serverBin, collectorBin string) {
	t.Helper()
	buildOnce.Do(func() {
		bins, buildErr = os.MkdirTemp("", "collector-bins")
		if buildErr != nil {
			return
		}
		for _, pkg := range []string{"../callguard-server", "."} {
			name := filepath.Base(pkg)
			if pkg == "." {
				name = "callguard-collector"
			}
			cmd := exec.Command("go", "build", "-o", filepath.Join(bins, name), pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(bins, "callguard-server"), filepath.Join(bins, "callguard-collector")
}

var (
	callerTone  = testrig.Tone{BaseHz: 400, StepHz: 100, Seconds: 12, SSRC: 0xaaaa0001}
	officerTone = testrig.Tone{BaseHz: 450, StepHz: 100, Seconds: 12, SSRC: 0xbbbb0002}
)

// site is a contact centre that records at the phone system: Kamailio
// with rtpengine, which records only what callguard starts, the officer's
// phone 1001 (SIPp, talking), the central server (the real binary) that
// commands rtpengine, and the collector's binary and state.
type site struct {
	t          *testing.T
	rtp        *testrig.RTPEngine
	pbx        *testrig.PBX
	ng         *rtpengine.Client
	dir        string
	url        string // the server
	collector  string // the collector's binary
	policy     string
	identities []age.Identity
	callerPCAP string
	agent      string // olive's token
	dpo        string // dee's token
}

func startSite(t *testing.T, where string) *site {
	t.Helper()
	testrig.NotShort(t, "calls through Kamailio and rtpengine, the central server and the collector")
	serverBin, collectorBin := binaries(t)
	s := &site{t: t, dir: t.TempDir(), collector: collectorBin}
	s.rtp = testrig.StartRTPEngine(t, testrig.RTPEngineOptions{})
	s.pbx = testrig.Kamailio(t, testrig.KamailioOptions{RTPEngine: s.rtp.NG(), RecordOnCommand: true})
	ng, err := rtpengine.Dial(s.rtp.NG())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ng.Close() })
	s.ng = ng
	s.callerPCAP = filepath.Join(s.dir, "caller.pcap")
	officerPCAP := filepath.Join(s.dir, "officer.pcap")
	for path, tone := range map[string]testrig.Tone{s.callerPCAP: callerTone, officerPCAP: officerTone} {
		if err := testrig.WriteTonePCAP(path, tone); err != nil {
			t.Fatal(err)
		}
	}
	testrig.SIPpTonePhone(t, s.pbx, "1001", testrig.TonePhoneOptions{Tones: officerPCAP, RingFor: 100 * time.Millisecond})

	// The organisation's key, and a policy that records at the phone system.
	identity, recipient, err := artefact.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(s.dir, "org.key")
	if err := os.WriteFile(idFile, []byte(identity+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s.identities, err = artefact.ParseIdentityFile(idFile); err != nil {
		t.Fatal(err)
	}
	s.policy = filepath.Join(s.dir, "policy.json")
	pol := fmt.Sprintf(`{"recipients": [%q], "record": {"inbound": true, "outbound": true, "where": %q}}`, recipient, where)
	if err := os.WriteFile(s.policy, []byte(pol), 0o600); err != nil {
		t.Fatal(err)
	}

	db := filepath.Join(s.dir, "cg.db")
	for _, u := range [][2]string{{"olive", "agent"}, {"dee", "dpo"}, {"pbx-collector", "collector"}} {
		cmd := exec.Command(serverBin, "user", "add", "--db", db, "--username", u[0], "--role", u[1])
		cmd.Stdin = strings.NewReader("correct horse battery\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("user add %s: %v\n%s", u[0], err, out)
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testrig.FreePort(t, "tcp"))
	s.url = "http://" + addr
	srv := exec.Command(serverBin, "serve", "--db", db, "--listen", addr, "--rtpengine-ng", s.rtp.NG(),
		"--policy", s.policy, "--identity", idFile, "--audit-key", filepath.Join(s.dir, "audit.pem"),
		"--number-key", filepath.Join(s.dir, "number.key"), "--checkpoint-log", filepath.Join(s.dir, "checkpoints.log"))
	var log bytes.Buffer
	srv.Stdout, srv.Stderr = &log, &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Kill()
		srv.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	})
	testrig.Eventually(t, 15*time.Second, func() bool {
		resp, err := http.Get(s.url + "/api/v1/health")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}, "the server never answered")
	s.agent = s.enrol("olive")
	s.dpo = s.enrol("dee")
	return s
}

func (s *site) enrol(user string) string {
	s.t.Helper()
	e, err := uplink.Enroll(context.Background(), s.url, user, "correct horse battery", user+"-pc")
	if err != nil {
		s.t.Fatal(err)
	}
	return e.Token
}

// collector runs the collector's binary with its state under the site.
func (s *site) collectorCmd(args ...string) *exec.Cmd {
	args = append(args[:1:1], append([]string{"--state", filepath.Join(s.dir, "collector")}, args[1:]...)...)
	return exec.Command(s.collector, args...)
}

// enrolCollector enrols the collector's binary with server (the site's, or
// a proxy in front of it).
func (s *site) enrolCollector(server string) {
	s.t.Helper()
	cmd := s.collectorCmd("enroll", "--server", server, "--username", "pbx-collector")
	cmd.Stdin = strings.NewReader("correct horse battery\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("collector enroll: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "correct horse") {
		s.t.Fatalf("enroll printed the password: %s", out)
	}
	info, err := os.Stat(filepath.Join(s.dir, "collector", "token"))
	if err != nil || info.Mode().Perm() != 0o600 {
		s.t.Fatalf("the token file: %v %v", info, err)
	}
}

// sweep runs the collector once.
func (s *site) sweep() (string, error) {
	out, err := s.collectorCmd("run", "--once", "--recording-dir", s.rtp.RecordingDir(), "--rtpengine-ng", s.rtp.NG(), "--policy", s.policy).CombinedOutput()
	return string(out), err
}

// officer is the officer's desktop core, commanding the phone system's
// recorder through the central server, as callguard does where the policy
// records at the phone system.
func (s *site) officer(where string) *app.Core {
	s.t.Helper()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		s.t.Fatal(err)
	}
	pol.Record.Where = where
	tok := s.agent
	client := uplink.New(uplink.Options{BaseURL: s.url, Token: func() (string, error) { return tok, nil }, Logger: slog.New(slog.DiscardHandler)})
	core := app.NewCore(app.MachineConfig{
		Policy: pol, Agent: app.AgentView{ID: "olive"}, Language: "en-GB",
		Recorder: app.PhoneSystemRecorder(client.PhoneRecorder(pol.Record.Location()), pol.Record.ConfirmWithinOrDefault()),
		Sink:     apptest.Discard{}, Logger: slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { core.Run(ctx); close(done) }()
	s.t.Cleanup(func() { cancel(); <-done })
	core.HandleCall(app.CallEvent{Kind: app.LinkUp})
	return core
}

// call is one inbound call to the officer, answered and recorded.
type call struct {
	sipp      *testrig.SIPp
	sipCallID string
	answered  time.Time
}

// answer places a call from the caller's tones to 1001, waits for media
// both ways through rtpengine, and tells the core it was answered, as the
// dialog feed does (its call-id, and the officer's tag).
func (s *site) answer(core *app.Core, holdFor time.Duration) call {
	s.t.Helper()
	c := call{sipp: testrig.SIPpToneCall(s.t, s.pbx, "07700900123", "1001", testrig.ToneCallOptions{HoldFor: holdFor, Tones: s.callerPCAP})}
	var officerTag string
	ctx := context.Background()
	testrig.Eventually(s.t, 10*time.Second, func() bool {
		ids, err := s.ng.List(ctx, 10)
		if err != nil || len(ids) != 1 {
			return false
		}
		q, err := s.ng.Query(ctx, ids[0])
		if err != nil || len(q.Tags) != 2 {
			return false
		}
		for name, tag := range q.Tags {
			flowing := false
			for _, st := range tag.Streams {
				flowing = flowing || !st.RTCP && st.Packets > 0
			}
			if !flowing {
				return false
			}
			if strings.Contains(name, "phone") { // the officer's SIPp names its tag so
				officerTag = name
			}
		}
		c.sipCallID = ids[0]
		return officerTag != ""
	}, "media never flowed both ways through rtpengine")
	c.answered = time.Now()
	core.HandleCall(app.CallEvent{Kind: app.CallAnswered, DialogID: "d-" + c.sipCallID, CallID: c.sipCallID, LocalTag: officerTag,
		Direction: app.DirectionInbound, Local: app.Party{Number: "1001"}, Remote: app.Party{Number: "07700900123"}})
	testrig.Eventually(s.t, 5*time.Second, func() bool { return core.Snapshot().State == app.StateRecording }, "never recording")
	return c
}

// end waits for the caller to hang up and for rtpengine to close the
// call's stretches, and tells the core.
func (s *site) end(core *app.Core, c call, stretches int) {
	s.t.Helper()
	c.sipp.Wait(s.t, 30*time.Second)
	core.HandleCall(app.CallEvent{Kind: app.CallEnded, DialogID: "d-" + c.sipCallID, CallID: c.sipCallID})
	testrig.Eventually(s.t, 10*time.Second, func() bool {
		got, err := s.rtp.Stretches(c.sipCallID)
		return err == nil && len(got) == stretches && len(s.rtp.OpenPCAPs()) == 0
	}, "rtpengine never closed %d stretches of %s", stretches, c.sipCallID)
}

// lookUp is the server's id of the call and its recording's state, as a
// collector sees them.
func (s *site) lookUp(sipCallID string) (id, recording string) {
	pr := s.lookUpAll(sipCallID)
	return pr.CallID, pr.Recording
}

// lookUpAll is the collector's whole lookup of the call.
func (s *site) lookUpAll(sipCallID string) server.PhoneRecording {
	s.t.Helper()
	tok, err := os.ReadFile(filepath.Join(s.dir, "collector", "token"))
	if err != nil {
		s.t.Fatal(err)
	}
	client := uplink.New(uplink.Options{BaseURL: s.url, Token: func() (string, error) { return strings.TrimSpace(string(tok)), nil }})
	pr, err := client.LookUpPhoneRecording(context.Background(), sipCallID)
	if err != nil {
		s.t.Fatal(err)
	}
	return pr
}

// download is the call's recording as the server stores it, downloaded
// by the dpo.
func (s *site) download(id string) []byte {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.url+"/api/v1/recordings/"+id+"/audio", nil)
	req.Header.Set("Authorization", "Bearer "+s.dpo)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("download %s: %d %s", id, resp.StatusCode, b)
	}
	return b
}

// stored downloads the call's recording as the dpo and decrypts it: the
// officer's and the caller's samples.
func (s *site) stored(id string) (officer, caller []int16, encrypted []byte) {
	s.t.Helper()
	encrypted = s.download(id)
	path := filepath.Join(s.t.TempDir(), id+".wav.age")
	if err := os.WriteFile(path, encrypted, 0o600); err != nil {
		s.t.Fatal(err)
	}
	var wav bytes.Buffer
	if _, err := artefact.Decrypt(path, s.identities, &wav); err != nil {
		s.t.Fatal(err)
	}
	if err := artefact.CheckWAVHeader(wav.Bytes()[:44]); err != nil {
		s.t.Fatal(err)
	}
	pcm := wav.Bytes()[44:]
	for i := 0; i+4 <= len(pcm); i += 4 {
		officer = append(officer, int16(binary.LittleEndian.Uint16(pcm[i:])))
		caller = append(caller, int16(binary.LittleEndian.Uint16(pcm[i+2:])))
	}
	return officer, caller, encrypted
}

// TestCollectsAPausedCallIntoTheServer is issue 19's collector end to end:
// an inbound call paused twice at the phone system through the server,
// collected by the collector's binary into a recording the server stores.
// The dpo's copy decrypts to exactly what rtpengine recorded, assembled
// from its pcaps (kept aside before the collector deletes them): each side
// in its own channel, each stretch at its true offset, the two pauses
// digital silence at least as long as the officer paused; the pcaps and the
// collector's spool are gone.
func TestCollectsAPausedCallIntoTheServer(t *testing.T) {
	s := startSite(t, "pbx")
	s.enrolCollector(s.url)
	core := s.officer(policy.RecordAtPhoneSystem)
	c := s.answer(core, 7*time.Second)
	// Each pause lasted at least from the pause's confirmation to the
	// resume's request, and at most from the pause's request to the
	// resume's confirmation.
	type span struct{ least, most time.Duration }
	var pauses []span
	for range 2 {
		time.Sleep(time.Second)
		asked := time.Now()
		if err := core.Pause("payment"); err != nil {
			t.Fatal(err)
		}
		confirmed := time.Now()
		time.Sleep(time.Second)
		resume := time.Now()
		if err := core.Resume(); err != nil {
			t.Fatal(err)
		}
		pauses = append(pauses, span{resume.Sub(confirmed), time.Since(asked)})
	}
	s.end(core, c, 3)
	want := s.recorded(c.sipCallID)

	if out, err := s.sweep(); err != nil {
		t.Fatalf("collector: %v\n%s", err, out)
	}
	if left, _ := s.rtp.Stretches(c.sipCallID); len(left) != 0 {
		t.Fatalf("the collector left %d stretches", len(left))
	}
	pcaps, _ := filepath.Glob(filepath.Join(s.rtp.RecordingDir(), "pcaps", "*"))
	spool, _ := filepath.Glob(filepath.Join(s.dir, "collector", "spool", "*"))
	if len(pcaps)+len(spool) != 0 {
		t.Fatalf("left behind: pcaps %v, spool %v", pcaps, spool)
	}
	id, rec := s.lookUp(c.sipCallID)
	if rec != "stored" {
		t.Fatalf("the server's recording of %s is %q", id, rec)
	}
	officer, caller, _ := s.stored(id)
	if len(officer) != len(want.officer) {
		t.Fatalf("stored %d frames, rtpengine recorded %d", len(officer), len(want.officer))
	}
	for i := range officer {
		if officer[i] != want.officer[i] || caller[i] != want.caller[i] {
			t.Fatalf("frame %d (%.3f s) differs from what rtpengine recorded", i, float64(i)/artefact.SampleRate)
		}
	}
	t.Logf("recording %.2f s, stretches %v, pauses %v", float64(len(officer))/artefact.SampleRate, want.asm.Stretches, pauses)
	if len(want.asm.Pauses) != 2 {
		t.Fatalf("rtpengine's stretches leave %d gaps, want the 2 pauses: %+v", len(want.asm.Pauses), want.asm.Pauses)
	}
	for i, p := range want.asm.Pauses {
		// One 20 ms packet either side, and the stretch's ms rounding.
		got := time.Duration(p.EndMS-p.StartMS) * time.Millisecond
		if got < pauses[i].least-45*time.Millisecond || got > pauses[i].most+45*time.Millisecond {
			t.Errorf("pause %d: %v of silence; the officer paused between %v and %v", i+1, got, pauses[i].least, pauses[i].most)
		}
		for f := artefact.MSToFrames(p.StartMS); f < artefact.MSToFrames(p.EndMS); f++ {
			if officer[f] != 0 || caller[f] != 0 {
				t.Fatalf("pause %d: frame %d is not digital silence", i+1, f)
			}
		}
	}
	// The officer's tone is on the left and the caller's on the right, and
	// the caller's source seconds come in order.
	win, last, checked := artefact.SampleRate/4, -1, 0
	for from := artefact.SampleRate / 2; from+win <= len(officer); from += win {
		if quiet(officer[from:from+win]) || quiet(caller[from:from+win]) {
			continue
		}
		o := testrig.DetectTone(officer[from:from+win], artefact.SampleRate, officerTone, callerTone)
		cl := testrig.DetectTone(caller[from:from+win], artefact.SampleRate, officerTone, callerTone)
		if o.Tone != 0 || cl.Tone != 1 {
			t.Fatalf("at %.2f s the left channel has tone %d, the right %d: the sides are swapped or mixed", float64(from)/artefact.SampleRate, o.Tone, cl.Tone)
		}
		if cl.Second < last {
			t.Fatalf("at %.2f s the caller's source second %d comes after %d", float64(from)/artefact.SampleRate, cl.Second, last)
		}
		last = cl.Second
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d windows checked", checked)
	}
}

// quiet reports that a window holds any digital silence (a gap's edge).
func quiet(x []int16) bool {
	zeros := 0
	for _, v := range x {
		if v == 0 {
			zeros++
		}
	}
	return zeros > len(x)/10
}

// recording is what rtpengine recorded of a call, assembled from its pcaps.
type recording struct {
	asm             *pcapaudio.Assembly
	officer, caller []int16
}

// recorded assembles the call's pcaps as they are now, with the sides the
// server told the collector.
func (s *site) recorded(sipCallID string) recording {
	s.t.Helper()
	pr := s.lookUpAll(sipCallID)
	sides := pcapaudio.Sides{}
	for side, addrs := range map[pcapaudio.Side][]string{pcapaudio.SideOfficer: pr.OfficerAddrs, pcapaudio.SideCaller: pr.CallerAddrs} {
		for _, a := range addrs {
			sides[netip.MustParseAddrPort(a)] = side
		}
	}
	stretches, err := s.rtp.Stretches(sipCallID)
	if err != nil {
		s.t.Fatal(err)
	}
	var srcs []pcapaudio.Source
	for _, st := range stretches {
		b, err := os.ReadFile(st.PCAP)
		if err != nil {
			s.t.Fatal(err)
		}
		srcs = append(srcs, pcapaudio.Source{Name: filepath.Base(st.PCAP), R: bytes.NewReader(b)})
	}
	asm, err := pcapaudio.Assemble(pcapaudio.Options{Sides: sides}, srcs...)
	if err != nil {
		s.t.Fatal(err)
	}
	var pcm bytes.Buffer
	if _, err := asm.WriteTo(&pcm); err != nil {
		s.t.Fatal(err)
	}
	r := recording{asm: asm}
	b := pcm.Bytes()
	for i := 0; i+4 <= len(b); i += 4 {
		r.officer = append(r.officer, int16(binary.LittleEndian.Uint16(b[i:])))
		r.caller = append(r.caller, int16(binary.LittleEndian.Uint16(b[i+2:])))
	}
	return r
}

// stallingProxy stands between the collector and the server: once stall
// is set, a chunk of audio it is sent is held until the test ends, so the
// collector can be killed mid-upload.
type stallingProxy struct {
	url     string
	stall   atomic.Bool
	chunks  atomic.Int32 // audio chunks that reached the server
	held    atomic.Int32
	release chan struct{}

	mu      sync.Mutex
	offsets []string // the offset of each audio chunk, in order
}

func startProxy(t *testing.T, target string) *stallingProxy {
	t.Helper()
	u, _ := url.Parse(target)
	p := &stallingProxy{release: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(u)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "PUT" && strings.HasSuffix(r.URL.Path, "/audio") {
			p.mu.Lock()
			p.offsets = append(p.offsets, r.URL.Query().Get("offset"))
			p.mu.Unlock()
			if p.stall.Load() && p.chunks.Load() >= 2 {
				p.held.Add(1)
				<-p.release
				return
			}
			p.chunks.Add(1)
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { close(p.release); srv.Close() })
	p.url = "http://" + l.Addr().String()
	return p
}

// TestCollectorKilledMidUploadResumes: the collector is killed (SIGKILL)
// with two chunks of a recording on the server and a third on its way;
// started again, it uploads the rest of the same encrypted file from where
// the server stands, so the server holds one recording, byte for byte the
// one made, and the pcaps are deleted only then.
func TestCollectorKilledMidUploadResumes(t *testing.T) {
	s := startSite(t, "pbx")
	proxy := startProxy(t, s.url)
	s.enrolCollector(proxy.url)
	core := s.officer(policy.RecordAtPhoneSystem)
	c := s.answer(core, 6*time.Second)
	s.end(core, c, 1)

	proxy.stall.Store(true)
	const chunk = 64 << 10
	run := s.collectorCmd("run", "--recording-dir", s.rtp.RecordingDir(), "--rtpengine-ng", s.rtp.NG(), "--policy", s.policy,
		"--every", "200ms", "--chunk-size", fmt.Sprint(chunk))
	var log bytes.Buffer
	run.Stdout, run.Stderr = &log, &log
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	testrig.Eventually(t, 20*time.Second, func() bool { return proxy.held.Load() == 1 }, "the upload never reached its third chunk:\n%s", &log)
	if err := run.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	run.Wait()

	// What the killed collector left: its recording, made and encrypted,
	// and the pcaps.
	id, rec := s.lookUp(c.sipCallID)
	if rec != "uploading" {
		t.Fatalf("after the kill the server's recording is %q", rec)
	}
	made, err := artefact.ReadManifest(filepath.Join(s.dir, "collector", "spool", id+".json"))
	if err != nil {
		t.Fatalf("the spool after the kill: %v", err)
	}
	if left, _ := s.rtp.Stretches(c.sipCallID); len(left) != 1 {
		t.Fatalf("the pcaps went before the upload finished: %d stretches left", len(left))
	}

	proxy.stall.Store(false)
	if out, err := s.sweep(); err != nil {
		t.Fatalf("collector, started again: %v\n%s", err, out)
	}
	_, rec = s.lookUp(c.sipCallID)
	_, _, encrypted := s.stored(id)
	if rec != "stored" || int64(len(encrypted)) != made.EncryptedBytes {
		t.Fatalf("stored %q, %d bytes; the recording made was %d bytes", rec, len(encrypted), made.EncryptedBytes)
	}
	if sum := sha256Hex(encrypted); sum != made.SHA256Encrypted {
		t.Fatalf("the server holds %s, the collector made %s", sum, made.SHA256Encrypted)
	}
	proxy.mu.Lock()
	offsets := append([]string(nil), proxy.offsets...)
	proxy.mu.Unlock()
	t.Logf("audio chunk offsets: %v", offsets)
	if offsets[3] != fmt.Sprint(2*chunk) {
		t.Fatalf("started again, the upload began at offset %s, want %d (where the server stood)", offsets[3], 2*chunk)
	}
	if left, _ := s.rtp.Stretches(c.sipCallID); len(left) != 0 {
		t.Fatalf("%d stretches left after the upload", len(left))
	}
	spool, _ := filepath.Glob(filepath.Join(s.dir, "collector", "spool", "*"))
	if len(spool) != 0 {
		t.Fatalf("spool left: %v", spool)
	}
}

// TestBothSiteKeepsThePCAPsUntilTheDesktopsRecordingIsStored: where the
// desktop records too (where both), the desktop's recording is the
// call's: the collector uploads nothing, keeps the pcaps while the
// desktop's is not on the server, and deletes them once it is.
func TestBothSiteKeepsThePCAPsUntilTheDesktopsRecordingIsStored(t *testing.T) {
	s := startSite(t, "both")
	s.enrolCollector(s.url)
	core := s.officer(policy.RecordAtBoth)
	c := s.answer(core, 3*time.Second)
	s.end(core, c, 1)

	if out, err := s.sweep(); err != nil {
		t.Fatalf("collector: %v\n%s", err, out)
	} else if !strings.Contains(out, "waiting") {
		t.Fatalf("the collector did not say it waits:\n%s", out)
	}
	if left, _ := s.rtp.Stretches(c.sipCallID); len(left) != 1 {
		t.Fatalf("the pcaps went before the desktop's recording was stored: %d left", len(left))
	}

	// The desktop uploads its recording of the call (its spool's).
	spool := t.TempDir()
	audio := []byte("the desktop's age-encrypted recording of the call")
	recent := core.Snapshot().Recent
	if len(recent) == 0 {
		t.Fatal("the core has no ended call")
	}
	ref := recent[0].ID
	if err := os.WriteFile(filepath.Join(spool, ref+".wav.age"), audio, 0o600); err != nil {
		t.Fatal(err)
	}
	man, _ := json.Marshal(map[string]any{"call_id": ref, "complete": true, "sha256_encrypted": sha256Hex(audio)})
	if err := os.WriteFile(filepath.Join(spool, ref+".json"), man, 0o600); err != nil {
		t.Fatal(err)
	}
	tok := s.agent
	desktop := uplink.New(uplink.Options{BaseURL: s.url, Token: func() (string, error) { return tok, nil }, Logger: slog.New(slog.DiscardHandler)})
	if err := desktop.UploadRecording(context.Background(), spool, ref); err != nil {
		t.Fatal(err)
	}

	if out, err := s.sweep(); err != nil {
		t.Fatalf("collector: %v\n%s", err, out)
	}
	if left, _ := s.rtp.Stretches(c.sipCallID); len(left) != 0 {
		t.Fatalf("the desktop's recording is stored, yet %d stretches are kept", len(left))
	}
	id, rec := s.lookUp(c.sipCallID)
	if got := s.download(id); rec != "stored" || !bytes.Equal(got, audio) {
		t.Fatalf("the call's recording is %q, %d bytes: not the desktop's", rec, len(got))
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
