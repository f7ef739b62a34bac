package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/store"
)

func TestMain(m *testing.M) { testrig.Main(m) }

// dialects runs the suite on SQLite in a temp dir and on PostgreSQL.
var dialects = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "callguard.db") }},
	{"postgres", func(t *testing.T) string { return testrig.PostgreSQL(t) }},
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func open(t *testing.T, url string, clk *clock) *store.Store {
	t.Helper()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), url, store.WithClock(clk.Now), store.WithPolicy(pol),
		store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func forEachDialect(t *testing.T, f func(t *testing.T, s *store.Store, clk *clock)) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
			f(t, open(t, d.url(t), clk), clk)
		})
	}
}

// agentDevice creates an agent account with one device.
func agentDevice(t *testing.T, s *store.Store, name string) server.Principal {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, name, server.RoleAgent, "", false)
	if err != nil {
		t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	id := auth.NewID()
	if err := s.CreateDevice(ctx, id, u.ID, name+"-pc", hash); err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, auth.HashToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// callEvents is the sequence the core emits for an inbound call that is
// recorded, paused for a payment, resumed, flagged and ended.
func callEvents(callID string, firstSeq uint64, start time.Time, remote string) []server.Event {
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	call := func(answered, ended *time.Time) *server.EventCall {
		return &server.EventCall{Direction: "inbound", Local: server.Party{Number: "2001"}, Remote: server.Party{Number: remote, Name: "Caller"},
			SIPCallID: "sip-" + callID, Started: start, Answered: answered, Ended: ended, Recorded: answered != nil}
	}
	a, e := at(5), at(120)
	from, to := int64(10_000), int64(20_000)
	evs := []server.Event{
		{Type: server.EventCallRinging, Call: call(nil, nil), Time: at(0)},
		{Type: server.EventRecordingState, State: "ringing", Time: at(0)},
		{Type: server.EventCallAnswered, Call: call(&a, nil), Time: at(5)},
		{Type: server.EventNotice, Outcome: "announced", Time: at(5)},
		{Type: server.EventRecordingState, State: "recording", Time: at(5)},
		{Type: server.EventRecordingState, State: "paused", Reason: "payment", Time: at(30)},
		{Type: server.EventRecordingState, State: "recording", Time: at(90)},
		{Type: server.EventFlag, Reason: "health", Note: "spoke of a diagnosis", FromMS: &from, ToMS: &to, Time: at(100)},
		{Type: server.EventCallEnded, Call: call(&a, &e), Time: at(120)},
	}
	for i := range evs {
		evs[i].ID = fmt.Sprintf("%s-e%d", callID, i)
		evs[i].Seq = firstSeq + uint64(i)
		evs[i].Agent = "claimed"
		evs[i].CallID = callID
	}
	return evs
}

func TestMigrateTwice(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
	})
}

