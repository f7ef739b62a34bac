package subjectaccess_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
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
	"github.com/callguard/callguard/server/subjectaccess"

	_ "github.com/callguard/callguard/server/store/pglisten"
	_ "modernc.org/sqlite"
)

func TestMain(m *testing.M) { testrig.Main(m) }

// The calendar of the tests: 10 March 2026, 09:00 in London (GMT).
var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

var _ subjectaccess.Recordings = (*protect.Service)(nil)

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

func forEachDialect(t *testing.T, f func(t *testing.T, e *env)) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) { f(t, newEnv(t, d.url(t))) })
	}
}

// env is a store, blobs, the protect service with the organisation's key,
// and the subject-access service, with one account of each role.
type env struct {
	t     testing.TB
	clk   *clock
	pol   *policy.Policy
	st    *store.Store
	blobs *blob.Store
	prot  *protect.Service
	svc   *subjectaccess.Service
	id    *age.X25519Identity

	agent, supervisor, admin, dpo, dpo2 server.Principal
}

func newEnv(t testing.TB, url string) *env {
	t.Helper()
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clk: &clock{t: t0}, pol: pol, id: id}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.st, err = store.Open(context.Background(), url, store.WithClock(e.clk.Now), store.WithPolicy(pol), store.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	if err := e.st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.blobs, err = blob.Open(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	e.prot = protect.New(protect.Options{Store: e.st, Blobs: e.blobs, Policy: pol, Identities: []age.Identity{id}, Clock: e.clk.Now, Logger: quiet})
	e.svc = subjectaccess.New(subjectaccess.Options{Store: e.st, Recordings: e.prot, Policy: pol, Clock: e.clk.Now, Logger: quiet})
	e.agent = e.principal("olive", server.RoleAgent)
	e.supervisor = e.principal("sam", server.RoleSupervisor)
	e.admin = e.principal("ivan", server.RoleAdmin)
	e.dpo = e.principal("dora", server.RoleDPO)
	e.dpo2 = e.principal("dan", server.RoleDPO)
	return e
}

func (e *env) principal(name string, role server.Role) server.Principal {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.st.CreateUser(ctx, name, role, "", false)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	if err := e.st.CreateDevice(ctx, auth.NewID(), u.ID, name+"-pc", hash); err != nil {
		e.t.Fatal(err)
	}
	p, err := e.st.Authenticate(ctx, auth.HashToken(tok))
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// request is a good request received today for number.
func request(numbers ...string) server.SARRequest {
	return server.SARRequest{RequesterName: "Ann Caller", RequesterContact: "12 High Street, Bangor", IdentityMethod: "passport seen at the office",
		IdentityCheckedBy: "dora", Received: server.Date(t0, nil), Numbers: numbers, Reference: "SAR-2026-014"}
}

// call is a call to ingest: its start, number, direction, pauses (offsets
// in seconds from the start, with the policy's reason) and length.
type call struct {
	id, remote, direction string
	start                 time.Time
	seconds               int
	pauses                []pause
	// card flags the call's first two seconds as holding card details
	// (redacted at once, so withheld until then).
	card bool
}

type pause struct {
	reason   string
	from, to int
}

var seq uint64

// ingest sends the events the core emits for c as its agent's desktop.
func (e *env) ingest(c call, p server.Principal) {
	e.t.Helper()
	if c.direction == "" {
		c.direction = "inbound"
	}
	if c.seconds == 0 {
		c.seconds = 60
	}
	at := func(s int) time.Time { return c.start.Add(time.Duration(s) * time.Second) }
	ec := func(answered, ended *time.Time) *server.EventCall {
		return &server.EventCall{Direction: c.direction, Local: server.Party{Number: "2001"}, Remote: server.Party{Number: c.remote, Name: "Ann Caller"},
			SIPCallID: "sip-" + c.id, Started: c.start, Answered: answered, Ended: ended, Recorded: answered != nil}
	}
	a, end := at(0), at(c.seconds)
	evs := []server.Event{
		{Type: server.EventCallRinging, Call: ec(nil, nil), Time: at(0)},
		{Type: server.EventCallAnswered, Call: ec(&a, nil), Time: at(0)},
		{Type: server.EventRecordingState, State: "recording", Time: at(0)},
	}
	for _, pz := range c.pauses {
		evs = append(evs, server.Event{Type: server.EventRecordingState, State: "paused", Reason: pz.reason, Time: at(pz.from)},
			server.Event{Type: server.EventRecordingState, State: "recording", Time: at(pz.to)})
	}
	if c.card {
		from, to := int64(0), int64(2000)
		evs = append(evs, server.Event{Type: server.EventFlag, Reason: "card", FromMS: &from, ToMS: &to, Time: at(5)})
	}
	evs = append(evs, server.Event{Type: server.EventCallEnded, Call: ec(&a, &end), Time: end})
	for i := range evs {
		seq++
		evs[i].ID, evs[i].Seq, evs[i].CallID, evs[i].Agent = fmt.Sprintf("%s-e%d", c.id, i), seq, c.id, p.Username
	}
	now := e.clk.Now()
	e.clk.Set(c.start)
	defer e.clk.Set(now)
	if _, err := e.st.Ingest(context.Background(), p, evs); err != nil {
		e.t.Fatal(err)
	}
}

// signal is a known stereo PCM16 signal, never zero, different per call.
func signal(frames int, salt uint32) []byte {
	b := make([]byte, frames*artefact.BytesPerFrame)
	for i := range frames {
		for ch := range 2 {
			v := uint16((uint32(i)*2654435761+uint32(ch)*40503+salt*7919)>>16) | 1
			binary.LittleEndian.PutUint16(b[i*4+ch*2:], v)
		}
	}
	return b
}

// upload stores seconds of a recording of callID, encrypted to the
// organisation's key as the desktop's recorder does, uploaded by p.
func (e *env) upload(callID string, p server.Principal, seconds int) {
	e.t.Helper()
	pcm := signal(seconds*artefact.SampleRate, uint32(len(callID))+uint32(callID[len(callID)-1]))
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
	m := artefact.Manifest{Version: 1, CallID: callID, Agent: p.Username, Direction: "inbound", Recipients: []string{e.id.Recipient().String()},
		SampleRate: 16000, Channels: 2, Frames: int64(len(pcm) / 4), DataBytes: int64(len(pcm)), DurationMS: int64(seconds * 1000),
		SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256, EncryptedBytes: sums.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}}
	manifest, _ := json.Marshal(m)
	e.put(callID, p, buf.Bytes(), sums, manifest)
}

// uploadOpus stores a recording of callID in Opus (opusenc's 5 s of
// speech, as the recorder writes it), uploaded by p.
func (e *env) uploadOpus(callID string, p server.Principal) {
	e.t.Helper()
	stream, err := os.ReadFile(filepath.Join("..", "..", "artefact", "oggopus", "testdata", "speech.opus"))
	if err != nil {
		e.t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := artefact.NewOggWriter(&buf, e.id.Recipient())
	if err != nil {
		e.t.Fatal(err)
	}
	w.Write(stream)
	if err := w.Close(); err != nil {
		e.t.Fatal(err)
	}
	sums := w.Sums()
	const frames = 4952 * 16 // its playback length, 4.952 s
	m := artefact.Manifest{Version: artefact.ManifestVersion, CallID: callID, Agent: p.Username, Direction: "inbound", Recipients: []string{e.id.Recipient().String()},
		SampleRate: 16000, Channels: 2, Codec: artefact.CodecOpus, Bitrate: 24000, FrameMS: 20, Frames: frames, DurationMS: 4952,
		SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256, EncryptedBytes: sums.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}}
	manifest, _ := json.Marshal(m)
	e.put(callID, p, buf.Bytes(), sums, manifest)
}

// put stores an encrypted recording as the upload routes do.
func (e *env) put(callID string, p server.Principal, audio []byte, sums artefact.Sums, manifest []byte) {
	e.t.Helper()
	ctx := context.Background()
	rec, err := e.st.ClaimRecording(ctx, p, callID)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.blobs.Append(rec.CallID, 0, bytes.NewReader(audio)); err != nil {
		e.t.Fatal(err)
	}
	size, err := e.blobs.Finish(rec.CallID, sums.EncryptedSHA256, manifest)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.StoreRecording(ctx, rec.CallID, size, sums.EncryptedSHA256, manifest); err != nil {
		e.t.Fatal(err)
	}
}

// breakAudit makes every insert into the audit log fail inside the
// database, as a full disk would; the returned func mends it.
func breakAudit(t testing.TB, st *store.Store) func() {
	t.Helper()
	var create, drop []string
	if st.Dialect() == store.PostgreSQL {
		create = []string{
			`CREATE FUNCTION audit_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER audit_refuse BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_refuse()`,
		}
		drop = []string{`DROP TRIGGER audit_refuse ON audit`, `DROP FUNCTION audit_refuse()`}
	} else {
		create = []string{`CREATE TRIGGER audit_refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`}
		drop = []string{`DROP TRIGGER audit_refuse`}
	}
	for _, q := range create {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		for _, q := range drop {
			if _, err := st.DB().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// audits are the audit records of action prefix (e.g. "subject-access.").
func (e *env) audits(action string) []server.AuditRecord {
	e.t.Helper()
	recs, err := e.st.SearchAudit(context.Background(), server.AuditFilter{Action: action, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}
