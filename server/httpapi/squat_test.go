package httpapi_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

// The attacks of issue 12 item 2 (call-id squatting), each tried over HTTP
// against the real server in the order that worked before calls were keyed
// by their owner: mallory (another agent) or sue (a supervisor) uses the id
// of olive's call before olive's desktop has sent anything for it. Olive's
// call must come out whole, under her account, with her recording, and
// nothing of hers may be read or changed by the other.

// callBatch is the events olive's desktop sends for a recorded inbound call
// from remote, seqs from seq0, event ids prefixed with who.
func callBatch(who, callID, remote string, seq0 int) string {
	ev := func(i int, typ, extra string) string {
		return fmt.Sprintf(`{"id":"%s-%s-%d","seq":%d,"time":"2026-03-02T10:00:%02dZ","type":%q,"agent":%q,"call_id":%q%s}`,
			who, callID, i, seq0+i, i, typ, who, callID, extra)
	}
	call := fmt.Sprintf(`,"call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":%q,"name":"Caller"},"started":"2026-03-02T10:00:00Z","recorded":true}`, remote)
	return `{"events":[` + strings.Join([]string{
		ev(0, "call.ringing", call),
		ev(1, "call.answered", call),
		ev(2, "recording.state", `,"state":"recording"`),
		ev(3, "flag", `,"reason":"health","note":"spoke of a diagnosis"`),
		ev(4, "call.ended", call),
	}, ",") + `]}`
}

// ingestReply is the part of the events reply the attack tests read.
type ingestReply struct {
	Accepted, Duplicate, Refused, Discarded int
	Results                                 []struct {
		ID, Status, Reason string
	}
}

// upload puts body as callID's recording with tok, expecting want for the
// chunk and the manifest.
func (e *env) upload(tok, callID string, body []byte, want int) {
	e.t.Helper()
	sum := sha256.Sum256(body)
	e.call(tok, "PUT", "/api/v1/recordings/"+callID+"/audio?offset=0", string(body), want, nil)
	if want != 200 {
		return
	}
	e.call(tok, "PUT", "/api/v1/recordings/"+callID+"/manifest",
		fmt.Sprintf(`{"call_id":%q,"complete":true,"sha256_encrypted":%q}`, callID, hex.EncodeToString(sum[:])), 200, nil)
}

// callsOf returns the calls an account sees.
func (e *env) callsOf(tok string) []server.Call {
	e.t.Helper()
	var res struct{ Calls []server.Call }
	e.call(tok, "GET", "/api/v1/calls", "", 200, &res)
	return res.Calls
}

// download returns the stored recording of the call with server id id.
func (e *env) download(tok, id string) []byte {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url+"/api/v1/recordings/"+id+"/audio", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("download %s: %d %s", id, resp.StatusCode, b)
	}
	return b
}

// olivesCallIsWhole checks what olive and a supervisor see of olive's call
// "vc1" after an attack: her number, her five events applied, her flag, her
// recording; and that the attacker's call, if any, is another call.
func olivesCallIsWhole(t *testing.T, e *env, olive, sup string, recording []byte) {
	t.Helper()
	mine := e.callsOf(olive)
	if len(mine) != 1 {
		t.Fatalf("olive sees %d calls: %+v", len(mine), mine)
	}
	c := mine[0]
	if c.Agent != "olive" || c.Remote.Number != "+441632960001" || c.Events != 5 || len(c.Flags) != 1 || c.Recording != server.RecordingStored {
		t.Fatalf("olive's call: agent %q remote %q events %d flags %d recording %s", c.Agent, c.Remote.Number, c.Events, len(c.Flags), c.Recording)
	}
	var byID server.Call
	e.call(sup, "GET", "/api/v1/calls/"+c.ID, "", 200, &byID)
	if byID.Agent != "olive" || byID.Remote.Number != "+441632960001" {
		t.Fatalf("the supervisor reads %s as %+v", c.ID, byID)
	}
	if got := e.download(sup, c.ID); string(got) != string(recording) {
		t.Fatalf("olive's call %s has a recording of %d bytes that is not hers", c.ID, len(got))
	}
	for _, other := range e.callsOf(sup) {
		if other.ID != c.ID && other.Agent == "olive" {
			t.Fatalf("olive has a second call %+v", other)
		}
	}
}

func TestCallIDSquattingRecordingFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	olive, mallory, sup := e.user("olive", server.RoleAgent), e.user("mallory", server.RoleAgent), e.user("sue", server.RoleSupervisor)
	forged := []byte("mallory's forged recording")
	e.upload(mallory, "vc1", forged, 200)

	var rep ingestReply
	e.call(olive, "POST", "/api/v1/events", callBatch("olive", "vc1", "+441632960001", 1), 200, &rep)
	if rep.Accepted != 5 {
		t.Fatalf("olive's events: %+v", rep)
	}
	hers := []byte("olive's real recording")
	e.upload(olive, "vc1", hers, 200)
	olivesCallIsWhole(t, e, olive, sup, hers)

	// Mallory's upload is a recording of her own, under another id.
	var st struct{ Status string }
	e.call(mallory, "GET", "/api/v1/recordings/vc1", "", 200, &st)
	if st.Status != "stored" {
		t.Fatalf("mallory's own recording: %+v", st)
	}
	mc := e.callsOf(mallory)
	if len(mc) != 0 {
		t.Fatalf("mallory sent no events but sees calls %+v", mc)
	}
}

func TestCallIDSquattingEventsFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	olive, mallory, sup := e.user("olive", server.RoleAgent), e.user("mallory", server.RoleAgent), e.user("sue", server.RoleSupervisor)
	var rep ingestReply
	e.call(mallory, "POST", "/api/v1/events", callBatch("mallory", "vc1", "+449999999999", 1), 200, &rep)

	e.call(olive, "POST", "/api/v1/events", callBatch("olive", "vc1", "+441632960001", 1), 200, &rep)
	for _, r := range rep.Results {
		if r.Status != "accepted" {
			t.Fatalf("olive's event %s: %s (%s)", r.ID, r.Status, r.Reason)
		}
	}
	if rep.Accepted != 5 || len(rep.Results) != 5 {
		t.Fatalf("olive's events: %+v", rep)
	}
	hers := []byte("olive's real recording")
	e.upload(olive, "vc1", hers, 200)
	olivesCallIsWhole(t, e, olive, sup, hers)

	mc := e.callsOf(mallory)
	if len(mc) != 1 || mc[0].Remote.Number != "+449999999999" {
		t.Fatalf("mallory's own call: %+v", mc)
	}
	// Another agent's call answers as a missing one: 404, the same words.
	var theirs, missing struct{ Error string }
	e.call(mallory, "GET", "/api/v1/calls/"+e.callsOf(olive)[0].ID, "", 404, &theirs)
	e.call(mallory, "GET", "/api/v1/calls/no-such-call", "", 404, &missing)
	if strings.ReplaceAll(theirs.Error, e.callsOf(olive)[0].ID, "X") != strings.ReplaceAll(missing.Error, "no-such-call", "X") {
		t.Fatalf("another agent's call reads %q, a missing one %q", theirs.Error, missing.Error)
	}
	if mc[0].ID == e.callsOf(olive)[0].ID {
		t.Fatal("two accounts' calls share an id")
	}
	// Olive's desktop knows the call by its own id, whatever the server's.
	var mine struct{ Flags []server.FlagOutcome }
	e.call(olive, "GET", "/api/v1/flags/mine?since=2026-03-01", "", 200, &mine)
	if len(mine.Flags) != 1 || mine.Flags[0].CallID != "vc1" {
		t.Fatalf("olive's flags %+v", mine.Flags)
	}
}

func TestCallIDSquattingSupervisorFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	olive, sup := e.user("olive", server.RoleAgent), e.user("sue", server.RoleSupervisor)
	dee := e.user("dee", server.RoleDPO)
	// Olive's desktop heartbeats as her call rings: the board shows its id.
	e.call(olive, "POST", "/api/v1/heartbeat", `{"at":"2026-03-02T09:00:00Z","state":"ringing","since":"2026-03-02T09:00:00Z","call":{"id":"vc1","direction":"inbound","remote":"+441632960001","started":"2026-03-02T09:00:00Z"}}`, 200, nil)
	id := liveCallID(t, e, sup, "olive")
	if id != "vc1" {
		t.Fatalf("the board shows call %q", id)
	}
	// Supervisors and dpos never write calls, whatever the order.
	for _, tok := range []string{sup, dee} {
		e.call(tok, "POST", "/api/v1/events", callBatch("sue", id, "+449999999999", 1), 403, nil)
		e.call(tok, "POST", "/api/v1/heartbeat", `{"at":"2026-03-02T09:00:00Z","state":"idle","since":"2026-03-02T09:00:00Z"}`, 403, nil)
		e.call(tok, "PUT", "/api/v1/recordings/"+id+"/audio?offset=0", "forged", 403, nil)
		e.call(tok, "PUT", "/api/v1/recordings/"+id+"/manifest", `{"call_id":"vc1","complete":true,"sha256_encrypted":"`+strings.Repeat("0", 64)+`"}`, 403, nil)
		e.call(tok, "HEAD", "/api/v1/recordings/"+id+"/audio", "", 403, nil)
	}
	var rep ingestReply
	e.call(olive, "POST", "/api/v1/events", callBatch("olive", "vc1", "+441632960001", 1), 200, &rep)
	if rep.Accepted != 5 {
		t.Fatalf("olive's events: %+v", rep)
	}
	hers := []byte("olive's real recording")
	e.upload(olive, "vc1", hers, 200)
	olivesCallIsWhole(t, e, olive, sup, hers)
}

// liveCallID reads the live board's snapshot as tok and returns the call id
// it shows for agent.
func liveCallID(t *testing.T, e *env, tok, agent string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", e.url+"/api/v1/live", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				done <- d
				return
			}
		}
		done <- ""
	}()
	var data string
	select {
	case data = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no snapshot from the live board")
	}
	var snap struct{ Agents []server.AgentState }
	if err := json.Unmarshal([]byte(data), &snap); err != nil {
		t.Fatal(err)
	}
	for _, a := range snap.Agents {
		if a.Agent == agent && a.Call != nil {
			return a.Call.ID
		}
	}
	t.Fatalf("no call of %s on the board: %s", agent, data)
	return ""
}
