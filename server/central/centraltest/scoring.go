package centraltest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/autoscore"
	"github.com/callguard/callguard/server/central"
)

// ScoringPolicy is the default policy with one scorecard for every
// category, "Customer service" (server/autoscore/testdata/service.json):
// talk ratio and longest silence measured, empathy on a 1-5 scale, and a
// fail-all.
func ScoringPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "server", "autoscore", "testdata", "service.json"))
	if err != nil {
		t.Fatal(err)
	}
	var card policy.Scorecard
	if err := json.Unmarshal(b, &card); err != nil {
		t.Fatal(err)
	}
	pol.Scorecards = []policy.Scorecard{card}
	return pol
}

// moduleRoot is the repository's root: the nearest directory above the
// test's (its package's) that holds go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = up
	}
}

// RecordedCall sends, as the desktop holding token would, an answered
// inbound call callID of an hour ago and its (opaque) recording and
// complete manifest, which queue it for scoring.
func RecordedCall(t testing.TB, base, token, callID string) {
	t.Helper()
	send := func(method, path, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %s", method, path, resp.Status)
		}
	}
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	send("POST", "/api/v1/events", `{"events":[{"id":"`+callID+`-answered","seq":1,"time":"`+at+`","type":"call.answered","call_id":"`+callID+`",
		"call":{"direction":"inbound","remote":{"number":"+441632960001"},"started":"`+at+`","answered":"`+at+`","recorded":true}}]}`)
	sum := sha256.Sum256([]byte("opaque"))
	send("PUT", "/api/v1/recordings/"+callID+"/audio?offset=0", "opaque")
	send("PUT", "/api/v1/recordings/"+callID+"/manifest", `{"call_id":"`+callID+`","complete":true,"sha256_encrypted":"`+hex.EncodeToString(sum[:])+`"}`)
}

// Evaluate waits up to 30 s for the scoring job's automatic score of
// agent's first call, then completes it as evaluator with empathy
// answered 3 of 5, and returns the evaluator's score.
func Evaluate(t testing.TB, srv *central.Server, agent, evaluator string) server.Score {
	t.Helper()
	ctx := context.Background()
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got, err := srv.Store().Scores(ctx, server.ScoreFilter{Agent: agent})
		if err != nil || len(got) == 0 {
			last = err
			continue
		}
		done, _, err := autoscore.Complete(ctx, srv.Store(), got[0].ID, evaluator, map[string]string{"empathy": "3"}, nil)
		if err == nil {
			return done
		}
		last = err
	}
	t.Fatalf("%s's call was not scored within 30 s (%v)", agent, last)
	return server.Score{}
}
