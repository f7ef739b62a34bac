package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/protect"
)

// nwh returns North Wales Housing's example policy (six release purposes,
// each authorised by three job roles).
func nwh(t testing.TB) *policy.Policy {
	t.Helper()
	b, err := assets.ExamplePolicy("housing-association")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// withOrg runs the server on the policy with an organisation key (id, if
// not nil), so it can play recordings and make release packages.
func withOrg(pol *policy.Policy, id *age.X25519Identity) func(*central.Options) {
	return func(o *central.Options) {
		o.Policy = pol
		if id != nil {
			o.Identities = []age.Identity{id}
		}
	}
}

// recordedCall stores a call of agent with remote as the caller, and a
// few seconds of recording encrypted to id, as a desktop would send them.
func (r *rig) recordedCall(id *age.X25519Identity, callID, agent, remote string, start time.Time) {
	r.t.Helper()
	ctx := context.Background()
	st := r.srv.Store()
	u, _, err := st.UserByName(ctx, agent)
	if err != nil {
		u, err = st.CreateUser(ctx, agent, server.RoleAgent, "", false)
		if err != nil {
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
	evs := []server.Event{
		{Type: server.EventCallRinging, Call: ec(nil, nil), Time: start},
		{Type: server.EventCallAnswered, Call: ec(&ans, nil), Time: ans},
		{Type: server.EventRecordingState, State: "recording", Time: ans},
		{Type: server.EventCallEnded, Call: ec(&ans, &end), Time: end},
	}
	for i := range evs {
		evs[i].ID, evs[i].Seq, evs[i].CallID, evs[i].Agent = fmt.Sprintf("%s-e%d", callID, i), uint64(i+1), callID, agent
	}
	if _, err := st.Ingest(ctx, p, evs); err != nil {
		r.t.Fatal(err)
	}
	pcm := make([]byte, 2*artefact.SampleRate*artefact.BytesPerFrame)
	for i := range pcm {
		pcm[i] = byte(i*7 + 1)
	}
	var buf bytes.Buffer
	w, err := artefact.NewWriter(&buf, id.Recipient())
	if err != nil {
		r.t.Fatal(err)
	}
	w.Write(pcm)
	if err := w.Close(); err != nil {
		r.t.Fatal(err)
	}
	sums := w.Sums()
	m := artefact.Manifest{Version: 1, CallID: callID, Agent: agent, Direction: "inbound", Recipients: []string{id.Recipient().String()},
		SampleRate: artefact.SampleRate, Channels: 2, Frames: int64(len(pcm) / artefact.BytesPerFrame), DataBytes: int64(len(pcm)), DurationMS: 2000,
		SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256, EncryptedBytes: sums.EncryptedBytes, Complete: true, Pauses: []artefact.Pause{}}
	mb, _ := json.Marshal(m)
	if _, err := st.ClaimRecording(ctx, p, callID); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.srv.Blobs().Append(callID, 0, bytes.NewReader(buf.Bytes())); err != nil {
		r.t.Fatal(err)
	}
	size, err := r.srv.Blobs().Finish(callID, sums.EncryptedSHA256, mb)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := st.StoreRecording(ctx, callID, size, sums.EncryptedSHA256, mb); err != nil {
		r.t.Fatal(err)
	}
}

// jobRole gives an account the job role it authorises releases as.
func (r *rig) jobRole(user, role string) {
	r.t.Helper()
	if _, err := r.srv.Store().SetJobRole(context.Background(), user, role); err != nil {
		r.t.Fatal(err)
	}
}

// releaseForm is a whole, valid request form for call.
func releaseForm(csrf, call, date string) url.Values {
	return url.Values{"csrf": {csrf}, "call_date": {date}, "call_time": {"10:00"}, "number": {"01632 960123"}, "calls": {call},
		"requester": {"PC 1234 Jones, North Wales Police"}, "purpose": {"crime"}, "on_behalf": {"no"}, "requested_on": {date},
		"recipient_name": {"Gareth Jones"}, "recipient_title": {"Police Constable"}}
}

// TestTheReleaseRegisterPages: the form refuses what is wrong with words
// on the page; a dpo of the wrong job role is refused in words and the
// refusal audited; the Data Protection Officer authorises; the team
// leader downloads the package and every file matches SHA256SUMS; the
// register finds it by the number written another way and exports it.
func TestTheReleaseRegisterPages(t *testing.T) {
	for db, open := range dbs(t) {
		t.Run(db, func(t *testing.T) {
			id, _ := age.GenerateX25519Identity()
			r := newRig(t, open(), nil, withOrg(nwh(t), id))
			for _, u := range []struct {
				name string
				role server.Role
				job  string
			}{{"sue", server.RoleSupervisor, "Customer Service Team Leader"}, {"dee", server.RoleDPO, "Customer Service Advisor"}, {"dan", server.RoleDPO, "Data Protection Officer"}} {
				r.user(u.name, u.role)
				r.jobRole(u.name, u.job)
			}
			today := time.Now().UTC().Format(time.DateOnly)
			r.recordedCall(id, "rel-web-1", "olive", "+441632960123", time.Now().Add(-time.Hour))

			sue := r.browser()
			sue.signIn("sue")
			if _, body := sue.do("GET", "/calls/rel-web-1", nil, nil); !strings.Contains(body, `href="/releases/new?call=rel-web-1"`) {
				t.Error("the call's page has no link to ask for its release")
			}
			resp, body := sue.do("GET", "/releases/new?call=rel-web-1", nil, nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `value="rel-web-1"`) || !strings.Contains(body, "property of North Wales Housing") {
				t.Fatalf("new request form: %s\n%s", resp.Status, body)
			}
			bad := releaseForm(sue.csrf, "rel-web-1", today)
			bad.Set("purpose", "curiosity")
			bad.Set("requested_on", "2999-01-01")
			resp, body = sue.do("POST", "/releases", bad, nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "curiosity") || !strings.Contains(body, "is not a purpose the policy allows") ||
				!strings.Contains(body, "2999-01-01 is in the future") || strings.Contains(body, "invalid input") {
				t.Fatalf("a bad form: %s\n%s", resp.Status, body)
			}
			if !strings.Contains(body, `value="PC 1234 Jones, North Wales Police"`) {
				t.Error("the form lost what was typed")
			}
			resp, _ = sue.do("POST", "/releases", releaseForm(sue.csrf, "rel-web-1", today), nil)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/releases/") {
				t.Fatalf("enter the request: %s → %s", resp.Status, loc)
			}
			page := strings.SplitN(loc, "?", 2)[0]

			dee := r.browser()
			dee.signIn("dee")
			dee.do("GET", page, nil, nil)
			resp, body = dee.do("POST", page+"/authorise", url.Values{"csrf": {dee.csrf}}, nil)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Customer Service Advisor") || !strings.Contains(body, "Data Protection Officer") {
				t.Fatalf("authorised by the wrong job role: %s\n%s", resp.Status, body)
			}
			if n := len(r.audit(server.AuditReleaseRefused)); n != 1 {
				t.Errorf("%d refusals audited, want 1", n)
			}
			// The package before authorisation.
			resp, body = sue.do("POST", page+"/package", url.Values{"csrf": {sue.csrf}, "disclosed_on": {today}}, nil)
			if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "only once the release is authorised") {
				t.Fatalf("package before authorisation: %s\n%s", resp.Status, body)
			}

			dan := r.browser()
			dan.signIn("dan")
			dan.do("GET", page, nil, nil)
			resp, _ = dan.do("POST", page+"/authorise", url.Values{"csrf": {dan.csrf}}, nil)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("authorised by the Data Protection Officer: %s", resp.Status)
			}

			sue.do("GET", page, nil, nil)
			resp, zipped := sue.do("POST", page+"/package", url.Values{"csrf": {sue.csrf}, "disclosed_on": {today}}, nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
				t.Fatalf("package: %s %s\n%.500s", resp.Status, resp.Header.Get("Content-Type"), zipped)
			}
			files := unzipAll(t, []byte(zipped))
			checkSHA256SUMS(t, files)
			if _, ok := files["recordings/rel-web-1.wav"]; !ok || !strings.Contains(string(files[protect.PackageCover]), "only to be used for the purposes agreed on release") {
				t.Errorf("package holds %v", keys(files))
			}
			_, body = sue.do("GET", page, nil, nil)
			sum := sha256.Sum256([]byte(zipped))
			if !strings.Contains(body, ">released<") || !strings.Contains(body, hex.EncodeToString(sum[:])) {
				t.Errorf("after the release the page says:\n%s", body)
			}

			resp, body = sue.do("GET", "/releases?number="+url.QueryEscape("+44 1632 960123"), nil, nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="`+page+`"`) {
				t.Errorf("search by the number written another way: %s\n%s", resp.Status, body)
			}
			resp, body = sue.do("GET", "/releases?from=2026-02-01&to=2026-01-01", nil, nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "wrong way round") {
				t.Errorf("reversed dates: %s", resp.Status)
			}
			resp, body = sue.do("GET", "/releases/export.csv?q=jones", nil, nil)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, strings.Join(protect.ReleaseCSVHeader, ",")) || !strings.Contains(body, "Gareth Jones") {
				t.Errorf("CSV export: %s\n%s", resp.Status, body)
			}
			if n := len(r.audit(server.AuditReleaseExport)); n != 1 {
				t.Errorf("%d exports audited, want 1", n)
			}
		})
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func unzipAll(t testing.TB, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = body
	}
	return out
}

// checkSHA256SUMS checks every file of a package against its SHA256SUMS,
// as sha256sum -c does.
func checkSHA256SUMS(t testing.TB, files map[string][]byte) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(files[protect.PackageSums])), "\n")
	if len(lines) != len(files)-1 {
		t.Errorf("SHA256SUMS lists %d files of %d", len(lines), len(files)-1)
	}
	for _, line := range lines {
		sum, name, _ := strings.Cut(line, "  ")
		got := sha256.Sum256(files[name])
		if _, ok := files[name]; !ok || hex.EncodeToString(got[:]) != sum {
			t.Errorf("SHA256SUMS: %q does not match", line)
		}
	}
}
