package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/secrets"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/central/centraltest"
	"github.com/callguard/callguard/ui"
)

func TestMain(m *testing.M) { testrig.Main(m) }

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the real callguard once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "callguard-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "callguard")
		// -trimpath as the release builds (make linux), so they share the build cache.
		out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version=test-1.2.3", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestVersionAndHelp(t *testing.T) {
	bin := binary(t)
	// Under the C locale, where fyne once logged "Error parsing user
	// locale C" at every start (internal/locale), not a word on stderr.
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "LC_ALL=", "LC_MESSAGES=", "LANG=C.UTF-8")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) != "callguard test-1.2.3" || stderr.Len() > 0 {
		t.Fatalf("--version = %q, %v, stderr %q", out, err, stderr.String())
	}
	out, err = exec.Command(bin, "--help").Output()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	for _, flag := range []string{"-config", "-data", "-policy", "-headless", "-log-level", "-version", "recording verify|decrypt", "managed"} {
		if !strings.Contains(string(out), flag) {
			t.Errorf("--help does not mention %q:\n%s", flag, out)
		}
	}
	out, err = exec.Command(bin, "--no-such-flag").CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), "no-such-flag") {
		t.Errorf("unknown flag: exit %d, %q", code, out)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestNoDisplayIsExplained(t *testing.T) {
	cmd := exec.Command(binary(t), "--data", t.TempDir())
	cmd.Env = append(os.Environ(), "DISPLAY=", "WAYLAND_DISPLAY=")
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "--headless") {
		t.Fatalf("exit %d, output %q: want 1 and the way out named", code, out)
	}
}

// A DISPLAY that never takes a client (a session whose X server is gone) is
// waited for, then explained in words, not a toolkit's panic.
func TestUnreachableDisplayIsExplained(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary(t), "--data", t.TempDir())
	cmd.Env = append(os.Environ(), "DISPLAY=:4242", "WAYLAND_DISPLAY=")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "cannot open the window: the X display :4242 refused") ||
		strings.Contains(string(out), "panic") {
		t.Fatalf("exit %d, output %q: want 1 and the display named", code, out)
	}
	if took := time.Since(start); took < 10*time.Second {
		t.Errorf("gave up after %v, want it to wait 10 s for the display", took)
	}
}

func TestBadSettingsFileIsExplained(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "settings.json")
	os.WriteFile(cfg, []byte(`{"phone_system": {"address": "pbx", "transport": "smoke"}}`), 0o600)
	out, err := exec.Command(bin, "--headless", "--config", cfg, "--data", dir).CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "transport") {
		t.Fatalf("exit %d, output %q: want 1 and the problem named", code, out)
	}
}

// instance is a callguard process started by a test.
type instance struct {
	cmd   *exec.Cmd
	dir   string
	api   string
	token string
	logs  *syncBuffer
	done  chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// needKeyring makes sure the session bus and keyring `make test` provides
// are there: the app keeps its local-API token in it and the test reads it.
func needKeyring(t *testing.T) *secrets.Store {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		testrig.Need(t, "a session bus with gnome-keyring", errors.New("DBUS_SESSION_BUS_ADDRESS is not set (run under make test)"))
	}
	s := secrets.Open(secrets.Service)
	testrig.Need(t, "the OS keyring", s.Unavailable())
	return s
}

