package protect_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/blob"
	"github.com/callguard/callguard/server/protect"
	"github.com/callguard/callguard/server/store"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(expiryChild())
	}
	testrig.Main(m)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var dialects = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "cg.db") }},
	{"postgres", func(t *testing.T) string { return testrig.PostgreSQL(t) }},
}

func defaultPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// env is a store, a blob store and a protect service on a fake clock.
type env struct {
	t     testing.TB
	url   string
	dir   string
	clk   *clock
	pol   *policy.Policy
	st    *store.Store
	blobs *blob.Store
	svc   *protect.Service
	id    *age.X25519Identity
	agent server.Principal
	dpo   server.Principal
	dpo2  server.Principal
}

type envOption func(*env, *protect.Options)

func withoutKey() envOption {
	return func(_ *env, o *protect.Options) { o.Identities = nil }
}

func newEnv(t testing.TB, url string, pol *policy.Policy, opts ...envOption) *env {
	t.Helper()
	if pol == nil {
		pol = defaultPolicy(t)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, url: url, dir: t.TempDir(), clk: &clock{t: t0}, pol: pol, id: id}
	e.st = openStore(t, url, e.clk, pol)
	// As the server wires it (central.Open): uploads are refused under the
	// call's lock once its deletion has begun.
	if e.blobs, err = blob.Open(e.dir, blob.WithUploadCheck(func(id string) error { return e.st.UploadOpen(context.Background(), id) })); err != nil {
		t.Fatal(err)
	}
	e.svc = e.service(opts...)
	ctx := context.Background()
	e.agent = principal(t, e.st, "olive", server.RoleAgent)
	e.dpo = principal(t, e.st, "dee", server.RoleDPO)
	e.dpo2 = principal(t, e.st, "dan", server.RoleDPO)
	_ = ctx
	return e
}

// openStoreNoT opens a store with the default policy outside a test (the
// kill -9 child).
func openStoreNoT(url string, clk *clock) *store.Store {
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		panic(err)
	}
	st, err := store.Open(context.Background(), url, store.WithClock(clk.Now), store.WithPolicy(pol), store.WithLogger(quiet()))
	if err != nil {
		panic(err)
	}
	return st
}

func openStore(t testing.TB, url string, clk *clock, pol *policy.Policy) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, store.WithClock(clk.Now), store.WithPolicy(pol), store.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// service returns a new protect service on the env's store and blobs.
func (e *env) service(opts ...envOption) *protect.Service {
	o := protect.Options{Store: e.st, Blobs: e.blobs, Policy: e.pol, Identities: []age.Identity{e.id}, Clock: e.clk.Now, Logger: quiet(), Batch: 7}
	for _, f := range opts {
		f(e, &o)
	}
	return protect.New(o)
}

