package ui

import (
	"context"
	"errors"
	"image/color"
	"image/png"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/central/centraltest"
)

// TestDPOViewOnARealServer renders the data-protection officer's view
// against a real central server (SQLite, HTTP on loopback): an officer's
// health flag and a declined call, with their recordings uploaded, reach the
// queue through the API; the dpo keeps the flagged call with a reason
// through the view and the server records the decision; on the holds tab the
// dpo asks to lift a hold. Both tabs are kept as screenshots for
// docs/data-protection.md.
func TestDPOViewOnARealServer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	org, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	base, enrol := centraltest.Start(t, central.Options{DB: filepath.Join(dir, "server.db"), DataDir: filepath.Join(dir, "data"),
		Identities: []age.Identity{org}})
	olive := enrol("olive", server.RoleAgent)
	dee := uplink.New(uplink.Options{BaseURL: base, Token: staticToken(enrol("dee", server.RoleDPO)), Logger: slog.New(slog.DiscardHandler)})

	// The officer's desktop sends the two calls' events and recordings.
	started := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	at := func(min, sec int) string {
		return started.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second).Format(time.RFC3339)
	}
	postEvents(t, base, olive, strings.NewReplacer(
		"C1START", at(0, 0), "C1FLAG", at(1, 2), "C1END", at(1, 0),
		"C2START", at(65, 0), "C2REC", at(65, 5), "C2OBJ", at(65, 40), "C2END", at(66, 0),
	).Replace(`{"events":[
		{"id":"e1","seq":1,"time":"C1START","type":"recording.state","call_id":"c1","state":"recording"},
		{"id":"e2","seq":2,"time":"C1END","type":"call.ended","call_id":"c1","call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":"+441632960555"},"started":"C1START","ended":"C1END","recorded":true}},
		{"id":"e3","seq":3,"time":"C1FLAG","type":"flag","call_id":"c1","reason":"health","note":"caller described her treatment","from_ms":12000,"to_ms":47500},
		{"id":"e4","seq":4,"time":"C2REC","type":"recording.state","call_id":"c2","state":"recording"},
		{"id":"e5","seq":5,"time":"C2OBJ","type":"notice","call_id":"c2","outcome":"objected"},
		{"id":"e6","seq":6,"time":"C2OBJ","type":"recording.state","call_id":"c2","state":"declined"},
		{"id":"e7","seq":7,"time":"C2END","type":"call.ended","call_id":"c2","call":{"direction":"outbound","local":{"number":"2001"},"remote":{"number":"+441632960777"},"started":"C2START","ended":"C2END","recorded":true}}]}`))
	uploadRecordings(t, base, olive, org.Recipient(), "c1", "c2")
	review := started.AddDate(0, 0, 5)
	hold, err := dee.PlaceHold(ctx, server.Hold{Number: "+441632960555", Reason: "complaint", Owner: "Complaints team", ReviewAt: &review, Note: "C-2026-031"})
	if err != nil {
		t.Fatalf("place a hold: %v", err)
	}

	a := test.NewTempApp(t)
	a.Settings().SetTheme(darkTheme{theme.DefaultTheme()}) // as the board's screenshot, not the test driver's theme
	r := NewReview(dee)
	t.Cleanup(r.Stop)
	w := test.NewTempWindow(t, r.Content())
	w.Resize(fyne.NewSize(1040, 640))
	r.Refresh()
	r.Wait()

	on := viewTexts(w.Canvas().Content())
	for _, want := range []string{"Health details were recorded", "Caller declined recording", "2 waiting for a decision",
		"olive · inbound +441632960555", "olive · outbound +441632960777"} {
		if !strings.Contains(on, want) {
			t.Fatalf("the view does not show %q:\n%s", want, on)
		}
	}
	queue := findWidget[*widget.List](t, w.Canvas().Content(), func(l *widget.List) bool { return l.Length() == 2 })
	queue.Select(0) // oldest first: the health flag
	on = viewTexts(w.Canvas().Content())
	for _, want := range []string{"caller described her treatment", "12 s to 47.5 s", "on the server", "health-flagged: deleted after"} {
		if !strings.Contains(on, want) {
			t.Fatalf("the health flag's detail does not show %q:\n%s", want, on)
		}
	}
	reason := findWidget[*widget.Entry](t, w.Canvas().Content(), func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, "Why keep it?") })
	test.Type(reason, "Treatment named in passing, no detail: kept for the complaint")
	capture(t, w, "dpo-review.png")

	test.Tap(findWidget[*widget.Button](t, w.Canvas().Content(), func(b *widget.Button) bool { return b.Text == "Keep the recording" }))
	r.Wait()
	if on := viewTexts(w.Canvas().Content()); !strings.Contains(on, "Kept: the inbound call from +441632960555") || queue.Length() != 1 {
		t.Fatalf("after keeping, the view shows %d item(s):\n%s", queue.Length(), on)
	}
	all, err := dee.Review(ctx, "all")
	if err != nil {
		t.Fatal(err)
	}
	var kept, declined server.ReviewItem
	for _, it := range all.Items {
		switch it.Kind {
		case "flag":
			kept = it
		case "declined":
			declined = it
		}
	}
	if kept.State != "done" || kept.Decision != "keep" || kept.DecidedBy != "dee" || kept.DecisionNote != "Treatment named in passing, no detail: kept for the complaint" {
		t.Fatalf("the server holds the flag as %+v", kept)
	}
	if declined.State != "open" || declined.CallID != "c2" {
		t.Fatalf("the declined call left the queue: %+v", declined)
	}

	// The officer who flagged the call reads in her own window that it was
	// kept, and not the dpo's reason.
	oliveClient := uplink.New(uplink.Options{BaseURL: base, Token: staticToken(olive), Logger: slog.New(slog.DiscardHandler)})
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	mine := NewMyFlags(oliveClient, pol, app.Snapshot{})
	t.Cleanup(mine.Stop)
	mw := test.NewTempWindow(t, mine.Content())
	mw.Resize(fyne.NewSize(420, 440))
	mine.Refresh()
	mine.Wait()
	on = viewTexts(mw.Canvas().Content())
	for _, want := range []string{"Kept after review", "Health details were recorded · the part from 12 s to 47.5 s", "1, all decided"} {
		if !strings.Contains(on, want) {
			t.Fatalf("olive's My flags does not show %q:\n%s", want, on)
		}
	}
	if strings.Contains(on, "kept for the complaint") {
		t.Fatalf("olive's My flags shows the dpo's reason:\n%s", on)
	}

	// Holds and retention: the hold, the declined call due within the week,
	// and a lift asked for with a reason.
	findWidget[*container.AppTabs](t, w.Canvas().Content(), func(*container.AppTabs) bool { return true }).SelectIndex(1)
	holds := findWidget[*widget.List](t, w.Canvas().Content(), func(l *widget.List) bool { return l.Length() == 1 && l != queue })
	holds.Select(0)
	on = viewTexts(w.Canvas().Content())
	for _, want := range []string{"complaint — number +441632960555", "owner Complaints team", "(due)", "Calls retention deletes in the next 7 days: 1."} {
		if !strings.Contains(on, want) {
			t.Fatalf("the holds tab does not show %q:\n%s", want, on)
		}
	}
	test.Type(findWidget[*widget.Entry](t, w.Canvas().Content(), func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, "Why the hold can be lifted") }),
		"Complaint C-2026-031 closed")
	capture(t, w, "dpo-holds.png")
	test.Tap(findWidget[*widget.Button](t, w.Canvas().Content(), func(b *widget.Button) bool { return b.Text == "Ask to lift the hold" }))
	r.Wait()
	got, _, err := dee.Holds(ctx, false)
	if err != nil || len(got) != 1 || got[0].ID != hold.ID || got[0].LiftRequestedBy != "dee" || got[0].LiftReason != "Complaint C-2026-031 closed" {
		t.Fatalf("the server holds %+v (%v)", got, err)
	}
}

