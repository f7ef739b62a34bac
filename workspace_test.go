package main

import (
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/central/centraltest"
)

// browserApp is a test app that records the URLs it is asked to open.
type browserApp struct {
	fyne.App
	mu     sync.Mutex
	opened []*url.URL
}

func (a *browserApp) OpenURL(u *url.URL) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opened = append(a.opened, u)
	return nil
}

// TestOpenTheWorkspaceSignsTheBrowserIn: a supervisor's "Open the
// workspace…" opens a link on her server that signs a browser in, once.
func TestOpenTheWorkspaceSignsTheBrowserIn(t *testing.T) {
	dir := t.TempDir()
	base, enrol := centraltest.Start(t, central.Options{DB: filepath.Join(dir, "server.db"), DataDir: dir})
	tok := enrol("sue", server.RoleSupervisor)
	sue := uplink.New(uplink.Options{BaseURL: base, Token: func() (string, error) { return tok, nil }, Logger: slog.New(slog.DiscardHandler)})
	a := &browserApp{App: test.NewTempApp(t)}
	w := a.NewWindow("board")
	menu := workspaceMenu(a, w, sue, slog.New(slog.DiscardHandler))
	item := menu.Items[0].Items[0]
	if item.Label != OpenWorkspaceLabel {
		t.Fatalf("menu entry %q", item.Label)
	}
	item.Action()
	var link *url.URL
	testrig.Eventually(t, 10*time.Second, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(a.opened) > 0 {
			link = a.opened[0]
		}
		return link != nil
	}, "the menu entry opened nothing")
	if !strings.HasPrefix(link.String(), base+"/link/") {
		t.Fatalf("opened %s, want a link on %s", link, base)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	signedIn := false
	for _, c := range resp.Cookies() {
		signedIn = signedIn || (c.Name == "callguard-session" && c.Value != "")
	}
	if resp.StatusCode != http.StatusSeeOther || !signedIn {
		t.Fatalf("following the link: %s, cookies %v", resp.Status, resp.Cookies())
	}
	resp, err = noRedirect.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Location") != "/signin?why=link" {
		t.Fatalf("the link a second time: %s → %s", resp.Status, resp.Header.Get("Location"))
	}
}