func TestAccounts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		hash, err := auth.HashPassword("correct horse battery", 4)
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.CreateUser(ctx, "ann", server.RoleSupervisor, hash, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, "ann", server.RoleAgent, hash, false); !errors.Is(err, server.ErrExists) {
			t.Fatalf("duplicate user: got %v, want ErrExists", err)
		}
		if _, err := s.CreateUser(ctx, "bob", "boss", hash, false); !errors.Is(err, server.ErrInvalid) {
			t.Fatalf("bad role: got %v, want ErrInvalid", err)
		}
		got, gotHash, err := s.UserByName(ctx, "ann")
		if err != nil || got.ID != u.ID || got.Role != server.RoleSupervisor || auth.CheckPassword(gotHash, "correct horse battery") != nil {
			t.Fatalf("UserByName = %+v, %v", got, err)
		}
		if _, _, err := s.UserByName(ctx, "nobody"); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}

		tok, th := auth.NewToken()
		id := auth.NewID()
		if err := s.CreateDevice(ctx, id, u.ID, "ann-laptop", th); err != nil {
			t.Fatal(err)
		}
		p, err := s.Authenticate(ctx, auth.HashToken(tok))
		if err != nil || p.DeviceID != id || p.Username != "ann" || p.Role != server.RoleSupervisor {
			t.Fatalf("Authenticate = %+v, %v", p, err)
		}
		if _, err := s.Authenticate(ctx, auth.HashToken("cgd_unknown")); !errors.Is(err, server.ErrUnauthorized) {
			t.Fatalf("unknown token: %v", err)
		}
		if err := s.SetUserDisabled(ctx, "ann", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, auth.HashToken(tok)); !errors.Is(err, server.ErrDisabled) {
			t.Fatalf("disabled user's token: %v", err)
		}
		if err := s.SetUserDisabled(ctx, "ann", false); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
		if err := s.RevokeDevice(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, auth.HashToken(tok)); !errors.Is(err, server.ErrTokenRevoked) {
			t.Fatalf("revoked token: %v", err)
		}
		if err := s.RevokeDevice(ctx, "nope"); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("revoke unknown device: %v", err)
		}
		// Rotating the named device gives a new working token, same id.
		tok2, th2 := auth.NewToken()
		rid, err := s.RotateDevice(ctx, u.ID, "ann-laptop", th2)
		if err != nil || rid != id {
			t.Fatalf("RotateDevice = %q, %v", rid, err)
		}
		if _, err := s.Authenticate(ctx, auth.HashToken(tok2)); err != nil {
			t.Fatalf("rotated token: %v", err)
		}
		if _, err := s.Authenticate(ctx, auth.HashToken(tok)); !errors.Is(err, server.ErrUnauthorized) {
			t.Fatalf("old token after rotation: %v", err)
		}
		devs, err := s.Devices(ctx)
		if err != nil || len(devs) != 1 || devs[0].Username != "ann" || devs[0].Revoked != nil {
			t.Fatalf("Devices = %+v, %v", devs, err)
		}
		users, err := s.Users(ctx)
		if err != nil || len(users) != 1 {
			t.Fatalf("Users = %+v, %v", users, err)
		}
	})
}

func TestIngestIsIdempotentAndOrderFree(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		p := agentDevice(t, s, "olive")
		start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		evs := callEvents("c1", 1, start, "+441632960123")

		// The second half arrives first; then everything again.
		res, err := s.Ingest(ctx, p, evs[5:])
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 4 || res.Duplicate != 0 || res.AckedSeq != 9 {
			t.Fatalf("first batch: %+v", res)
		}
		res, err = s.Ingest(ctx, p, append(evs, evs[0]))
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 5 || res.Duplicate != 5 || res.AckedSeq != 9 {
			t.Fatalf("second batch: %+v", res)
		}
		n, seqs, err := s.EventCount(ctx, p.DeviceID)
		if err != nil || n != 9 || seqs != 9 {
			t.Fatalf("EventCount = %d, %d, %v", n, seqs, err)
		}
		c, err := s.Call(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if c.Agent != "olive" || c.Direction != "inbound" || c.Remote.Number != "+441632960123" || !c.Recorded || c.Notice != "announced" {
			t.Fatalf("call = %+v", c)
		}
		if c.Answered == nil || !c.Answered.Equal(start.Add(5*time.Second)) || c.Ended == nil || !c.Ended.Equal(start.Add(120*time.Second)) {
			t.Fatalf("call times: answered %v ended %v", c.Answered, c.Ended)
		}
		if len(c.Pauses) != 1 || c.Pauses[0].Reason != "payment" || c.PausedMS != 60_000 {
			t.Fatalf("pauses = %+v, paused %d ms", c.Pauses, c.PausedMS)
		}
		if len(c.Flags) != 1 || c.Flags[0].Reason != "health" || *c.Flags[0].FromMS != 10_000 {
			t.Fatalf("flags = %+v", c.Flags)
		}
		// Flagged for health and not yet reviewed: the default policy keeps it a week.
		if c.RetentionRule != "health-flagged" || c.DeleteAfter == nil || !c.DeleteAfter.Equal(start.AddDate(0, 0, 7)) {
			t.Fatalf("retention: %s %v", c.RetentionRule, c.DeleteAfter)
		}
		if c.Flags[0].Outcome != server.OutcomePending || c.Flags[0].Review != server.ReviewOpen || c.Held || c.Erased != nil {
			t.Fatalf("flag %+v, held %v, erased %v", c.Flags[0], c.Held, c.Erased)
		}
		if c.Events != 9 || c.Recording != server.RecordingNone {
			t.Fatalf("events %d recording %s", c.Events, c.Recording)
		}
	})
}

