package testrig

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's chromium, the browser the web workspace's tests
// drive (package chromium; scripts/deps.sh installs it).
const ChromiumPath = "/usr/bin/chromium"

// Chromium starts a headless Debian chromium for chromedp and returns a
// context for its first tab, alive until the test ends (then the browser
// is closed and its profile removed). Each call is a fresh browser with an
// empty profile: no cookies carry over between tests. A missing chromium
// fails in CI and skips elsewhere (Need).
func Chromium(t testing.TB) context.Context {
	t.Helper()
	path := ChromiumPath
	if _, err := os.Stat(path); err != nil {
		p, lerr := exec.LookPath("chromium")
		Need(t, "chromium", lerr)
		path = p
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// Root in a container has no user namespaces for the sandbox.
		chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true),
		// The player's test plays a recording to its end without a click.
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("lang", "en-GB"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	// Start the browser now, so a broken one fails here and not in the
	// test's first step. (Not under a timeout's context: cancelling the
	// context of the first run closes the browser.)
	timer := time.AfterFunc(60*time.Second, cancel)
	err := chromedp.Do(ctx)
	timer.Stop()
	if err != nil {
		cancel()
		cancelAlloc()
		Need(t, "chromium (it did not start)", err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}

// Screenshot saves a full-page PNG of what the tab shows to path (its
// directory is created). With zoom 2 the page is laid out as at 200 %
// browser zoom (half the CSS width, twice the pixels), for the
// accessibility check.
func Screenshot(t testing.TB, ctx context.Context, path string, zoom float64) {
	t.Helper()
	if zoom <= 0 {
		zoom = 1
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	w := int64(1280 / zoom)
	err := chromedp.Do(ctx, chromedp.EmulateViewport(w, int64(900/zoom), chromedp.EmulateScale(zoom)))
	var png []byte
	if err == nil {
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	}
	if err == nil {
		err = chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
}
