package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/rtpengine/bencode"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
)

// offer makes rtpengine handle a call, as Kamailio's offer and answer do.
func offer(t *testing.T, ng *rtpengine.Client, callID string) {
	t.Helper()
	sdp := func(port int) string {
		return fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n", port, port)
	}
	ctx := context.Background()
	if _, err := ng.Do(ctx, "offer", bencode.Dict{"call-id": callID, "from-tag": "caller", "sdp": sdp(40000)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ng.Do(ctx, "answer", bencode.Dict{"call-id": callID, "from-tag": "caller", "to-tag": "officer", "sdp": sdp(40002)}); err != nil {
		t.Fatal(err)
	}
}

// TestPhoneRecorderThroughTheServer: a desktop starts and stops rtpengine's
// recording of a call through the server, which holds the ng address; each
// attempt and its outcome is audited; with rtpengine gone the desktop is
// answered 504 within the timeout, never 200.
func TestPhoneRecorderThroughTheServer(t *testing.T) {
	rtp := testrig.StartRTPEngine(t, testrig.RTPEngineOptions{})
	ng, err := rtpengine.Dial(rtp.NG())
	if err != nil {
		t.Fatal(err)
	}
	defer ng.Close()
	e := newEnvOpts(t, central.Options{PhoneRecorder: ng})
	agent := e.user("olive", server.RoleAgent)
	offer(t, ng, "call-1@test")

	body := func(cmd string) string {
		return fmt.Sprintf(`{"call_id":"c1","sip_call_id":"call-1@test","command":%q}`, cmd)
	}
	var reply server.PhoneRecorderReply
	e.call(agent, "POST", "/api/v1/phone-recorder", body("record"), 200, &reply)
	if !reply.Confirmed {
		t.Fatalf("reply %+v", reply)
	}
	testrig.Eventually(t, 5*time.Second, func() bool { return len(rtp.OpenPCAPs()) == 1 }, "rtpengine never started recording")
	e.call(agent, "POST", "/api/v1/phone-recorder", body("stop"), 200, &reply)
	testrig.Eventually(t, 5*time.Second, func() bool { return len(rtp.OpenPCAPs()) == 0 }, "rtpengine never stopped recording")
	if n := rtp.Count("Turning on call recording"); n != 1 {
		t.Fatalf("rtpengine turned recording on %d times", n)
	}
	// A call rtpengine does not know is not recorded: the stop is confirmed.
	e.call(agent, "POST", "/api/v1/phone-recorder", `{"call_id":"c2","sip_call_id":"gone@test","command":"stop"}`, 200, nil)
	// Starting one it does not know is refused.
	e.call(agent, "POST", "/api/v1/phone-recorder", `{"call_id":"c2","sip_call_id":"gone@test","command":"record"}`, 502, nil)
	e.call(agent, "POST", "/api/v1/phone-recorder", `{"call_id":"c1","sip_call_id":"call-1@test","command":"pause"}`, 400, nil)
	e.call(agent, "POST", "/api/v1/phone-recorder", `{"call_id":"c1","sip_call_id":"call-1@test","command":"stop","where":"desk"}`, 400, nil)
	e.call(agent, "POST", "/api/v1/phone-recorder", `{"call_id":"c1","sip_call_id":"call-1@test","command":"stop","officer_tag":"`+strings.Repeat("t", 257)+`"}`, 400, nil)

	rtp.Kill(t)
	start := time.Now()
	e.call(agent, "POST", "/api/v1/phone-recorder", body("stop"), 504, nil)
	if took := time.Since(start); took < rtpengine.DefaultTimeout || took > rtpengine.DefaultTimeout+250*time.Millisecond {
		t.Fatalf("answered after %v, want about %v", took, rtpengine.DefaultTimeout)
	}

	recs, err := e.srv.Store().SearchAudit(t.Context(), server.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if !strings.HasPrefix(r.Action, "phone-recorder.") {
			continue
		}
		var d struct {
			Outcome   string `json:"outcome"`
			SIPCallID string `json:"sip_call_id"`
		}
		if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Action+" "+r.Target+" "+d.Outcome)
	}
	want := []string{
		"phone-recorder.record c1 confirmed", "phone-recorder.stop c1 confirmed", "phone-recorder.stop c2 confirmed",
		"phone-recorder.record c2 refused", "phone-recorder.stop c1 not confirmed in time",
	}
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("audited %v, want %v", got, want)
	}
}
