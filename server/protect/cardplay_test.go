package protect_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/callguard/callguard/server"
)

// TestCardDetailsCannotBePlayedBeforeTheyAreRedacted: between the card
// flag and its redaction (the worker has not run yet, or the redaction
// failed) nobody can play the recording; once redacted it plays silenced.
func TestCardDetailsCannotBePlayedBeforeTheyAreRedacted(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, d.url(t), nil)
			e.ingest(call{id: "card2", start: t0, flags: []flag{{reason: "card", from: 1000, to: 2500}}})
			item := e.call("card2").Flags[0].EventID
			audio, manifest, _ := e.recording("card2", 4)
			e.upload("card2", audio, manifest)
			// The worker has not run: the card details are still there.
			var out bytes.Buffer
			_, err := e.svc.Play(ctx, "card2", &out, nil)
			if !errors.Is(err, server.ErrRedactionPending) || out.Len() != 0 {
				t.Fatalf("played %d bytes with the card details unredacted: %v", out.Len(), err)
			}
			if !strings.Contains(err.Error(), item) {
				t.Fatalf("the refusal does not name the review item %s: %v", item, err)
			}
			// A redaction that fails (the file on disk is not what the
			// database holds) keeps it closed, and the item says so.
			healthy := append([]byte(nil), audio...)
			corrupt := append([]byte(nil), audio...)
			corrupt[len(corrupt)-1] ^= 0xff
			e.overwrite("card2", corrupt)
			if _, err := e.svc.Work(ctx); err != nil {
				t.Fatal(err)
			}
			it, _ := e.st.ReviewItem(ctx, item)
			if it.State != server.ReviewRedactionPending || it.Pending != server.PendingFailed {
				t.Fatalf("after a failed redaction the item is %s/%q", it.State, it.Pending)
			}
			if _, err := e.svc.Play(ctx, "card2", &out, nil); !errors.Is(err, server.ErrRedactionPending) || out.Len() != 0 {
				t.Fatalf("played %d bytes after a failed redaction: %v", out.Len(), err)
			}
			e.overwrite("card2", healthy)
			before := e.decrypt("card2")
			if n, err := e.svc.Work(ctx); err != nil || n != 1 {
				t.Fatalf("Work = %d, %v", n, err)
			}
			if _, err := e.svc.Play(ctx, "card2", &out, nil); err != nil {
				t.Fatalf("play after the redaction: %v", err)
			}
			checkSilenced(t, before, out.Bytes(), 1000, 2500)
		})
	}
}

// overwrite replaces a stored recording's file behind the database's back.
func (e *env) overwrite(callID string, body []byte) {
	e.t.Helper()
	if err := os.WriteFile(e.blobs.AudioPath(callID), body, 0o600); err != nil {
		e.t.Fatal(err)
	}
}