func staticToken(tok string) func() (string, error) {
	return func() (string, error) { return tok, nil }
}

// postEvents sends a batch of events as the officer's desktop does.
func postEvents(t *testing.T, base, token, body string) {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/api/v1/events", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %s", resp.Status)
	}
}

// uploadRecordings spools an encrypted recording (50 s of a tone) for each
// call as the recorder writes it, and lets the officer's uplink deliver
// them.
func uploadRecordings(t *testing.T, base, token string, to age.Recipient, calls ...string) {
	t.Helper()
	spool := t.TempDir()
	pcm := make([]byte, 50*16000*artefact.BytesPerFrame)
	for i := 0; i < len(pcm); i += 2 {
		v := int16(8000 * math.Sin(float64(i)/40)) // little-endian PCM16
		pcm[i], pcm[i+1] = byte(v), byte(v>>8)
	}
	for _, id := range calls {
		f, err := os.Create(filepath.Join(spool, id+".wav.age"))
		if err != nil {
			t.Fatal(err)
		}
		w, err := artefact.NewWriter(f, to)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(pcm); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		s := w.Sums()
		m := artefact.Manifest{Version: 1, CallID: id, Agent: "olive", SampleRate: 16000, Channels: 2,
			Frames: int64(len(pcm) / artefact.BytesPerFrame), DataBytes: int64(len(pcm)),
			SHA256Plaintext: s.PlaintextSHA256, SHA256Encrypted: s.EncryptedSHA256, EncryptedBytes: s.EncryptedBytes, Complete: true}
		if err := artefact.WriteManifest(filepath.Join(spool, id+".json"), &m); err != nil {
			t.Fatal(err)
		}
	}
	c := uplink.New(uplink.Options{BaseURL: base, Token: staticToken(token), SpoolDir: spool, PollEvery: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	testrig.Eventually(t, 30*time.Second, func() bool {
		for _, id := range calls {
			if _, err := os.Stat(filepath.Join(spool, id+".json")); !errors.Is(err, os.ErrNotExist) {
				return false
			}
		}
		return true
	}, "the recordings were not uploaded")
}

// darkTheme is fyne's default theme in its dark variant, as the app shows it
// on the test machine's desktop.
type darkTheme struct{ fyne.Theme }

func (d darkTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return d.Theme.Color(n, theme.VariantDark)
}

// capture renders the test window and keeps it as docs/screenshots/name
// when asked to (see keepScreenshot).
func capture(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	// The test driver lays out only on resize; a window lays out what
	// was shown since on its next frame.
	w.Content().Refresh()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatalf("encode %s: %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	keepScreenshot(t, path, name)
}

// viewTexts is every visible label's and button's text under o.
func viewTexts(o fyne.CanvasObject) string {
	var all []string
	walk(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			if x.Visible() {
				all = append(all, x.Text)
			}
		case *widget.Button:
			if x.Visible() {
				all = append(all, x.Text)
			}
		}
	})
	return strings.Join(all, "\n")
}

// findWidget returns the first W under root that ok accepts.
func findWidget[W fyne.CanvasObject](t *testing.T, root fyne.CanvasObject, ok func(W) bool) W {
	t.Helper()
	var found W
	var seen bool
	walk(root, func(o fyne.CanvasObject) {
		if w, is := o.(W); is && !seen && ok(w) {
			found, seen = w, true
		}
	})
	if !seen {
		t.Fatalf("no %T that fits on the screen", found)
	}
	return found
}

// keepScreenshot copies src to docs/screenshots/name when screenshots are
// being refreshed (CALLGUARD_UPDATE_SCREENSHOTS=1), for the data-protection
// guide.
func keepScreenshot(t *testing.T, src, name string) {
	if os.Getenv("CALLGUARD_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
