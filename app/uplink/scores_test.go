package uplink_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/central/centraltest"
)

// TestTheOfficersScores: the desktop's client reads the officer's
// completed scores in the server's own types and adds a dispute; another
// officer's score answers as a missing one.
func TestTheOfficersScores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, base, enrol := centraltest.StartServer(t, central.Options{DB: filepath.Join(dir, "cg.db"), DataDir: filepath.Join(dir, "data"),
		Policy: centraltest.ScoringPolicy(t), ScoringEvery: 50 * time.Millisecond})
	clients := map[string]*uplink.Client{}
	for _, name := range []string{"olive", "pat"} {
		tok := enrol(name, server.RoleAgent)
		clients[name] = uplink.New(uplink.Options{BaseURL: base, Token: static(tok), Logger: quiet()})
		centraltest.RecordedCall(t, base, tok, name+"-c1")
	}
	olives := centraltest.Evaluate(t, srv, "olive", "sue")

	mine, err := clients["olive"].MyScores(ctx)
	if err != nil || len(mine) != 1 || mine[0].ID != olives.ID || mine[0].DesktopCallID != "olive-c1" || mine[0].Evaluator != "sue" {
		t.Fatalf("olive's scores: %+v, %v", mine, err)
	}
	if none, err := clients["pat"].MyScores(ctx); err != nil || len(none) != 0 {
		t.Fatalf("pat sees %+v (%v); his call is not evaluated and olive's is not his", none, err)
	}
	_, err = clients["pat"].CommentOnScore(ctx, olives.ID, server.CommentDispute, "not mine")
	var he *uplink.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusNotFound {
		t.Fatalf("pat disputed olive's score: %v", err)
	}
	c, err := clients["olive"].CommentOnScore(ctx, olives.ID, server.CommentDispute, "I did acknowledge the caller's worry at 1:10.")
	if err != nil || c.Kind != server.CommentDispute || c.Author != "olive" {
		t.Fatalf("olive's dispute: %+v, %v", c, err)
	}
	mine, err = clients["olive"].MyScores(ctx)
	if err != nil || len(mine) != 1 || len(mine[0].Comments) != 1 || mine[0].Comments[0].Text != c.Text {
		t.Fatalf("olive's score with her dispute: %+v, %v", mine, err)
	}
}
