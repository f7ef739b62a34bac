package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/store"
)

// flaggedCall stores a call of agent that the officer flagged (reason
// "other", an interval), as a desktop sends it.
func (r *rig) flaggedCall(callID, agent, remote string, start time.Time) {
	r.t.Helper()
	ctx := context.Background()
	st := r.srv.Store()
	u, _, err := st.UserByName(ctx, agent)
	if err != nil {
		if u, err = st.CreateUser(ctx, agent, server.RoleAgent, "", false); err != nil {
			r.t.Fatal(err)
		}
	}
	tok, hash := auth.NewToken()
	if err := st.CreateDevice(ctx, auth.NewID(), u.ID, callID+"-pc", hash); err != nil {
		r.t.Fatal(err)
	}
	p, err := st.Authenticate(ctx, auth.HashToken(tok))
	if err != nil {
		r.t.Fatal(err)
	}
	ans, end := start.Add(2*time.Second), start.Add(60*time.Second)
	ec := func(answered, ended *time.Time) *server.EventCall {
		return &server.EventCall{Direction: "inbound", Local: server.Party{Number: "2001"}, Remote: server.Party{Number: remote},
			SIPCallID: "sip-" + callID, Started: start, Answered: answered, Ended: ended, Recorded: answered != nil}
	}
	from, to := int64(5000), int64(9000)
	evs := []server.Event{
		{Type: server.EventCallRinging, Call: ec(nil, nil), Time: start},
		{Type: server.EventCallAnswered, Call: ec(&ans, nil), Time: ans},
		{Type: server.EventRecordingState, State: "recording", Time: ans},
		{Type: server.EventFlag, Reason: "other", Note: "said her address twice", FromMS: &from, ToMS: &to, Time: start.Add(20 * time.Second)},
		{Type: server.EventCallEnded, Call: ec(&ans, &end), Time: end},
	}
	for i := range evs {
		evs[i].ID, evs[i].Seq, evs[i].CallID, evs[i].Agent = fmt.Sprintf("%s-e%d", callID, i), uint64(i+1), callID, agent
	}
	if _, err := st.Ingest(ctx, p, evs); err != nil {
		r.t.Fatal(err)
	}
}

// TestTheReviewRetentionAndErasurePages: the review queue shows an
// officer's flag, refuses to keep it without a reason and records the
// decision through protect; the retention report lists the call due and
// refuses a bad number of days; erasure by number asks for confirmation,
// then erases the caller's calls with their tombstones.
func TestTheReviewRetentionAndErasurePages(t *testing.T) {
	r := newRig(t, "", nil, withOrg(nwh(t), nil))
	r.user("dee", server.RoleDPO)
	r.flaggedCall("flag-1", "olive", "+441632960777", time.Now().Add(-time.Hour))
	items, err := r.srv.Store().ReviewQueue(context.Background(), store.ReviewFilter{})
	if err != nil || len(items) != 1 {
		t.Fatalf("queue %v %v", items, err)
	}
	it := items[0]
	b := r.browser()
	b.signIn("dee")
	resp, body := b.do("GET", "/review", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="item-`+it.ID+`"`) || !strings.Contains(body, "said her address twice") {
		t.Fatalf("review queue: %s\n%s", resp.Status, body)
	}
	resp, body = b.do("POST", "/review/"+it.ID+"/decide", url.Values{"csrf": {b.csrf}, "action": {"keep"}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "needs a reason") {
		t.Fatalf("keep without a reason: %s\n%s", resp.Status, body)
	}
	resp, body = b.do("POST", "/review/"+it.ID+"/decide", url.Values{"csrf": {b.csrf}, "action": {"delete-interval"}, "from": {"five"}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "number of seconds") {
		t.Fatalf("a bad interval: %s\n%s", resp.Status, body)
	}
	resp, _ = b.do("POST", "/review/"+it.ID+"/decide", url.Values{"csrf": {b.csrf}, "action": {"keep"}, "note": {"needed for the complaint"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("keep with a reason: %s", resp.Status)
	}
	if got, _ := r.srv.Store().ReviewItem(context.Background(), it.ID); got.State != server.ReviewDone || got.Outcome != server.OutcomeKept || got.DecidedBy != "dee" {
		t.Fatalf("after the decision: %+v", got)
	}
	if n := len(r.audit(server.AuditReviewDecide)); n != 1 {
		t.Errorf("%d decisions audited, want 1", n)
	}

	resp, body = b.do("GET", "/retention?days=120", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<a href="/calls/flag-1">`) || !strings.Contains(body, "<strong>1</strong> call(s) will be deleted") {
		t.Fatalf("retention report: %s\n%s", resp.Status, body)
	}
	if resp, _ := b.do("GET", "/retention?days=soon", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("days=soon: %s", resp.Status)
	}

	b.do("GET", "/erasures", nil, nil)
	resp, body = b.do("POST", "/erasures", url.Values{"csrf": {b.csrf}, "number": {"+44 1632 960777"}, "reference": {"ER-2026-3"}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Tick the box") {
		t.Fatalf("erasure without confirming: %s", resp.Status)
	}
	if c, _ := r.srv.Store().Call(context.Background(), "flag-1"); c.Erased != nil {
		t.Fatal("erased without confirmation")
	}
	resp, body = b.do("POST", "/erasures", url.Values{"csrf": {b.csrf}, "number": {"+44 1632 960777"}, "reference": {"ER-2026-3"}, "confirm": {"yes"}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "1 call(s) erased") || strings.Contains(body, "1632960777") {
		t.Fatalf("erasure: %s\n%s", resp.Status, body)
	}
	if c, _ := r.srv.Store().Call(context.Background(), "flag-1"); c.Erased == nil {
		t.Error("the call was not erased")
	}
}