func TestIngestCountsGaps(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		p := agentDevice(t, s, "gus")
		evs := callEvents("g1", 1, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), "100")
		if _, err := s.Ingest(ctx, p, evs[:3]); err != nil {
			t.Fatal(err)
		}
		res, err := s.Ingest(ctx, p, evs[5:]) // 4 and 5 never come
		if err != nil {
			t.Fatal(err)
		}
		if res.Gaps != 1 || res.AckedSeq != 9 {
			t.Fatalf("res = %+v", res)
		}
		d, err := s.Device(ctx, p.DeviceID)
		if err != nil || d.SeqGaps != 1 || d.AckedSeq != 9 || d.LastSeen == nil {
			t.Fatalf("device = %+v, %v", d, err)
		}
	})
}

func TestEventsOfAnotherAgentDoNotChangeACall(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		olive, mallory := agentDevice(t, s, "olive"), agentDevice(t, s, "mallory")
		start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		if _, err := s.Ingest(ctx, olive, callEvents("c1", 1, start, "555")[:3]); err != nil {
			t.Fatal(err)
		}
		forged := callEvents("c1", 1, start, "666")
		for i := range forged {
			forged[i].ID = "forged-" + forged[i].ID
		}
		if _, err := s.Ingest(ctx, mallory, forged); err != nil {
			t.Fatal(err)
		}
		c, err := s.Call(ctx, "c1")
		if err != nil || c.Agent != "olive" || c.Remote.Number != "555" || c.Events != 3 {
			t.Fatalf("call = %+v, %v", c, err)
		}
	})
}

func TestSearchCalls(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		olive, pat := agentDevice(t, s, "olive"), agentDevice(t, s, "pat")
		day := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		mustIngest := func(p server.Principal, evs []server.Event) {
			t.Helper()
			if _, err := s.Ingest(ctx, p, evs); err != nil {
				t.Fatal(err)
			}
		}
		mustIngest(olive, callEvents("o1", 1, day, "+441632960001"))
		mustIngest(olive, callEvents("o2", 10, day.Add(24*time.Hour), "+441632960002"))
		mustIngest(pat, callEvents("p1", 1, day.Add(2*time.Hour), "+441632960001"))
		ids := func(f server.CallFilter) []string {
			t.Helper()
			cs, err := s.SearchCalls(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    server.CallFilter
			want string
		}{
			{"everything newest first", server.CallFilter{}, "[o2 p1 o1]"},
			{"by number", server.CallFilter{Number: "960001"}, "[p1 o1]"},
			{"by agent", server.CallFilter{Agent: "olive"}, "[o2 o1]"},
			{"by date range", server.CallFilter{From: day.Add(time.Hour), To: day.Add(3 * time.Hour)}, "[p1]"},
			{"like wildcards are literal", server.CallFilter{Number: "%"}, "[]"},
			{"limit and offset", server.CallFilter{Limit: 1, Offset: 1}, "[p1]"},
		} {
			if got := fmt.Sprint(ids(tc.f)); got != tc.want {
				t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
			}
		}
	})
}

