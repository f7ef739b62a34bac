package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/central/centraltest"
)

// fakeScores is the server's side of "My calls" for the view's logic.
type fakeScores struct {
	mu       sync.Mutex
	scores   []server.OfficerScore
	err      error
	sent     []server.ScoreComment
	loads    int
	sendErr  error
	nextNote int64
}

func (f *fakeScores) MyScores(ctx context.Context) ([]server.OfficerScore, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	return append([]server.OfficerScore(nil), f.scores...), f.err
}

func (f *fakeScores) CommentOnScore(ctx context.Context, id int64, kind, text string) (server.ScoreComment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return server.ScoreComment{}, f.sendErr
	}
	f.nextNote++
	c := server.ScoreComment{ID: f.nextNote, ScoreID: id, Author: "olive", Kind: kind, Text: text, At: time.Now()}
	f.sent = append(f.sent, c)
	for i := range f.scores {
		if f.scores[i].ID == id {
			f.scores[i].Comments = append(f.scores[i].Comments, c)
		}
	}
	return c, nil
}

func ptr[T any](v T) *T { return &v }

func olivesScores() []server.OfficerScore {
	day := time.Date(2026, 12, 3, 10, 0, 0, 0, time.Local)
	return []server.OfficerScore{
		{ID: 1, CallID: "s1", DesktopCallID: "c-old", CallStarted: day, Scorecard: "Housing calls", ScorecardVersion: 1,
			Evaluator: "sue", Total: ptr(82.5), Completed: day.Add(time.Hour), Criteria: []server.OfficerCriterion{
				{Section: "Handling", Name: "Let the caller talk", Status: server.CriterionPass, Points: 1, Value: "45 %"},
				{Section: "Handling", Name: "No long silences", Status: server.CriterionNotMeasured, Value: "this desktop sent no voice timeline"},
				{Section: "Manner", Name: "Showed empathy", Status: server.CriterionPoints, Points: 75, Answer: "4"},
				{Section: "Manner", Name: "Read the notice", Status: server.CriterionFail, Reason: "read after recording began"},
			}},
		{ID: 2, CallID: "s2", DesktopCallID: "c-new", CallStarted: day.Add(24 * time.Hour), Scorecard: "Housing calls", ScorecardVersion: 2,
			Evaluator: "sue", Total: ptr(0.0), Completed: day.Add(25 * time.Hour), ZeroedBy: []string{"Took card details"},
			Criteria: []server.OfficerCriterion{{Section: "Must", Name: "Took card details", Status: server.CriterionFail}},
			Comments: []server.ScoreComment{{Author: "olive", Kind: server.CommentDispute, Text: "The caller read them out before I could stop her.", At: day.Add(26 * time.Hour)}}},
	}
}

func openMyCalls(t *testing.T, f ScoreHistory) (*MyCalls, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	v := NewMyCalls(f, app.Snapshot{}, w)
	t.Cleanup(v.Stop)
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(440, 700))
	v.Refresh()
	v.Wait()
	return v, w
}

// Each score is said in words, newest call first: the total, the card and
// its version, who scored it, every criterion's answer with what was
// measured or why it was changed, the fail-all that zeroed it, and the
// comments.
func TestMyCallsSaysEachScoreInWords(t *testing.T) {
	v, w := openMyCalls(t, &fakeScores{scores: olivesScores()})
	got := texts(v.Content())
	for _, want := range []string{
		"Your scored calls, newest first: 2, 1 of them disputed by you.",
		"0 % · Housing calls (version 2)",
		"Scored 0 because of: Took card details.",
		"Dispute by olive, ",
		"82 % · Housing calls (version 1)",
		"scored by sue on ",
		"Let the caller talk: met (45 %)",
		"No long silences: not measured, so left out of the total: this desktop sent no voice timeline",
		"Showed empathy: 75 % of its points",
		"Read the notice: not met — changed by the evaluator: read after recording began",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("My calls lacks %q:\n%s", want, got)
		}
	}
	if !hasInOrder(got, "version 2", "version 1") {
		t.Errorf("the newer call is not first:\n%s", got)
	}
	capture(t, w, "my-calls.png")
	w.Canvas().(interface{ SetScale(float32) }).SetScale(2)
	capture(t, w, "my-calls-200.png")
	w.Canvas().(interface{ SetScale(float32) }).SetScale(1)
	for _, never := range []string{"Play", "Download", "Listen"} {
		if strings.Contains(got, never) {
			t.Errorf("My calls offers %q: officers never hear recordings\n%s", never, got)
		}
	}
}

