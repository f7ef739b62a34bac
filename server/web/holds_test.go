package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/server"
)

// TestTheHoldsPage: a dpo places a hold on a call through the form (what
// is wrong is said in words); lifting it takes two: the dpo who asked
// cannot lift it herself, a second one does; every step is audited by the
// same service the API uses.
func TestTheHoldsPage(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			id, _ := age.GenerateX25519Identity()
			r := newRig(t, open(), nil, withOrg(nwh(t), id))
			r.user("dee", server.RoleDPO)
			r.user("dan", server.RoleDPO)
			r.recordedCall(id, "held-1", "olive", "+441632960123", time.Now().Add(-time.Hour))
			dee := r.browser()
			dee.signIn("dee")
			dee.do("GET", "/holds", nil, nil)
			bad := url.Values{"csrf": {dee.csrf}, "kind": {"number"}, "value": {"01632 960123"}, "from": {"2026-03-02"}, "to": {"2026-03-01"}, "reason": {"complaint"}, "owner": {""}}
			resp, body := dee.do("POST", "/holds", bad, nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "To must be after from") || !strings.Contains(body, "Owner is required") {
				t.Fatalf("a bad hold: %s\n%s", resp.Status, body)
			}
			resp, _ = dee.do("POST", "/holds", url.Values{"csrf": {dee.csrf}, "kind": {"call"}, "value": {"held-1"}, "reason": {"complaint"}, "owner": {"Complaints team"}}, nil)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/holds?placed=") {
				t.Fatalf("place: %s", resp.Status)
			}
			holds, err := r.srv.Store().Holds(t.Context(), false)
			if err != nil || len(holds) != 1 || holds[0].CallID != "held-1" {
				t.Fatalf("holds %+v %v", holds, err)
			}
			lift := "/holds/" + itoa(holds[0].ID) + "/lift"
			resp, _ = dee.do("POST", lift, url.Values{"csrf": {dee.csrf}, "reason": {"complaint closed"}}, nil)
			if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "asked=") {
				t.Fatalf("ask to lift: %s %s", resp.Status, resp.Header.Get("Location"))
			}
			resp, body = dee.do("POST", lift, url.Values{"csrf": {dee.csrf}, "reason": {"complaint closed"}}, nil)
			if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "a second data-protection officer must") {
				t.Fatalf("the asker lifts it herself: %s\n%s", resp.Status, body)
			}
			if h, _ := r.srv.Store().Hold(t.Context(), holds[0].ID); h.Lifted != nil {
				t.Fatal("one dpo lifted a hold alone")
			}
			dan := r.browser()
			dan.signIn("dan")
			dan.do("GET", "/holds", nil, nil)
			resp, _ = dan.do("POST", lift, url.Values{"csrf": {dan.csrf}, "reason": {"complaint closed"}}, nil)
			if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "lifted=") {
				t.Fatalf("the second dpo lifts: %s", resp.Status)
			}
			if h, _ := r.srv.Store().Hold(t.Context(), holds[0].ID); h.Lifted == nil || h.LiftedBy != "dan" || h.LiftRequestedBy != "dee" {
				t.Fatalf("after the second dpo: %+v", h)
			}
			for action, want := range map[string]int{server.AuditHoldPlace: 1, server.AuditHoldLiftRequest: 1, server.AuditHoldLift: 1} {
				if n := len(r.audit(action)); n != want {
					t.Errorf("%d %s records, want %d", n, action, want)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
