package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/httpapi"
	"github.com/callguard/callguard/server/store"
)

// onEachDatabase runs f on a server on SQLite and on one on PostgreSQL.
func onEachDatabase(t *testing.T, f func(t *testing.T, e *env)) {
	for _, d := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "cg.db") }},
		{"postgres", func(t *testing.T) string { return testrig.PostgreSQL(t) }},
	} {
		t.Run(d.name, func(t *testing.T) { f(t, newEnvOn(t, d.url(t), nil)) })
	}
}

// principal is the account and device of tok, as the server sees them.
func (e *env) principal(tok string) server.Principal {
	e.t.Helper()
	p, err := e.srv.Store().Authenticate(context.Background(), auth.HashToken(tok))
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// phoneCall makes the server remember that the phone system recorded the
// call agent's desktop calls ref, as a confirmed record command does, and
// returns the server's id of the call.
func (e *env) phoneCall(agent, ref, sipCallID, where string) string {
	e.t.Helper()
	id, err := e.srv.Store().AddPhoneRecording(context.Background(), e.principal(agent), ref,
		store.PhoneRecordingRow{SIPCallID: sipCallID, Where: where, OfficerAddrs: []string{"127.0.0.1:30000"}, CallerAddrs: []string{"127.0.0.1:30002"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// lookUp is a collector's lookup of a SIP Call-ID.
func (e *env) lookUp(tok, sipCallID string) server.PhoneRecording {
	e.t.Helper()
	var pr server.PhoneRecording
	e.call(tok, "GET", "/api/v1/phone-recordings?sip_call_id="+sipCallID, "", 200, &pr)
	return pr
}

func manifestOf(callID string, body []byte) string {
	sum := sha256.Sum256(body)
	return fmt.Sprintf(`{"call_id":%q,"complete":true,"sha256_encrypted":%q}`, callID, hex.EncodeToString(sum[:]))
}

// TestCollectorUploadsOnlyWhatThePhoneSystemAloneRecorded attacks the
// upload routes as a collector: only a call the phone system alone
// recorded, not yet another account's, and not deleted, takes its upload.
func TestCollectorUploadsOnlyWhatThePhoneSystemAloneRecorded(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, e *env) {
		olive, col := e.user("olive", server.RoleAgent), e.user("col", server.RoleCollector)
		audio := []byte("age-encrypted bytes of the phone system's recording")

		// A desktop-recorded call: no phone recording row.
		e.call(olive, "POST", "/api/v1/events", batch("olive", 1, 2, "desk1"), 200, nil)
		e.call(col, "PUT", "/api/v1/recordings/desk1/audio?offset=0", string(audio), 403, nil)
		e.call(col, "HEAD", "/api/v1/recordings/desk1/audio", "", 403, nil)
		e.call(col, "GET", "/api/v1/recordings/desk1", "", 403, nil)
		e.call(col, "PUT", "/api/v1/recordings/desk1/manifest", manifestOf("desk1", audio), 403, nil)
		// An id nobody has.
		e.call(col, "PUT", "/api/v1/recordings/nobody/audio?offset=0", string(audio), 403, nil)

		// A call recorded at both: the desktop's recording is the call's.
		both := e.phoneCall(olive, "both1", "both-1@pbx", server.WhereBoth)
		if pr := e.lookUp(col, "both-1@pbx"); pr.Upload || pr.Why == "" || pr.Where != server.WhereBoth || pr.CallID != both {
			t.Fatalf("lookup of a both call: %+v", pr)
		}
		e.call(col, "PUT", "/api/v1/recordings/"+both+"/audio?offset=0", string(audio), 403, nil)

		// A pbx call whose desktop began uploading first (it should not, but
		// may): the collector is refused, the desktop's bytes stand.
		early := e.phoneCall(olive, "early1", "early-1@pbx", "")
		e.call(olive, "PUT", "/api/v1/recordings/early1/audio?offset=0", "desktop bytes", 200, nil)
		if pr := e.lookUp(col, "early-1@pbx"); pr.Upload || pr.Recording != "uploading" {
			t.Fatalf("lookup of a call the desktop is uploading: %+v", pr)
		}
		e.call(col, "PUT", "/api/v1/recordings/"+early+"/audio?offset=0", string(audio), 409, nil)
		e.call(col, "PUT", "/api/v1/recordings/"+early+"/manifest", manifestOf(early, audio), 409, nil)

		// A pbx call with a tombstone (its deletion has begun).
		e.call(olive, "POST", "/api/v1/events", batch("olive", 10, 2, "gone1"), 200, nil)
		gone := e.phoneCall(olive, "gone1", "gone-1@pbx", server.WherePhoneSystem)
		if _, err := e.srv.Store().BeginDeletions(context.Background(), []store.Candidate{{CallID: gone, Started: e.clk.Now(), Rule: "default"}},
			server.CauseRetention, "", "retention", nil); err != nil {
			t.Fatal(err)
		}
		if pr := e.lookUp(col, "gone-1@pbx"); pr.Upload || pr.Recording != "deleted" {
			t.Fatalf("lookup of a deleted call: %+v", pr)
		}
		e.call(col, "PUT", "/api/v1/recordings/"+gone+"/audio?offset=0", string(audio), 410, nil)

		// The one it may: the phone system alone recorded it.
		e.call(olive, "POST", "/api/v1/events", batch("olive", 20, 2, "pbx1"), 200, nil)
		pbx := e.phoneCall(olive, "pbx1", "pbx-1@pbx", server.WherePhoneSystem)
		pr := e.lookUp(col, "pbx-1@pbx")
		if !pr.Upload || pr.Recording != "none" || pr.CallID != pbx || pr.Why != "" ||
			len(pr.OfficerAddrs) != 1 || len(pr.CallerAddrs) != 1 {
			t.Fatalf("lookup of a pbx call: %+v", pr)
		}
		e.call(col, "PUT", "/api/v1/recordings/"+pbx+"/audio?offset=0", string(audio[:10]), 200, nil)
		if pr := e.lookUp(col, "pbx-1@pbx"); !pr.Upload || pr.Recording != "uploading" {
			t.Fatalf("lookup while it uploads: %+v", pr)
		}
		h := e.call(col, "HEAD", "/api/v1/recordings/"+pbx+"/audio", "", 200, nil)
		if h.Get("Upload-Offset") != "10" {
			t.Fatalf("Upload-Offset %q", h.Get("Upload-Offset"))
		}
		e.call(col, "PUT", "/api/v1/recordings/"+pbx+"/audio?offset=10", string(audio[10:]), 200, nil)
		var st struct{ Status string }
		e.call(col, "PUT", "/api/v1/recordings/"+pbx+"/manifest", manifestOf(pbx, audio), 200, &st)
		if st.Status != "stored" {
			t.Fatalf("manifest answered %+v", st)
		}
		e.call(col, "PUT", "/api/v1/recordings/"+pbx+"/manifest", manifestOf(pbx, audio), 200, nil) // a resend
		e.call(col, "GET", "/api/v1/recordings/"+pbx, "", 200, &st)
		if pr := e.lookUp(col, "pbx-1@pbx"); pr.Upload || pr.Recording != "stored" || pr.Why == "" {
			t.Fatalf("lookup once stored: %+v", pr)
		}
		e.call(col, "PUT", "/api/v1/recordings/"+pbx+"/audio?offset=0", "more", 409, nil)

		// The desktop later claiming it is told to drop its copy.
		var eb struct{ Error string }
		e.call(olive, "PUT", "/api/v1/recordings/pbx1/audio?offset=0", "desktop bytes", 410, &eb)
		if !strings.Contains(eb.Error, "the phone system's recording of this call is stored on the server: delete the local copy") {
			t.Fatalf("desktop told %q", eb.Error)
		}
		// The recording is the call's: its agent's desktop sees it stored.
		e.call(olive, "GET", "/api/v1/recordings/pbx1", "", 200, &st)
		if st.Status != "stored" {
			t.Fatalf("the desktop sees %+v", st)
		}

		// It is the call's recording for everyone who may hear it.
		dee := e.user("dee", server.RoleDPO)
		if got := e.download(dee, pbx); string(got) != string(audio) {
			t.Fatalf("the dpo downloads %q", got)
		}
		var calls struct{ Calls []server.Call }
		e.call(olive, "GET", "/api/v1/calls", "", 200, &calls)
		for _, c := range calls.Calls {
			if c.ID == pbx && c.Recording != server.RecordingStored {
				t.Fatalf("olive's call %s: recording %s", c.ID, c.Recording)
			}
		}

		// Another collector account is refused what the first holds.
		col2 := e.user("col2", server.RoleCollector)
		if pr := e.lookUp(col2, "pbx-1@pbx"); pr.Upload {
			t.Fatalf("second collector may upload: %+v", pr)
		}
		e.call(col2, "GET", "/api/v1/recordings/"+pbx, "", 409, nil)
		e.call(col2, "PUT", "/api/v1/recordings/"+pbx+"/manifest", manifestOf(pbx, audio), 409, nil)

		// The stored recording names its uploader's device in the audit.
		recs, err := e.srv.Store().SearchAudit(context.Background(), server.AuditFilter{Action: server.AuditRecordingStore, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		cp := e.principal(col)
		if len(recs) != 1 || recs[0].Target != pbx || recs[0].Device != cp.DeviceID || recs[0].Actor != "col" || !strings.Contains(recs[0].Detail, `"role":"collector"`) {
			t.Fatalf("audit of the store: %+v", recs)
		}
	})
}

// TestPhoneRecordingLookUp: only collectors look up; an unknown Call-ID is
// 404; of two calls that share a Call-ID, the latest answers.
func TestPhoneRecordingLookUp(t *testing.T) {
	e := newEnv(t)
	col := e.user("col", server.RoleCollector)
	for _, r := range []server.Role{server.RoleAgent, server.RoleSupervisor, server.RoleDPO, server.RoleAdmin} {
		tok := e.user("u-"+string(r), r)
		e.call(tok, "GET", "/api/v1/phone-recordings?sip_call_id=x@pbx", "", 403, nil)
	}
	e.call(col, "GET", "/api/v1/phone-recordings?sip_call_id=nobody@pbx", "", 404, nil)
	e.call(col, "GET", "/api/v1/phone-recordings", "", 400, nil)
	e.call(col, "GET", "/api/v1/phone-recordings?sip_call_id="+strings.Repeat("x", 257), "", 400, nil)

	olive := e.principal(e.user("olive", server.RoleAgent))
	st := e.srv.Store()
	first, err := st.AddPhoneRecording(context.Background(), olive, "c1", store.PhoneRecordingRow{SIPCallID: "same@pbx"})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Minute)
	second, err := st.AddPhoneRecording(context.Background(), olive, "c2", store.PhoneRecordingRow{SIPCallID: "same@pbx", Where: server.WhereBoth})
	if err != nil {
		t.Fatal(err)
	}
	if pr := e.lookUp(col, "same@pbx"); pr.CallID != second || pr.CallID == first || pr.Where != server.WhereBoth {
		t.Fatalf("lookup %+v, want the latest call %s", pr, second)
	}
	// The first record of a call wins.
	if _, err := st.AddPhoneRecording(context.Background(), olive, "c2", store.PhoneRecordingRow{SIPCallID: "other@pbx"}); err != nil {
		t.Fatal(err)
	}
	e.call(col, "GET", "/api/v1/phone-recordings?sip_call_id=other@pbx", "", 404, nil)
	// The addresses, when unknown, are empty lists, never null.
	var raw map[string]any
	e.call(col, "GET", "/api/v1/phone-recordings?sip_call_id=same@pbx", "", 200, &raw)
	if _, ok := raw["officer_addrs"].([]any); !ok {
		t.Fatalf("officer_addrs = %#v", raw["officer_addrs"])
	}
}

// TestAgentCannotMakeAPhoneRecordingOfAnothersCall: a record command names
// the call by the agent's own ref, so another agent's call is never
// reached; pat's command for olive's ref makes a call of pat's own.
func TestAgentCannotMakeAPhoneRecordingOfAnothersCall(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, e *env) {
		olive, pat, col := e.user("olive", server.RoleAgent), e.user("pat", server.RoleAgent), e.user("col", server.RoleCollector)
		e.call(olive, "POST", "/api/v1/events", batch("olive", 1, 2, "oc1"), 200, nil)
		id := e.phoneCall(pat, "oc1", "pat@pbx", server.WherePhoneSystem)
		if id == "oc1" {
			t.Fatalf("pat's phone recording is olive's call %s", id)
		}
		pr := e.lookUp(col, "pat@pbx")
		e.call(col, "PUT", "/api/v1/recordings/"+pr.CallID+"/audio?offset=0", "x", 200, nil)
		// Olive's call has no phone recording: the collector cannot touch it.
		e.call(col, "PUT", "/api/v1/recordings/oc1/audio?offset=0", "x", 403, nil)
		if _, err := e.srv.Store().Recording(context.Background(), "oc1"); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("olive's call has a recording row: %v", err)
		}
		// Nor can supervisors or dpos make phone recordings: only agents'
		// desktops send record commands.
		sup := e.user("sue", server.RoleSupervisor)
		if _, err := e.srv.Store().AddPhoneRecording(context.Background(), e.principal(sup), "oc1", store.PhoneRecordingRow{SIPCallID: "s@pbx"}); err == nil {
			t.Fatal("a supervisor made a phone recording")
		}
		if _, err := e.srv.Store().AddPhoneRecording(context.Background(), e.principal(col), "oc1", store.PhoneRecordingRow{SIPCallID: "s@pbx"}); err == nil {
			t.Fatal("a collector made a phone recording")
		}
	})
}

// TestTwoCollectorsRaceForOneCall: exactly one account's upload wins.
func TestTwoCollectorsRaceForOneCall(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, e *env) {
		olive := e.user("olive", server.RoleAgent)
		const n = 6
		toks := make([]string, n)
		for i := range toks {
			toks[i] = e.user(fmt.Sprintf("col%d", i), server.RoleCollector)
		}
		for round := range 3 {
			id := e.phoneCall(olive, fmt.Sprintf("race%d", round), fmt.Sprintf("race-%d@pbx", round), server.WherePhoneSystem)
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				codes = map[int]int{}
			)
			for _, tok := range toks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("PUT", e.url+"/api/v1/recordings/"+id+"/audio?offset=0", strings.NewReader("bytes"))
					req.Header.Set("Authorization", "Bearer "+tok)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					mu.Lock()
					codes[resp.StatusCode]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if codes[200] != 1 || codes[409] != n-1 {
				t.Fatalf("round %d: statuses %v, want one 200 and %d 409", round, codes, n-1)
			}
		}
	})
}