// start runs callguard with settings (JSON) and extra args and env; it
// returns once the local API answers.
func start(t *testing.T, settings map[string]any, env []string, args ...string) *instance {
	t.Helper()
	bin := binary(t)
	keys := needKeyring(t)
	dir := t.TempDir()
	port := testrig.FreePort(t, "tcp")
	if settings == nil {
		settings = map[string]any{}
	}
	settings["local_api"] = map[string]any{"port": port}
	settings["data_dir"] = filepath.Join(dir, "data")
	if _, ok := settings["agent"]; !ok {
		settings["agent"] = map[string]any{"id": "1001", "name": "Alex Officer"}
	}
	b, _ := json.Marshal(settings)
	cfg := filepath.Join(dir, "settings.json")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	in := &instance{dir: dir, api: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &syncBuffer{}, done: make(chan error, 1)}
	in.cmd = exec.Command(bin, append([]string{"--config", cfg, "--log-level", "debug"}, args...)...)
	in.cmd.Env = append(append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"), "XDG_DATA_HOME="+filepath.Join(dir, "xdg-data")), env...)
	in.cmd.Stdout, in.cmd.Stderr = in.logs, in.logs
	for _, e := range env {
		if d, ok := strings.CutPrefix(e, "DISPLAY="); ok && d != "" {
			testrig.WaitForX(t, d)
		}
	}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.done <- in.cmd.Wait() }()
	t.Cleanup(func() {
		in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.done:
		case <-time.After(10 * time.Second):
			in.cmd.Process.Kill()
			<-in.done
		}
		if t.Failed() {
			t.Logf("callguard output:\n%s", in.logs.String())
		}
	})
	testrig.Eventually(t, 60*time.Second, func() bool {
		select {
		case err := <-in.done:
			in.done <- err
			t.Fatalf("callguard exited early: %v\n%s", err, in.logs.String())
		default:
		}
		return strings.Contains(in.logs.String(), "local API listening")
	}, "callguard did not start its local API:\n%s", in.logs)
	tok, err := keys.Get(secrets.LocalAPIToken)
	if err != nil {
		t.Fatalf("local API token not in the keyring: %v", err)
	}
	in.token = tok
	return in
}

// call makes a local-API request and decodes the JSON answer.
func (in *instance) call(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, in.api+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+in.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func (in *instance) state(t *testing.T) string {
	t.Helper()
	_, v := in.call(t, "GET", "/v1/state", "")
	rec, _ := v["recording"].(map[string]any)
	s, _ := rec["state"].(string)
	return s
}

func (in *instance) waitState(t *testing.T, want string) {
	t.Helper()
	testrig.Eventually(t, 15*time.Second, func() bool { return in.state(t) == want },
		"state never became %s (last %s)", want, in.state(t))
}

func TestHeadlessRunsTheCoreAndStopsCleanly(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			in := start(t, nil, nil, "--headless")
			if s := in.state(t); s != "idle" {
				t.Fatalf("state %q, want idle (manual mode on the embedded defaults)", s)
			}
			in.cmd.Process.Signal(sig)
			select {
			case err := <-in.done:
				in.done <- err
				if err != nil {
					t.Fatalf("exit after %v: %v\n%s", sig, err, in.logs)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10 s after %v", sig)
			}
			if !strings.Contains(in.logs.String(), "callguard stopping") {
				t.Errorf("no orderly shutdown logged:\n%s", in.logs)
			}
		})
	}
}

// window finds the X window whose title starts with "callguard".
func window(t *testing.T, display, title string) string {
	t.Helper()
	xdotool := testrig.NeedCommand(t, "xdotool")
	var id string
	testrig.Eventually(t, 60*time.Second, func() bool {
		cmd := exec.Command(xdotool, "search", "--onlyvisible", "--name", "^"+regexp.QuoteMeta(title))
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := cmd.Output()
		id = strings.TrimSpace(strings.Split(strings.TrimSpace(string(out)), "\n")[0])
		return id != ""
	}, "no visible window titled %q on %s", title, display)
	return id
}

// screenshot captures window id to path (PNG) and returns the image.
func screenshot(t *testing.T, display, id, path string) image.Image {
	t.Helper()
	imp := testrig.NeedCommand(t, "import")
	cmd := exec.Command(imp, "-window", id, path)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// settled takes screenshots until two in a row, half a second apart, are the
// same: the window has drawn itself.
func settled(t *testing.T, display, id, path string) {
	t.Helper()
	var last []byte
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		screenshot(t, display, id, path)
		b, _ := os.ReadFile(path)
		if last != nil && bytes.Equal(b, last) {
			return
		}
		last = b
	}
	t.Fatalf("window %s kept changing for 15 s", id)
}