func TestRecordingOwnership(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		olive, pat := agentDevice(t, s, "olive"), agentDevice(t, s, "pat")
		if _, err := s.Ingest(ctx, olive, callEvents("o1", 1, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), "1")); err != nil {
			t.Fatal(err)
		}
		// Pat's desktop using olive's call id claims a recording of pat's
		// own, under another id: olive's is untouched.
		pr, err := s.ClaimRecording(ctx, pat, "o1")
		if err != nil || pr.CallID == "o1" || !server.ValidID(pr.CallID) {
			t.Fatalf("pat claims o1: %+v, %v", pr, err)
		}
		// A recording that arrives before its call's events is its
		// uploader's; the other account's claim is another recording.
		early, err := s.ClaimRecording(ctx, pat, "early")
		if err != nil || early.CallID != "early" {
			t.Fatalf("pat's early recording: %+v, %v", early, err)
		}
		if r, err := s.ClaimRecording(ctx, olive, "early"); err != nil || r.CallID == "early" {
			t.Fatalf("olive's early recording: %+v, %v", r, err)
		}
		r, err := s.ClaimRecording(ctx, olive, "o1")
		if err != nil || r.Status != "uploading" || r.CallID != "o1" {
			t.Fatalf("claim = %+v, %v", r, err)
		}
		if err := s.StoreRecording(ctx, "o1", 42, "abc", []byte(`{"call_id":"o1"}`)); err != nil {
			t.Fatal(err)
		}
		c, err := s.Call(ctx, "o1")
		if err != nil || c.Recording != server.RecordingStored || c.DesktopID != "o1" {
			t.Fatalf("call recording = %q, %v", c.Recording, err)
		}
		for p, want := range map[*server.Principal]string{&olive: "o1", &pat: pr.CallID} {
			if id, err := s.RecordingCall(ctx, *p, "o1"); err != nil || id != want {
				t.Fatalf("%s's o1 is %q, %v; want %q", p.Username, id, err, want)
			}
		}
		if id, err := s.RecordingCall(ctx, pat, "never"); err != nil || id != "" {
			t.Fatalf("nothing sent: %q, %v", id, err)
		}
	})
}

// TestUploadsOfACallBeingDeletedAreRefused: once a call's deletion has
// begun (a pending tombstone) its recording can no longer be claimed or
// uploaded, whether a partial upload was there or nothing had come yet,
// and refusing creates no recording row; the desktop is told the call is
// gone (server.ErrGone) so it drops its copy. Other calls are unaffected.
func TestUploadsOfACallBeingDeletedAreRefused(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		olive, pat := agentDevice(t, s, "olive"), agentDevice(t, s, "pat")
		start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		for i, c := range []struct{ id, remote string }{{"u1", "+441632960111"}, {"n1", "+441632960111"}, {"k1", "+441632960999"}} {
			if _, err := s.Ingest(ctx, olive, callEvents(c.id, uint64(1+20*i), start.Add(time.Duration(i)*time.Hour), c.remote)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.ClaimRecording(ctx, olive, "u1"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"u1", "n1", "k1"} {
			if err := s.UploadOpen(ctx, id); err != nil {
				t.Fatalf("%s before its deletion: %v", id, err)
			}
		}
		free, _, err := s.NumberCandidates(ctx, server.NumberKey("+441632960111"))
		if err != nil || len(free) != 2 {
			t.Fatalf("candidates %+v %v", free, err)
		}
		begun, err := s.BeginDeletions(ctx, free, server.CauseErasure, "1", "dee", nil)
		if err != nil || len(begun) != 2 {
			t.Fatalf("begun %v %v", begun, err)
		}
		gone := func(when string) {
			t.Helper()
			for _, id := range []string{"u1", "n1"} {
				if _, err := s.ClaimRecording(ctx, olive, id); !errors.Is(err, server.ErrGone) {
					t.Fatalf("%s: claim of %s: %v, want ErrGone", when, id, err)
				}
				if err := s.UploadOpen(ctx, id); !errors.Is(err, server.ErrGone) {
					t.Fatalf("%s: upload of %s open: %v, want ErrGone", when, id, err)
				}
				// Pat's desktop using the same id has a call of its own.
				if r, err := s.ClaimRecording(ctx, pat, id); err != nil || r.CallID == id {
					t.Fatalf("%s: pat claims %s: %+v, %v", when, id, r, err)
				}
			}
			if r, err := s.Recording(ctx, "u1"); err != nil || r.Status != "uploading" && r.Status != "deleted" {
				t.Fatalf("%s: u1 = %+v %v", when, r, err)
			}
			if _, err := s.ClaimRecording(ctx, olive, "k1"); err != nil {
				t.Fatalf("%s: another call: %v", when, err)
			}
		}
		gone("deletion begun")
		if _, err := s.Recording(ctx, "n1"); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("a refused claim made a recording row: %v", err)
		}
		if _, err := s.FinishDeletions(ctx, begun); err != nil {
			t.Fatal(err)
		}
		gone("deletion finished")
	})
}

