package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

// callOf ingests a recorded call of the agent with the remote number.
func (e *env) recordedCall(token, id, number string) {
	e.t.Helper()
	e.call(token, "POST", "/api/v1/events", `{"events":[{"id":"`+id+`-1","seq":1,"time":"2026-03-02T09:00:00Z","type":"call.answered","call_id":"`+id+`",
		"call":{"direction":"inbound","remote":{"number":"`+number+`"},"started":"2026-03-02T09:00:00Z","answered":"2026-03-02T09:00:00Z","recorded":true}}]}`, 200, nil)
	e.call(token, "PUT", "/api/v1/recordings/"+id+"/audio?offset=0", "opaque", 200, nil)
	e.call(token, "PUT", "/api/v1/recordings/"+id+"/manifest", `{"call_id":"`+id+`","complete":true,"sha256_encrypted":"`+sha("opaque")+`"}`, 200, nil)
}

// boardAgents reads the live board's snapshot as the token sees it.
func (e *env) boardAgents(token string) []string {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url+"/api/v1/live", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var snap struct{ Agents []server.AgentState }
			json.Unmarshal([]byte(data), &snap)
			var out []string
			for _, a := range snap.Agents {
				out = append(out, a.Agent)
			}
			return out
		}
	}
	e.t.Fatal("no snapshot")
	return nil
}

// TestSupervisorsSeeTheirOwnTeamsOnly: with teams, a supervisor's board,
// searches, call reads, plays and downloads cover the agents of her teams
// and nobody else; another team's call answers as a missing one would.
// DPOs still see everything.
func TestSupervisorsSeeTheirOwnTeamsOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adam := e.user("adam", server.RoleAdmin)
	olive, pat := e.user("olive", server.RoleAgent), e.user("pat", server.RoleAgent)
	sue, sam, dee := e.user("sue", server.RoleSupervisor), e.user("sam", server.RoleSupervisor), e.user("dee", server.RoleDPO)
	for _, tm := range []struct{ team, a, b string }{{"north", "olive", "sue"}, {"south", "pat", "sam"}} {
		e.call(adam, "POST", "/api/v1/teams", `{"name":"`+tm.team+`"}`, 201, nil)
		e.call(adam, "POST", "/api/v1/teams/"+tm.team+"/members", `{"username":"`+tm.a+`"}`, 200, nil)
		e.call(adam, "POST", "/api/v1/teams/"+tm.team+"/members", `{"username":"`+tm.b+`"}`, 200, nil)
	}
	e.recordedCall(olive, "o1", "+441632960111")
	e.recordedCall(pat, "p1", "+441632960222")
	hb := `{"at":"2026-03-02T09:00:00Z","state":"idle","since":"2026-03-02T09:00:00Z"}`
	e.call(olive, "POST", "/api/v1/heartbeat", hb, 200, nil)
	e.call(pat, "POST", "/api/v1/heartbeat", hb, 200, nil)

	var found struct{ Calls []server.Call }
	e.call(sue, "GET", "/api/v1/calls", "", 200, &found)
	if len(found.Calls) != 1 || found.Calls[0].ID != "o1" {
		t.Fatalf("sue's search found %+v", found.Calls)
	}
	e.call(sue, "GET", "/api/v1/calls?number=960222", "", 200, &found)
	if len(found.Calls) != 0 {
		t.Fatalf("sue found another team's call by its number: %+v", found.Calls)
	}
	for _, path := range []string{"/api/v1/calls/p1", "/api/v1/recordings/p1/audio", "/api/v1/recordings/p1/play", "/api/v1/recordings/p1"} {
		if status, _, b := e.raw(sue, "GET", path, ""); status != 404 || strings.Contains(string(b), "960222") {
			t.Errorf("sue GET %s: %d %s", path, status, b)
		}
	}
	e.call(sue, "GET", "/api/v1/recordings/o1/audio", "", 200, nil)
	e.call(sam, "GET", "/api/v1/calls/p1", "", 200, nil)
	e.call(dee, "GET", "/api/v1/calls/p1", "", 200, nil)
	if got := strings.Join(e.boardAgents(sue), ","); got != "olive" {
		t.Errorf("sue's board shows %s", got)
	}
	if got := strings.Join(e.boardAgents(dee), ","); got != "olive,pat" {
		t.Errorf("the dpo's board shows %s", got)
	}
	// Team changes are the admin's, and audited.
	e.call(sue, "POST", "/api/v1/teams/north/members", `{"username":"pat"}`, 403, nil)
	var audit struct{ Records []server.AuditRecord }
	e.call(dee, "GET", "/api/v1/audit?action=team.", "", 200, &audit)
	if len(audit.Records) != 6 || audit.Records[0].Actor != "adam" {
		t.Fatalf("team changes audited as %+v", audit.Records)
	}
	_ = time.Second
}

// TestWhoLookedUpANumber: a number search is audited with a keyed hash of
// the whole number, never the number, and a dpo can ask who looked it up
// however it was written.
func TestWhoLookedUpANumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	olive, sue, dee := e.user("olive", server.RoleAgent), e.user("sue", server.RoleSupervisor), e.user("dee", server.RoleDPO)
	e.recordedCall(olive, "n1", "+441632960333")
	e.call(sue, "GET", "/api/v1/calls?number=%2B441632960333", "", 200, nil)
	e.call(sue, "GET", "/api/v1/calls?number=%2B441632960444", "", 200, nil)
	e.call(dee, "GET", "/api/v1/subject-access?number=%2B44%201632%20960333", "", 200, nil)
	e.call(dee, "GET", "/api/v1/subject-access?number=01632%20960333", "", 200, nil) // the national spelling is the same number
	var who struct{ Records []server.AuditRecord }
	e.call(dee, "GET", "/api/v1/audit/number?number=%2B44%20(1632)%20960-333", "", 200, &who)
	var got []string
	for _, r := range who.Records {
		got = append(got, r.Actor+" "+r.Action)
	}
	if strings.Join(got, "; ") != "sue calls.search; dee subject-access.export; dee subject-access.export" {
		t.Fatalf("who looked up +441632960333: %v", got)
	}
	all, _ := e.srv.Store().AuditLog(t.Context(), 0, 1000)
	for _, r := range all {
		if strings.Contains(r.Detail+r.Target, "1632960333") || strings.Contains(r.Detail+r.Target, "960333") {
			t.Fatalf("the audit holds the number: %+v", r)
		}
	}
	e.call(sue, "GET", "/api/v1/audit/number?number=%2B441632960333", "", 403, nil)
}
