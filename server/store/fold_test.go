package store

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
)

// TestALaterBatchIsFoldedOnTopOfTheCall: a batch whose events come after
// the call's is applied on top of the stored fold, without reading the
// call's earlier events (here made unreadable to prove it); one that comes
// out of order folds the call again from all its events.
func TestALaterBatchIsFoldedOnTopOfTheCall(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "cg.db"), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ := s.CreateUser(ctx, "olive", server.RoleAgent, "", false)
	tok, hash := auth.NewToken()
	s.CreateDevice(ctx, auth.NewID(), u.ID, "pc", hash)
	p, _ := s.Authenticate(ctx, auth.HashToken(tok))
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ev := func(seq uint64, state string) server.Event {
		return server.Event{ID: "e" + string(rune('a'+seq)), Seq: seq, Time: at.Add(time.Duration(seq) * time.Second), Type: server.EventRecordingState, CallID: "c1", State: state, Reason: map[string]string{"paused": "payment"}[state]}
	}
	if _, err := s.Ingest(ctx, p, []server.Event{ev(1, "recording"), ev(2, "paused")}); err != nil {
		t.Fatal(err)
	}
	// Unreadable if anyone reads them again.
	if _, err := s.db.Exec(`UPDATE events SET body = 'not json' WHERE call_id = 'c1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, p, []server.Event{ev(4, "recording")}); err != nil {
		t.Fatalf("a later batch read the call's earlier events: %v", err)
	}
	c, err := s.Call(ctx, "c1")
	if err != nil || c.Events != 3 || len(c.Pauses) != 1 || c.PausedMS != 2000 || c.State != "recording" {
		t.Fatalf("call %+v, %v", c, err)
	}
	// Out of order (seq 3 after 4): every event again, and so the broken
	// ones are read.
	if _, err := s.Ingest(ctx, p, []server.Event{ev(3, "paused")}); err == nil {
		t.Fatal("an out-of-order event was folded on top")
	}
}