func TestPresence(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		for i, st := range []string{`{"state":"idle"}`, `{"state":"recording"}`} {
			if err := s.SavePresence(ctx, store.PresenceRow{Agent: "olive", Device: fmt.Sprint("d", i), State: []byte(st), LastSeen: clk.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := s.Presence(ctx)
		if err != nil || len(rows) != 1 || string(rows[0].State) != `{"state":"recording"}` || rows[0].Device != "d1" {
			t.Fatalf("Presence = %+v, %v", rows, err)
		}
	})
}

func TestAuditChain(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Audit(ctx, server.AuditRecord{Actor: "ann", Action: server.AuditLogin, Target: fmt.Sprint(i)}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		recs, err := s.AuditLog(ctx, 0, 100)
		if err != nil || len(recs) != 20 {
			t.Fatalf("AuditLog: %d records, %v", len(recs), err)
		}
		if _, err := s.VerifyAudit(ctx); !errors.Is(err, store.ErrAuditBroken) {
			t.Fatalf("VerifyAudit without a checkpoint = %v", err)
		}
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		s.SetAuditKey(key, 0)
		if _, err := s.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		if seq, err := s.VerifyAudit(ctx); err != nil || seq != 0 {
			t.Fatalf("VerifyAudit = %d, %v", seq, err)
		}
		if err := s.Audit(ctx, server.AuditRecord{Action: "x", Detail: "not json"}); !errors.Is(err, server.ErrInvalid) {
			t.Fatalf("bad detail: %v", err)
		}
		if _, err := s.DB().ExecContext(ctx, `UPDATE audit SET actor = 'eve' WHERE seq = 3`); err == nil {
			t.Fatal("audit row was updated; the table must be append-only")
		}
		if _, err := s.DB().ExecContext(ctx, `DELETE FROM audit WHERE seq = 3`); err == nil {
			t.Fatal("audit row was deleted; the table must be append-only")
		}
	})
}