// fakePhoneRecorder confirms every command; its Query answers, by SIP
// Call-ID, after that answer's delay. It is not changed once in use.
type fakePhoneRecorder map[string]fakeQuery

type fakeQuery struct {
	delay time.Duration
	call  *rtpengine.Call
	err   error
}

func (f fakePhoneRecorder) StartRecording(context.Context, string) error { return nil }
func (f fakePhoneRecorder) StopRecording(context.Context, string) error  { return nil }
func (f fakePhoneRecorder) Query(ctx context.Context, id string) (*rtpengine.Call, error) {
	q, ok := f[id]
	if !ok {
		return nil, rtpengine.ErrUnknownCall
	}
	select {
	case <-time.After(q.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return q.call, q.err
}

// lookUpSoon is lookUp once the lookup finds the call: the server keeps a
// phone recording after it answered the record command.
func (e *env) lookUpSoon(tok, sipCallID string) server.PhoneRecording {
	e.t.Helper()
	var pr server.PhoneRecording
	testrig.Eventually(e.t, 5*time.Second, func() bool {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/phone-recordings?sip_call_id="+sipCallID, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&pr) == nil
	}, "no phone recording of "+sipCallID)
	return pr
}

// TestPhoneRecorderQueryNeverDelaysTheOfficer: when the recorder is slow to
// say who is where, the record command is answered at once and the call's
// phone recording has no addresses.
func TestPhoneRecorderQueryNeverDelaysTheOfficer(t *testing.T) {
	fake := fakePhoneRecorder{
		"slow@pbx": {delay: time.Hour},
		"fail@pbx": {err: errors.New("refused")},
		"tag@pbx":  {call: &rtpengine.Call{ID: "tag@pbx", Tags: map[string]rtpengine.Tag{"caller": {Name: "caller"}}}},
	}
	e := newEnvOpts(t, central.Options{PhoneRecorder: fake, PhoneRecorderTimeout: 400 * time.Millisecond})
	olive, col := e.user("olive", server.RoleAgent), e.user("col", server.RoleCollector)
	start := time.Now()
	e.call(olive, "POST", "/api/v1/phone-recorder", `{"call_id":"c1","sip_call_id":"slow@pbx","command":"record","officer_tag":"officer"}`, 200, nil)
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Fatalf("the record command was answered after %v", took)
	}
	pr := e.lookUpSoon(col, "slow@pbx")
	if len(pr.OfficerAddrs)+len(pr.CallerAddrs) != 0 || !pr.Upload || pr.Where != server.WherePhoneSystem {
		t.Fatalf("phone recording after a slow query: %+v", pr)
	}

	// A query that fails, and a tag that is not the call's: no addresses.
	e.call(olive, "POST", "/api/v1/phone-recorder", `{"call_id":"c2","sip_call_id":"fail@pbx","command":"record","officer_tag":"officer"}`, 200, nil)
	e.call(olive, "POST", "/api/v1/phone-recorder", `{"call_id":"c3","sip_call_id":"tag@pbx","command":"record","officer_tag":"officer"}`, 200, nil)
	for _, id := range []string{"fail@pbx", "tag@pbx"} {
		if pr := e.lookUpSoon(col, id); len(pr.OfficerAddrs)+len(pr.CallerAddrs) != 0 {
			t.Fatalf("%s: %+v", id, pr)
		}
	}
	// A stop makes none.
	e.call(olive, "POST", "/api/v1/phone-recorder", `{"call_id":"c4","sip_call_id":"stop@pbx","command":"stop"}`, 200, nil)
	e.call(col, "GET", "/api/v1/phone-recordings?sip_call_id=stop@pbx", "", 404, nil)
}

// TestRecordCommandKeepsWhoIsWhere: on a real rtpengine, the first
// confirmed record of a call keeps the addresses at which rtpengine
// receives the officer's and the caller's RTP; a later one changes nothing.
func TestRecordCommandKeepsWhoIsWhere(t *testing.T) {
	rtp := testrig.StartRTPEngine(t, testrig.RTPEngineOptions{})
	ng, err := rtpengine.Dial(rtp.NG())
	if err != nil {
		t.Fatal(err)
	}
	defer ng.Close()
	e := newEnvOpts(t, central.Options{PhoneRecorder: ng})
	olive, col := e.user("olive", server.RoleAgent), e.user("col", server.RoleCollector)
	offer(t, ng, "who@test")
	call, err := ng.Query(context.Background(), "who@test")
	if err != nil {
		t.Fatal(err)
	}
	want := func(tag string) string { return call.ReceivesFrom(tag)[0].String() }

	e.call(olive, "POST", "/api/v1/phone-recorder", `{"call_id":"w1","sip_call_id":"who@test","command":"record","officer_tag":"officer"}`, 200, nil)
	e.call(olive, "POST", "/api/v1/phone-recorder", `{"call_id":"w1","sip_call_id":"who@test","command":"stop"}`, 200, nil)
	e.call(olive, "POST", "/api/v1/phone-recorder", `{"call_id":"w1","sip_call_id":"who@test","command":"record","officer_tag":"caller","where":"both"}`, 200, nil)
	pr := e.lookUpSoon(col, "who@test")
	if pr.CallID != "w1" || pr.Where != server.WherePhoneSystem || !pr.Upload ||
		len(pr.OfficerAddrs) != 1 || pr.OfficerAddrs[0] != want("officer") ||
		len(pr.CallerAddrs) != 1 || pr.CallerAddrs[0] != want("caller") {
		t.Fatalf("lookup %+v, want officer %s and caller %s", pr, want("officer"), want("caller"))
	}
}

// TestCollectorReadsNothing walks every route of the API (from its own
// table, so a new route cannot be forgotten) as a collector, naming a real
// call of a desktop with a stored recording, a real account and team: each
// answers 403 but the collector's own few.
func TestCollectorReadsNothing(t *testing.T) {
	e := newEnv(t)
	olive, col := e.user("olive", server.RoleAgent), e.user("col", server.RoleCollector)
	e.call(olive, "POST", "/api/v1/events", batch("olive", 1, 2, "c1"), 200, nil)
	e.upload(olive, "c1", []byte("a desktop's recording"), 200)
	if _, err := e.srv.Store().CreateTeam(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	open := map[string]bool{
		"GET /api/v1/health": true, "POST /api/v1/enroll": true, // before any account
		"GET /api/v1/me": true, "POST /api/v1/devices/self/rotate": true, "GET /api/v1/phone-recordings": true,
	}
	values := strings.NewReplacer("{id}", "c1", "{username}", "olive", "{name}", "t1")
	routes := httpapi.New(httpapi.Options{}).Routes()
	for _, rt := range routes {
		if open[rt] {
			continue
		}
		method, path, _ := strings.Cut(rt, " ")
		path = values.Replace(path)
		if strings.Contains(path, "{") {
			t.Fatalf("%s: no value for its parameters", rt)
		}
		req, _ := http.NewRequest(method, e.url+path+"?offset=0&number=%2B441632960999", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+col)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s as a collector: %d, want 403", rt, resp.StatusCode)
		}
	}
	var me httpapi.Me
	e.call(col, "GET", "/api/v1/me", "", 200, &me)
	if me.Role != server.RoleCollector {
		t.Fatalf("me = %+v", me)
	}
	// The desktop's recording is untouched.
	if rec, err := e.srv.Store().Recording(context.Background(), "c1"); err != nil || rec.Status != "stored" {
		t.Fatalf("c1's recording: %+v %v", rec, err)
	}
}

// TestOpenAPIDocumentsThePhoneRecording: the PhoneRecording schema lists
// exactly the fields server.PhoneRecording sends.
func TestOpenAPIDocumentsThePhoneRecording(t *testing.T) {
	b, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	in, props := false, false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "    PhoneRecording:":
			in = true
		case in && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			in = false
		case in && line == "      properties:":
			props = true
		case in && props && strings.HasPrefix(line, "        ") && !strings.HasPrefix(line, "         "):
			name, _, _ := strings.Cut(strings.TrimSpace(line), ":")
			documented[name] = true
		}
	}
	rt := reflect.TypeFor[server.PhoneRecording]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if !documented[name] {
			t.Errorf("server.PhoneRecording sends %q, which the schema does not document", name)
		}
		delete(documented, name)
	}
	for name := range documented {
		t.Errorf("the PhoneRecording schema documents %q, which server.PhoneRecording does not send", name)
	}
}