func principal(t testing.TB, st *store.Store, name string, role server.Role) server.Principal {
	t.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, name, role, "", false)
	if err != nil {
		t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	if err := st.CreateDevice(ctx, auth.NewID(), u.ID, name+"-pc", hash); err != nil {
		t.Fatal(err)
	}
	p, err := st.Authenticate(ctx, auth.HashToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// call describes a call for ingest.
type call struct {
	id        string
	start     time.Time
	direction string
	remote    string
	declined  bool
	failed    bool
	flags     []flag
	// sent is when the desktop sends the call's events, on the server's
	// clock: zero means as the call happens, at its start.
	sent time.Time
}

type flag struct {
	reason   string
	note     string
	from, to int64 // ms; to == 0: no interval
}

var seq uint64

// ingest sends the events the core emits for c as its agent.
func (e *env) ingest(c call) {
	e.t.Helper()
	if c.direction == "" {
		c.direction = "inbound"
	}
	if c.remote == "" {
		c.remote = "+441632960" + fmt.Sprintf("%03d", len(c.id))
	}
	at := func(s int) time.Time { return c.start.Add(time.Duration(s) * time.Second) }
	ec := func(answered, ended *time.Time) *server.EventCall {
		return &server.EventCall{Direction: c.direction, Local: server.Party{Number: "2001"}, Remote: server.Party{Number: c.remote, Name: "A Caller"},
			SIPCallID: "sip-" + c.id, Started: c.start, Answered: answered, Ended: ended, Recorded: answered != nil}
	}
	a, end := at(2), at(60)
	evs := []server.Event{
		{Type: server.EventCallRinging, Call: ec(nil, nil), Time: at(0)},
		{Type: server.EventCallAnswered, Call: ec(&a, nil), Time: at(2)},
		{Type: server.EventNotice, Outcome: "announced", Time: at(2)},
		{Type: server.EventRecordingState, State: "recording", Time: at(2)},
	}
	if c.failed {
		evs = append(evs, server.Event{Type: server.EventRecordingState, State: "failed", Reason: "device lost", Time: at(20)})
	}
	if c.declined {
		evs = append(evs, server.Event{Type: server.EventNotice, Outcome: "objected", Time: at(30)},
			server.Event{Type: server.EventRecordingState, State: "declined", Time: at(30)})
	}
	for i, f := range c.flags {
		ev := server.Event{Type: server.EventFlag, Reason: f.reason, Note: f.note, Time: at(40 + i)}
		if f.to > 0 {
			from, to := f.from, f.to
			ev.FromMS, ev.ToMS = &from, &to
		}
		evs = append(evs, ev)
	}
	evs = append(evs, server.Event{Type: server.EventCallEnded, Call: ec(&a, &end), Time: end})
	for i := range evs {
		seq++
		evs[i].ID, evs[i].Seq, evs[i].CallID, evs[i].Agent = fmt.Sprintf("%s-e%d", c.id, i), seq, c.id, "olive"
	}
	// The server receives the events when they are sent, which decides
	// what its clock counts the call from.
	now, sent := e.clk.Now(), c.sent
	if sent.IsZero() {
		sent = c.start
	}
	e.clk.Set(sent)
	defer e.clk.Set(now)
	if _, err := e.st.Ingest(context.Background(), e.agent, evs); err != nil {
		e.t.Fatal(err)
	}
}

// signal is a known stereo PCM16 signal, never zero.
func signal(frames int) []byte {
	b := make([]byte, frames*artefact.BytesPerFrame)
	for i := range frames {
		for ch := range 2 {
			v := uint16((uint32(i)*2654435761+uint32(ch)*40503)>>16) | 1
			binary.LittleEndian.PutUint16(b[i*4+ch*2:], v)
		}
	}
	return b
}

// recording encrypts seconds of signal to the organisation's key with the
// artefact writer (the recorder's), as the desktop would upload it.
func (e *env) recording(callID string, seconds int) (audio, manifest []byte, pcm []byte) {
	e.t.Helper()
	pcm = signal(seconds * artefact.SampleRate)
	var buf bytes.Buffer
	w, err := artefact.NewWriter(&buf, e.id.Recipient())
	if err != nil {
		e.t.Fatal(err)
	}
	w.Write(pcm)
	if err := w.Close(); err != nil {
		e.t.Fatal(err)
	}
	sums := w.Sums()
	m := artefact.Manifest{Version: 1, CallID: callID, Agent: "olive", Direction: "inbound", Recipients: []string{e.id.Recipient().String()},
		SampleRate: 16000, Channels: 2, Frames: int64(len(pcm) / 4), DataBytes: int64(len(pcm)), DurationMS: int64(seconds * 1000),
		SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256, EncryptedBytes: sums.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}}
	m.Remote.Number = "+441632960123"
	mb, _ := json.Marshal(m)
	return buf.Bytes(), mb, pcm
}

// upload stores a recording as the upload routes do: claim, append, finish.
func (e *env) upload(callID string, audio, manifest []byte) string {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.st.ClaimRecording(ctx, e.agent, callID); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.blobs.Append(callID, 0, bytes.NewReader(audio)); err != nil {
		e.t.Fatal(err)
	}
	var m struct {
		SHA string `json:"sha256_encrypted"`
	}
	json.Unmarshal(manifest, &m)
	size, err := e.blobs.Finish(callID, m.SHA, manifest)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.StoreRecording(ctx, callID, size, m.SHA, manifest); err != nil {
		e.t.Fatal(err)
	}
	return m.SHA
}

// uploadRaw stores arbitrary bytes as a call's recording.
func (e *env) uploadRaw(callID string, body []byte) {
	e.t.Helper()
	sum := sha256.Sum256(body)
	manifest := fmt.Sprintf(`{"call_id":%q,"complete":true,"sha256_encrypted":%q}`, callID, hex.EncodeToString(sum[:]))
	e.upload(callID, body, []byte(manifest))
}

// partial leaves an unfinished upload of n bytes.
func (e *env) partial(callID string, n int) {
	e.t.Helper()
	if _, err := e.st.ClaimRecording(context.Background(), e.agent, callID); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.blobs.Append(callID, 0, bytes.NewReader(bytes.Repeat([]byte{7}, n))); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) call(id string) server.Call {
	e.t.Helper()
	c, err := e.st.Call(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) expire() server.ExpiryReport {
	e.t.Helper()
	rep, err := e.svc.Expire(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

// decrypt decrypts the stored recording of a call.
func (e *env) decrypt(callID string) []byte {
	e.t.Helper()
	var out bytes.Buffer
	if _, err := artefact.Decrypt(e.blobs.AudioPath(callID), []age.Identity{e.id}, &out); err != nil {
		e.t.Fatal(err)
	}
	return out.Bytes()
}

// auditedDeletions counts how often each call appears in the retention
// and erasure audit records.
func auditedDeletions(t testing.TB, st *store.Store) map[string]int {
	t.Helper()
	recs, err := st.SearchAudit(context.Background(), server.AuditFilter{Action: "", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	after := int64(0)
	for len(recs) > 0 {
		for _, r := range recs {
			after = r.Seq
			if r.Action != server.AuditRetentionDelete && r.Action != server.AuditErasureDone {
				continue
			}
			var d struct{ Calls []string }
			json.Unmarshal([]byte(r.Detail), &d)
			for _, id := range d.Calls {
				out[id]++
			}
		}
		recs, _ = st.SearchAudit(context.Background(), server.AuditFilter{AfterSeq: after, Limit: 1000})
	}
	return out
}

// verifyAudit signs a checkpoint of the audit chain and verifies it.
func verifyAudit(t testing.TB, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	st.SetAuditKey(key, 0)
	if _, err := st.Checkpoint(ctx); err != nil && !errors.Is(err, store.ErrAuditEmpty) {
		t.Fatal(err)
	}
	if seq, err := st.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit broken at %d: %v", seq, err)
	}
}