// dropAuditTriggers does what an attacker with database access would do
// first.
func dropAuditTriggers(t *testing.T, s *store.Store) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_no_update`, `DROP TRIGGER audit_no_delete`, `DROP TRIGGER audit_checkpoints_no_update`, `DROP TRIGGER audit_checkpoints_no_delete`}
	if s.Dialect() == store.PostgreSQL {
		stmts = []string{`DROP TRIGGER audit_no_change ON audit`, `DROP TRIGGER audit_checkpoints_no_change ON audit_checkpoints`}
	}
	for _, q := range stmts {
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditTamperIsFound changes the audit log directly in the database,
// as someone with database access could, and checks that verification
// names the record: a changed row breaks the chain there; a rewritten
// chain disagrees with the next signed checkpoint; rows removed up to a
// checkpoint are missed by it; a checkpoint signed with another key is
// refused.
func TestAuditTamperIsFound(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
			s := open(t, d.url(t), clk)
			s.SetAuditKey(key, 5)
			for i := range 23 {
				clk.Add(time.Second)
				if err := s.Audit(ctx, server.AuditRecord{Actor: "ann", Action: server.AuditCallRead, Target: fmt.Sprint("call-", i)}); err != nil {
					t.Fatal(err)
				}
			}
			v, err := s.VerifyAuditChain(ctx, []ed25519.PublicKey{pub})
			if err != nil || v.Records != 23 || v.Checkpoints != 4 || v.LastCheckpoint != 20 || !v.Trusted {
				t.Fatalf("clean chain: %+v %v", v, err)
			}
			dropAuditTriggers(t, s)
			exec := func(q string, args ...any) {
				t.Helper()
				if s.Dialect() == store.PostgreSQL {
					for i := 1; strings.Contains(q, "?"); i++ {
						q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
					}
				}
				if _, err := s.DB().ExecContext(ctx, q, args...); err != nil {
					t.Fatal(err)
				}
			}
			expectBreak := func(what string, seq int64, words string) {
				t.Helper()
				v, err := s.VerifyAuditChain(ctx, []ed25519.PublicKey{pub})
				if !errors.Is(err, store.ErrAuditBroken) || v.BrokenAt != seq || !strings.Contains(v.Problem, words) {
					t.Fatalf("%s: broken at %d (%s), %v; want %d (%s)", what, v.BrokenAt, v.Problem, err, seq, words)
				}
			}

			exec(`UPDATE audit SET actor = 'eve' WHERE seq = 7`)
			expectBreak("one changed row", 7, "changed")
			exec(`UPDATE audit SET actor = 'ann' WHERE seq = 7`)

			// Rewrite the chain from record 7 on, hashes and all.
			recs, _ := s.AuditLog(ctx, 0, 100)
			saved := append([]server.AuditRecord(nil), recs...)
			prev := recs[5].Hash
			for _, r := range recs[6:] {
				if r.Seq == 7 {
					r.Target = "call-forged"
				}
				r.PrevHash = prev
				r.Hash = store.AuditHash(prev, r)
				exec(`UPDATE audit SET target = ?, prev_hash = ?, hash = ? WHERE seq = ?`, r.Target, r.PrevHash, r.Hash, r.Seq)
				prev = r.Hash
			}
			expectBreak("rewritten chain", 10, "rewritten")
			for _, r := range saved {
				exec(`UPDATE audit SET target = ?, prev_hash = ?, hash = ? WHERE seq = ?`, r.Target, r.PrevHash, r.Hash, r.Seq)
			}

			// Records after the last checkpoint can go unnoticed (the SIEM export
			// has them); up to a checkpoint they cannot.
			exec(`DELETE FROM audit WHERE seq > 20`)
			if v, err := s.VerifyAuditChain(ctx, []ed25519.PublicKey{pub}); err != nil || v.LastSeq != 20 {
				t.Fatalf("tail after the last checkpoint removed: %+v %v", v, err)
			}
			exec(`DELETE FROM audit WHERE seq > 18`)
			expectBreak("records up to a checkpoint removed", 20, "missing")

			// A checkpoint the attacker signed with their own key.
			_, other, _ := ed25519.GenerateKey(rand.Reader)
			s.SetAuditKey(other, 5)
			exec(`DELETE FROM audit_checkpoints WHERE seq = 20`)
			if _, err := s.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			expectBreak("checkpoint with a foreign key", 18, "not the server's")
			if _, err := s.VerifyAuditChain(ctx, nil); err != nil {
				t.Fatalf("without a trusted key the foreign checkpoint passes its own key: %v", err)
			}
		})
	}
}

// TestCheckpointOfAnEmptyAuditLog: with no audit record there is nothing
// to sign, which is said plainly (ErrAuditEmpty) rather than failing; the
// first record can then be signed.
func TestCheckpointOfAnEmptyAuditLog(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		s.SetAuditKey(key, 5)
		if cp, err := s.Checkpoint(ctx); !errors.Is(err, store.ErrAuditEmpty) {
			t.Fatalf("checkpoint of an empty log: %+v, %v; want ErrAuditEmpty", cp, err)
		}
		if cps, err := s.Checkpoints(ctx); err != nil || len(cps) != 0 {
			t.Fatalf("checkpoints after the refusal: %+v %v", cps, err)
		}
		if err := s.Audit(ctx, server.AuditRecord{Actor: "ann", Action: server.AuditCallRead, Target: "call-1"}); err != nil {
			t.Fatal(err)
		}
		if cp, err := s.Checkpoint(ctx); err != nil || cp.Seq != 1 || cp.Signature == "" {
			t.Fatalf("checkpoint of one record: %+v %v", cp, err)
		}
	})
}

// BenchmarkVerifyAudit walks a chain of 100,000 audit records with a
// signed checkpoint every 1,000 and reports records verified per second.
func BenchmarkVerifyAudit(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	for _, d := range []string{"sqlite", "postgres"} {
		b.Run(d, func(b *testing.B) {
			url := "sqlite:" + filepath.Join(b.TempDir(), "cg.db")
			if d == "postgres" {
				url = testrig.PostgreSQL(b)
			}
			ctx := context.Background()
			s, err := store.Open(ctx, url, store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			// Written straight into the table (as Audit would, hashes and all),
			// so the setup takes seconds, not minutes.
			const n = 100_000
			prev := ""
			at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			tx, _ := s.DB().BeginTx(ctx, nil)
			q := `INSERT INTO audit (seq, at, actor, device_id, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
			cq := `INSERT INTO audit_checkpoints (seq, hash, at, public_key, signature) VALUES (?, ?, ?, ?, ?)`
			if d == "postgres" {
				q = `INSERT INTO audit (seq, at, actor, device_id, action, target, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
				cq = `INSERT INTO audit_checkpoints (seq, hash, at, public_key, signature) VALUES ($1, $2, $3, $4, $5)`
			}
			for i := int64(1); i <= n; i++ {
				r := server.AuditRecord{Seq: i, At: at.Add(time.Duration(i) * time.Second), Actor: "dee", Device: "d1", Action: server.AuditPlay,
					Target: fmt.Sprint("call-", i), Detail: `{"ip":"10.0.0.7"}`, PrevHash: prev}
				r.Hash = store.AuditHash(prev, r)
				if _, err := tx.ExecContext(ctx, q, r.Seq, r.At.UnixMilli(), r.Actor, r.Device, r.Action, r.Target, r.Detail, r.PrevHash, r.Hash); err != nil {
					b.Fatal(err)
				}
				if i%1000 == 0 {
					sig := ed25519.Sign(key, store.CheckpointMessage(i, r.Hash, r.At))
					if _, err := tx.ExecContext(ctx, cq, i, r.Hash, r.At.UnixMilli(), hex.EncodeToString(pub), hex.EncodeToString(sig)); err != nil {
						b.Fatal(err)
					}
				}
				prev = r.Hash
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				v, err := s.VerifyAuditChain(ctx, []ed25519.PublicKey{pub})
				if err != nil || v.Records != n || v.Checkpoints != 100 {
					b.Fatalf("%+v %v", v, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// TestBusReconnectsPromptlyAfterAGoodConnection kills the live board's
// PostgreSQL listener again and again, each time after it had reconnected
// and was listening: every loss is a first failure, so the listener comes
// back within the first backoff step, never after a delay that grew over
// earlier, recovered losses.
func TestBusReconnectsPromptlyAfterAGoodConnection(t *testing.T) {
	if s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "callguard.db"), &clock{}); s.Bus() != nil {
		t.Fatal("SQLite (one instance) has a bus")
	}
	s := open(t, testrig.PostgreSQL(t), &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)})
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Bus().Listen(ctx, func([]byte) {}, func() { listening <- struct{}{} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	wait := func(what string, within time.Duration) {
		t.Helper()
		select {
		case <-listening:
		case <-time.After(within):
			t.Fatalf("%s: not listening again within %v", what, within)
		}
	}
	wait("first connection", 10*time.Second)
	pid := 0
	for i := range 6 {
		// The backend killed last may linger in pg_stat_activity a moment.
		if err := s.DB().QueryRow(`SELECT pid FROM pg_stat_activity WHERE query = $1 AND pid <> $2 ORDER BY backend_start DESC LIMIT 1`,
			"LISTEN "+store.LiveChannel, pid).Scan(&pid); err != nil {
			t.Fatalf("loss %d: the listener's backend: %v", i+1, err)
		}
		if _, err := s.DB().Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
		// The first step is 100 ms; doubled five times it would be 3.2 s.
		wait(fmt.Sprintf("loss %d", i+1), 1500*time.Millisecond)
	}
}