func TestMyCallsWithNoScoresSaysSo(t *testing.T) {
	v, _ := openMyCalls(t, &fakeScores{})
	if got := texts(v.Content()); !strings.Contains(got, "None of your calls has a completed score yet.") {
		t.Fatalf("empty view says:\n%s", got)
	}
}

func TestMyCallsExplainsAFailureInPlainWords(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{uplink.ErrUnauthorized, "ask IT to enrol it again"},
		{context.DeadlineExceeded, "did not answer in time"},
		{&uplink.HTTPError{Status: 503, Message: "the audit log cannot be written just now"}, "could not list your scored calls: the audit log cannot be written just now"},
	} {
		v, _ := openMyCalls(t, &fakeScores{err: fmt.Errorf("my scores: %w", tc.err)})
		got := texts(v.Content())
		if !strings.Contains(got, tc.want) || strings.Contains(got, "Loading") {
			t.Errorf("%v: the view says\n%s\nwant %q", tc.err, got, tc.want)
		}
	}
}

// The officer disputes a score: an empty dispute is refused on the spot,
// a written one reaches the server and shows under the score.
func TestMyCallsTakesADispute(t *testing.T) {
	f := &fakeScores{scores: olivesScores()[:1]}
	v, w := openMyCalls(t, f)
	test.Tap(findButton(t, v.Content(), "Dispute…"))
	over := w.Canvas().Overlays().Top()
	if over == nil {
		t.Fatal("no dispute dialog")
	}
	test.Tap(findButton(t, over, "Send dispute"))
	if got := texts(over); !strings.Contains(got, "Write something first.") || len(f.sent) != 0 {
		t.Fatalf("an empty dispute: sent %v, dialog says\n%s", f.sent, got)
	}
	entry := findWidget(t, over, func(e *widget.Entry) bool { return e.MultiLine })
	test.Type(entry, "The notice was read at 0:04, before the recording began.")
	capture(t, w, "my-calls-dispute.png")
	test.Tap(findButton(t, over, "Send dispute"))
	v.Wait()
	v.Wait() // the reload the dispute started
	if len(f.sent) != 1 || f.sent[0].Kind != server.CommentDispute || f.sent[0].ScoreID != 1 {
		t.Fatalf("sent %+v", f.sent)
	}
	if got := texts(v.Content()); !strings.Contains(got, "Dispute by olive, ") || !strings.Contains(got, "read at 0:04") {
		t.Fatalf("the dispute is not under the score:\n%s", got)
	}
	if w.Canvas().Overlays().Top() != nil {
		t.Error("the dialog stayed open after the dispute was sent")
	}
}

// A comment the server refuses keeps the dialog open with the server's
// words and the text the officer wrote.
func TestMyCallsKeepsACommentTheServerRefused(t *testing.T) {
	f := &fakeScores{scores: olivesScores()[:1], sendErr: &uplink.HTTPError{Status: 400, Message: "a comment has at most 2000 characters"}}
	v, w := openMyCalls(t, f)
	test.Tap(findButton(t, v.Content(), "Comment…"))
	over := w.Canvas().Overlays().Top()
	entry := findWidget(t, over, func(e *widget.Entry) bool { return e.MultiLine })
	test.Type(entry, "Thanks")
	test.Tap(findButton(t, over, "Send comment"))
	v.Wait()
	capture(t, w, "my-calls-refused.png")
	if got := texts(over); !strings.Contains(got, "could not take your comment: a comment has at most 2000 characters") || entry.Text != "Thanks" {
		t.Fatalf("dialog says\n%s\nwith %q kept", got, entry.Text)
	}
}

