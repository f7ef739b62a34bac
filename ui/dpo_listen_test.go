package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/central/centraltest"
)

// serverPlayer plays by reading what the server streams for the call (the
// speakers are the root's player's and recorder.Play's to prove); hold
// keeps it "playing" until the view stops it.
type serverPlayer struct {
	c    *uplink.Client
	hold bool

	mu    sync.Mutex
	calls []string
	bytes int64
}

func (p *serverPlayer) Play(ctx context.Context, callID string) error {
	p.mu.Lock()
	p.calls = append(p.calls, callID)
	p.mu.Unlock()
	body, _, err := p.c.PlayRecording(ctx, callID)
	if err != nil {
		return err
	}
	defer body.Close()
	n, err := io.Copy(io.Discard, body)
	p.mu.Lock()
	p.bytes += n
	p.mu.Unlock()
	if err != nil {
		return err
	}
	if p.hold {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// TestDPOViewListens: the review item of a call whose recording is on the
// server offers Listen; it plays that call (the server streams its
// recording), says so while it plays, can be stopped, and says how it
// ended; an error is in words. Kept as docs/screenshots/dpo-listen.png.
func TestDPOViewListens(t *testing.T) {
	dir := t.TempDir()
	org, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	base, enrol := centraltest.Start(t, central.Options{DB: filepath.Join(dir, "server.db"), DataDir: filepath.Join(dir, "data"),
		Identities: []age.Identity{org}})
	olive := enrol("olive", server.RoleAgent)
	dee := uplink.New(uplink.Options{BaseURL: base, Token: staticToken(enrol("dee", server.RoleDPO)), Logger: slog.New(slog.DiscardHandler)})
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	at := func(sec int) string { return start.Add(time.Duration(sec) * time.Second).Format(time.RFC3339) }
	postEvents(t, base, olive, strings.NewReplacer("S", at(0), "F", at(62), "E", at(60)).Replace(`{"events":[
		{"id":"e1","seq":1,"time":"S","type":"recording.state","call_id":"c1","state":"recording"},
		{"id":"e2","seq":2,"time":"E","type":"call.ended","call_id":"c1","call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":"+441632960555"},"started":"S","ended":"E","recorded":true}},
		{"id":"e3","seq":3,"time":"F","type":"flag","call_id":"c1","reason":"health","note":"caller named her medication","from_ms":12000,"to_ms":47500}]}`))
	uploadRecordings(t, base, olive, org.Recipient(), "c1")

	a := test.NewTempApp(t)
	a.Settings().SetTheme(darkTheme{theme.DefaultTheme()})
	r := NewReview(dee)
	t.Cleanup(r.Stop)
	player := &serverPlayer{c: dee, hold: true}
	r.SetPlayer(player)
	w := test.NewTempWindow(t, r.Content())
	w.Resize(fyne.NewSize(1040, 640))
	r.Refresh()
	r.Wait()
	findWidget[*widget.List](t, w.Canvas().Content(), func(l *widget.List) bool { return l.Length() == 1 }).Select(0)
	listen := findWidget[*widget.Button](t, w.Canvas().Content(), func(b *widget.Button) bool { return b.Text == "Listen" })
	stop := findWidget[*widget.Button](t, w.Canvas().Content(), func(b *widget.Button) bool { return b.Text == "Stop" })
	if listen.Disabled() || !stop.Disabled() {
		t.Fatalf("a stored recording: Listen disabled %v, Stop disabled %v", listen.Disabled(), stop.Disabled())
	}
	test.Tap(listen)
	testrig.Eventually(t, 5*time.Second, func() bool {
		player.mu.Lock()
		defer player.mu.Unlock()
		return player.bytes > 0
	}, "the recording was never streamed")
	if on := viewTexts(w.Canvas().Content()); !strings.Contains(on, "Playing the recording on this computer…") || !listen.Disabled() || stop.Disabled() {
		t.Fatalf("while playing: Listen disabled %v, Stop disabled %v:\n%s", listen.Disabled(), stop.Disabled(), on)
	}
	capture(t, w, "dpo-listen.png")
	test.Tap(stop)
	r.Wait()
	if on := viewTexts(w.Canvas().Content()); !strings.Contains(on, "Stopped.") || listen.Disabled() {
		t.Fatalf("after Stop:\n%s", on)
	}

	player.hold = false
	test.Tap(listen)
	r.Wait()
	if on := viewTexts(w.Canvas().Content()); !strings.Contains(on, "Played to the end.") {
		t.Fatalf("after playing:\n%s", on)
	}
	if got := strings.Join(player.calls, ","); got != "c1,c1" {
		t.Fatalf("played %s", got)
	}

	r.SetPlayer(failingPlayer{})
	test.Tap(listen)
	r.Wait()
	if on := viewTexts(w.Canvas().Content()); !strings.Contains(on, "Could not play the recording: this computer has no speakers or headset it can play on (check Sound in its settings).") {
		t.Fatalf("with no speakers:\n%s", on)
	}
}

type failingPlayer struct{}

func (failingPlayer) Play(context.Context, string) error {
	return errors.Join(ErrNoSpeakers, errors.New("no default output device"))
}