// share is the fraction of img's pixels within tolerance of c.
func share(img image.Image, c color.NRGBA) float64 {
	b := img.Bounds()
	var n, hit int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			n++
			if near(uint8(r>>8), c.R) && near(uint8(g>>8), c.G) && near(uint8(bl>>8), c.B) {
				hit++
			}
		}
	}
	return float64(hit) / float64(n)
}

func subImage(img image.Image, r image.Rectangle) image.Image {
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	return img
}

func near(a, b uint8) bool { return a-b < 12 || b-a < 12 }

// keepScreenshot copies a screenshot into docs/screenshots when asked to
// (CALLGUARD_UPDATE_SCREENSHOTS=1), for the README and the officer guide.
func keepScreenshot(t *testing.T, src, name string) {
	if os.Getenv("CALLGUARD_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("docs", "screenshots", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// shows waits until the window's screenshot shows state's banner colour over
// a good part of the window, and keeps the screenshot as name.
func shows(t *testing.T, display, id string, state app.RecordingState, name string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	want := ui.StateColour(state)
	var got, corner float64
	deadline := time.Now().Add(15 * time.Second)
	for {
		img := screenshot(t, display, id, path)
		got = share(img, want)
		// The banner's top-right corner, away from its words and icon, must
		// be the state's colour: the theme's background cannot pass for it.
		b := img.Bounds()
		y0 := b.Min.Y + max(14, b.Dy()/30) // below the banner's rounded corner at any scale
		corner = share(subImage(img, image.Rect(b.Max.X-40, y0, b.Max.X-24, y0+10)), want)
		if got >= 0.06 && corner >= 0.9 { // the banner is an eighth of the window
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("window never showed %s: %.0f%% of it (%.0f%% of the banner's corner) in the banner colour %v",
				state, got*100, corner*100, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	keepScreenshot(t, path, name)
}

// feed plays a 440 Hz tone into the ALSA rig's input in real time until
// the test ends, as a microphone would.
func feed(t *testing.T, in *testrig.ALSAInput) {
	t.Helper()
	// Feed blocks while nothing records (the FIFO is full); the rig's own
	// cleanup closes the FIFO, which ends the goroutine.
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		const chunk = 320 // 20 ms at 16 kHz
		buf := make([]int16, chunk)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for n := 0; ; n++ {
			for i := range buf {
				buf[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(n*chunk+i)/16000))
			}
			if err := in.Feed(buf); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
}

func TestWindowUnderXvfb(t *testing.T) {
	display := testrig.Xvfb(t)
	alsa := testrig.NewALSA(t, "mic")
	feed(t, alsa.Input("mic"))
	in := start(t, nil, append(alsa.Env(), "DISPLAY="+display))
	id := window(t, display, "callguard")
	shows(t, display, id, app.StateIdle, "idle.png")

	steps := []struct {
		method, path, body string
		state              app.RecordingState
		shot               string
	}{
		{"POST", "/v1/calls", `{"direction":"inbound","number":"07700 900123"}`, app.StateRecording, "recording.png"},
		{"POST", "/v1/pause", `{"reason":"payment"}`, app.StatePaused, "paused.png"},
		{"POST", "/v1/resume", ``, app.StateRecording, ""},
		{"DELETE", "/v1/calls/current", ``, app.StateIdle, ""},
		{"POST", "/v1/calls", `{"direction":"outbound","number":"01632 960123"}`, app.StateAwaitingNotice, "awaiting-notice.png"},
		{"POST", "/v1/notice", `{"outcome":"objected"}`, app.StateDeclined, "declined.png"},
		{"DELETE", "/v1/calls/current", ``, app.StateIdle, ""},
	}
	for _, s := range steps {
		if code, body := in.call(t, s.method, s.path, s.body); code >= 300 {
			t.Fatalf("%s %s: %d %v", s.method, s.path, code, body)
		}
		in.waitState(t, s.state.String())
		if s.shot != "" {
			shows(t, display, id, s.state, s.shot)
		}
	}
	if err := in.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("callguard died: %v", err)
	}
	// The recording went through the spool to the embedded server, encrypted
	// to the organisation's key, with the pause on record; the spool is
	// emptied once the server confirmed it.
	var uploaded []string
	testrig.Eventually(t, 30*time.Second, func() bool {
		uploaded, _ = filepath.Glob(filepath.Join(in.dir, "data", "server", "recordings", "*", "*.wav.age"))
		spool, _ := filepath.Glob(filepath.Join(in.dir, "data", "spool", "*.age"))
		return len(uploaded) == 1 && len(spool) == 0
	}, "the recording did not reach the embedded server (server has %d)", len(uploaded))
	for _, plain := range []string{"*.wav", "*.opus"} {
		if m, _ := filepath.Glob(filepath.Join(in.dir, "data", "*", plain)); len(m) > 0 {
			t.Fatalf("plain audio on disk: %v", m)
		}
	}
	// The embedded server's demo key is the file in the data directory.
	ids, err := artefact.ParseIdentityFile(filepath.Join(in.dir, "data", demoKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	manifest := strings.TrimSuffix(uploaded[0], ".wav.age") + ".json"
	if _, err := artefact.Verify(uploaded[0], manifest, ids); err != nil {
		t.Fatalf("uploaded recording does not verify: %v", err)
	}
	m, err := artefact.ReadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	// Recorded in the policy's default format: Opus at 24 kbit/s.
	if m.Codec != artefact.CodecOpus || m.Bitrate != 24000 {
		t.Fatalf("manifest codec %q at %d bit/s, want opus at 24000", m.Codec, m.Bitrate)
	}
	if len(m.Pauses) != 1 || m.Pauses[0].Reason != "payment" {
		t.Fatalf("manifest pauses %+v, want one payment pause", m.Pauses)
	}

	// Settings open from the keyboard.
	key := exec.Command(testrig.NeedCommand(t, "xdotool"), "windowfocus", "--sync", id, "key", "--clearmodifiers", "ctrl+comma")
	key.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := key.CombinedOutput(); err != nil {
		t.Fatalf("xdotool key: %v\n%s", err, out)
	}
	sid := window(t, display, "callguard settings")
	path := filepath.Join(t.TempDir(), "settings.png")
	settled(t, display, sid, path)
	keepScreenshot(t, path, "settings.png")
}

// TestAlarmsAndScalingUnderXvfb shows the two alarms (a phone system that
// does not answer, a recording that cannot start), in the panel and in the
// mini strip, and the panel at 200 %.
func TestAlarmsAndScalingUnderXvfb(t *testing.T) {
	display := testrig.Xvfb(t)
	t.Run("unknown", func(t *testing.T) {
		dead := testrig.FreePort(t, "udp") // nothing listens there
		in := start(t, map[string]any{"phone_system": map[string]any{
			"address": fmt.Sprintf("127.0.0.1:%d", dead), "transport": "udp", "extension": "1001"}},
			[]string{"DISPLAY=" + display})
		id := window(t, display, "callguard")
		in.waitState(t, "unknown")
		shows(t, display, id, app.StateUnknown, "unknown.png")
	})
	t.Run("unknown in the mini strip", func(t *testing.T) {
		dead := testrig.FreePort(t, "udp")
		mini := start(t, map[string]any{
			"phone_system": map[string]any{"address": fmt.Sprintf("127.0.0.1:%d", dead), "transport": "udp", "extension": "1001"},
			"window":       map[string]any{"mini": true}},
			[]string{"DISPLAY=" + display})
		mid := window(t, display, "callguard")
		mini.waitState(t, "unknown")
		showsMini(t, display, mid, app.StateUnknown, "mini-unknown.png")
	})
	t.Run("failed", func(t *testing.T) {
		testrig.NoALSADevices(t)
		in := start(t, nil, []string{"DISPLAY=" + display, "ALSA_CONFIG_PATH=" + os.Getenv("ALSA_CONFIG_PATH"), "JACK_NO_START_SERVER=1"})
		id := window(t, display, "callguard")
		if code, body := in.call(t, "POST", "/v1/calls", `{"direction":"inbound","number":"07700 900123"}`); code != 201 {
			t.Fatalf("start call: %d %v", code, body)
		}
		in.waitState(t, "failed")
		_, v := in.call(t, "GET", "/v1/state", "")
		if reason := v["recording"].(map[string]any)["reason"].(string); !strings.Contains(reason, "device") {
			t.Errorf("failure reason %q does not say what to fix", reason)
		}
		shows(t, display, id, app.StateFailed, "failed.png")
	})
	t.Run("failed in the mini strip", func(t *testing.T) {
		testrig.NoALSADevices(t)
		mini := start(t, map[string]any{"window": map[string]any{"mini": true}},
			[]string{"DISPLAY=" + display, "ALSA_CONFIG_PATH=" + os.Getenv("ALSA_CONFIG_PATH"), "JACK_NO_START_SERVER=1"})
		mid := window(t, display, "callguard")
		if code, body := mini.call(t, "POST", "/v1/calls", `{"direction":"inbound","number":"07700 900123"}`); code != 201 {
			t.Fatalf("start call in the strip: %d %v", code, body)
		}
		mini.waitState(t, "failed")
		showsMini(t, display, mid, app.StateFailed, "mini-failed.png")
	})
	t.Run("200% scaling fits a 1080p screen", func(t *testing.T) {
		in := start(t, nil, []string{"DISPLAY=" + display, "FYNE_SCALE=2"})
		id := window(t, display, "callguard")
		in.call(t, "POST", "/v1/calls", `{"direction":"outbound","number":"07700 900123"}`)
		in.waitState(t, "awaiting-notice")
		shows(t, display, id, app.StateAwaitingNotice, "scaled-200.png")
		geo := exec.Command(testrig.NeedCommand(t, "xdotool"), "getwindowgeometry", "--shell", id)
		geo.Env = append(os.Environ(), "DISPLAY="+display)
		out, err := geo.Output()
		if err != nil {
			t.Fatal(err)
		}
		var w, h int
		for _, line := range strings.Fields(string(out)) {
			fmt.Sscanf(line, "WIDTH=%d", &w)
			fmt.Sscanf(line, "HEIGHT=%d", &h)
		}
		if w == 0 || w > 1920 || h == 0 || h > 1080 {
			t.Fatalf("window is %dx%d at 200%%: it must fit 1920x1080", w, h)
		}
	})
}

// TestSupervisorBoardUnderXvfb runs a central server with officers
// heartbeating, and a supervisor's callguard that opens the live board.
func TestSupervisorBoardUnderXvfb(t *testing.T) {
	display := testrig.Xvfb(t)
	keys := needKeyring(t)
	dir := t.TempDir()
	base, enrol := centraltest.Start(t, central.Options{DB: filepath.Join(dir, "server.db"), DataDir: dir})
	now := time.Now().UTC()
	beats := []struct {
		user string
		body map[string]any
	}{
		{"ann", map[string]any{"state": "recording", "since": now.Add(-2 * time.Minute), "link": "up",
			"call": map[string]any{"id": "c1", "direction": "inbound", "remote": "07700900123", "started": now.Add(-2 * time.Minute)}}},
		{"bob", map[string]any{"state": "paused", "reason": "payment", "since": now.Add(-6 * time.Minute), "link": "up",
			"call": map[string]any{"id": "c2", "direction": "outbound", "remote": "01632960001", "started": now.Add(-8 * time.Minute)}}},
		{"dan", map[string]any{"state": "idle", "since": now.Add(-time.Minute), "link": "up"}},
		{"eve", map[string]any{"state": "unknown", "reason": "subscription timed out", "since": now.Add(-30 * time.Second), "link": "lost", "pending": 4}},
	}
	for _, b := range beats {
		tok := enrol(b.user, server.RoleAgent)
		b.body["at"] = now
		body, _ := json.Marshal(b.body)
		req, _ := http.NewRequest("POST", base+"/api/v1/heartbeat", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("heartbeat for %s: %v %v", b.user, err, resp)
		}
		resp.Body.Close()
	}
	if err := keys.Set(secrets.DeviceToken, enrol("sue", server.RoleSupervisor)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Delete(secrets.DeviceToken) })

	start(t, map[string]any{"server": map[string]any{"url": base}}, []string{"DISPLAY=" + display})
	id := window(t, display, "callguard live board")
	path := filepath.Join(t.TempDir(), "board.png")
	settled(t, display, id, path)
	img := screenshot(t, display, id, path)
	if share(img, ui.StateColour(app.StatePaused)) == 0 || share(img, ui.StateColour(app.StateUnknown)) == 0 {
		t.Fatal("the board shows neither the paused nor the unknown officer's colour")
	}
	keepScreenshot(t, path, "board.png")
}

// TestCallThroughARealPhoneSystem is the whole path on real parts: Kamailio
// publishes the officer's call state, callguard shows it, an integration
// pauses through the local API, PortAudio records through the gate into an
// age-encrypted file, and the uplink delivers it to the server.
func TestCallThroughARealPhoneSystem(t *testing.T) {
	display := testrig.Xvfb(t)
	keys := needKeyring(t)
	const password = "digest-s3cret-1001"
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{Users: map[string]string{"1001": password}})
	testrig.SIPpPhone(t, pbx, "1001", testrig.PhoneOptions{RingFor: 3 * time.Second})
	if err := keys.Set(secrets.SIPPassword, password); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Delete(secrets.SIPPassword) })
	alsa := testrig.NewALSA(t, "mic")
	feed(t, alsa.Input("mic"))

	in := start(t, map[string]any{"phone_system": map[string]any{
		"address": pbx.Addr("udp"), "transport": "udp", "extension": "1001", "expires": 120}},
		append(alsa.Env(), "DISPLAY="+display))
	in.waitState(t, "idle") // subscribed: the phone system is heard
	id := window(t, display, "callguard")

	dialled := time.Now()
	call := testrig.SIPpCall(t, pbx, "07700900123", "1001", 6*time.Second)
	in.waitState(t, "ringing")
	// An upper bound: it includes SIPp's own start-up and the API's polling.
	t.Logf("SIPp started → ringing shown through the local API: %v", time.Since(dialled).Round(time.Millisecond))
	_, v := in.call(t, "GET", "/v1/state", "")
	c, _ := v["call"].(map[string]any)
	remote, _ := c["remote"].(map[string]any)
	if c["direction"] != "inbound" || remote["number"] != "07700900123" {
		t.Fatalf("ringing call %v, want inbound from 07700900123", c)
	}
	shows(t, display, id, app.StateRinging, "ringing.png")

	in.waitState(t, "recording")
	time.Sleep(time.Second) // a second of the caller recorded before the payment
	if code, body := in.call(t, "POST", "/v1/pause", `{"reason":"payment"}`); code != 200 {
		t.Fatalf("pause: %d %v", code, body)
	}
	in.waitState(t, "paused")
	time.Sleep(time.Second)
	if code, body := in.call(t, "POST", "/v1/resume", ``); code != 200 {
		t.Fatalf("resume: %d %v", code, body)
	}
	call.Wait(t, 30*time.Second)
	in.waitState(t, "idle")

	var uploaded []string
	testrig.Eventually(t, 30*time.Second, func() bool {
		uploaded, _ = filepath.Glob(filepath.Join(in.dir, "data", "server", "recordings", "*", "*.json"))
		return len(uploaded) == 1
	}, "the recording did not reach the server")
	m, err := artefact.ReadManifest(uploaded[0])
	if err != nil {
		t.Fatal(err)
	}
	if !m.Complete || len(m.Pauses) != 1 || m.Pauses[0].Reason != "payment" || m.Direction != "inbound" || m.Remote.Number != "07700900123" {
		t.Fatalf("manifest %+v", m)
	}
	if p := m.Pauses[0]; p.EndMS == nil || *p.EndMS-p.StartMS < 800 || *p.EndMS-p.StartMS > 1500 {
		t.Errorf("pause %+v in the recording, want about 1000 ms long", p)
	}
}