// Both buttons sit in the footer without making the compact panel wider.
func TestMyCallsButtonDoesNotWidenThePanel(t *testing.T) {
	test.NewTempApp(t)
	p := NewPanel(test.NewTempWindow(t, nil), coreFor(t, true, nil), testPolicy(t))
	without := p.Content().MinSize().Width
	p.myFlagsBtn.Show()
	p.myCallsBtn.Show()
	if with := p.Content().MinSize().Width; with > without {
		t.Errorf("the panel needs %v px with My calls and My flags, %v without", with, without)
	}
}

// Against a real central server (SQLite, HTTP on loopback): olive's call
// is scored by the scoring job, a supervisor completes it, and olive's
// desktop shows it and sends her dispute, which the server keeps; pat's
// desktop shows none of it.
func TestMyCallsOnARealServer(t *testing.T) {
	ctx := context.Background()
	pol := centraltest.ScoringPolicy(t)
	dir := t.TempDir()
	srv, base, enrol := centraltest.StartServer(t, central.Options{DB: filepath.Join(dir, "cg.db"), DataDir: filepath.Join(dir, "data"),
		Policy: pol, ScoringEvery: 50 * time.Millisecond})
	clients := map[string]*uplink.Client{}
	for _, name := range []string{"olive", "pat"} {
		tok := enrol(name, server.RoleAgent)
		clients[name] = uplink.New(uplink.Options{BaseURL: base, Token: staticToken(tok), Logger: slog.New(slog.DiscardHandler)})
		centraltest.RecordedCall(t, base, tok, name+"-c1")
	}
	centraltest.Evaluate(t, srv, "olive", "sue")
	card := pol.Scorecards[0]

	v, w := openMyCalls(t, clients["olive"])
	got := texts(v.Content())
	if !strings.Contains(got, "Your scored calls, newest first: 1.") || !strings.Contains(got, "scored by sue on ") || !strings.Contains(got, card.Name) ||
		!strings.Contains(got, "Showed empathy: 50 % of its points") || !strings.Contains(got, "Talk ratio 30–70 %: not measured, so left out of the total: ") {
		t.Fatalf("olive's My calls:\n%s", got)
	}
	test.Tap(findButton(t, v.Content(), "Dispute…"))
	over := w.Canvas().Overlays().Top()
	test.Type(findWidget(t, over, func(e *widget.Entry) bool { return e.MultiLine }), "I did acknowledge the caller's worry.")
	test.Tap(findButton(t, over, "Send dispute"))
	v.Wait()
	v.Wait()
	if got := texts(v.Content()); !strings.Contains(got, "Dispute by olive, ") || !strings.Contains(got, "acknowledge the caller's worry") {
		t.Fatalf("olive's dispute is not shown:\n%s", got)
	}
	stored, err := srv.Store().Scores(ctx, server.ScoreFilter{Agent: "olive", CompletedOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var kept bool
	for _, s := range stored {
		for _, c := range s.Comments {
			kept = kept || (c.Kind == server.CommentDispute && c.Author == "olive")
		}
	}
	if !kept {
		t.Fatalf("the server kept no dispute by olive: %+v", stored)
	}

	p, _ := openMyCalls(t, clients["pat"])
	if got := texts(p.Content()); !strings.Contains(got, "None of your calls has a completed score yet.") {
		t.Fatalf("pat's My calls:\n%s", got)
	}
	var he *uplink.HTTPError
	if _, err := clients["pat"].CommentOnScore(ctx, stored[0].ID, server.CommentNote, "mine?"); !errors.As(err, &he) || he.Status != http.StatusNotFound {
		t.Fatalf("pat commented on olive's score: %v", err)
	}
}
