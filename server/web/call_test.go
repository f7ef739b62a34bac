package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

var playSrc = regexp.MustCompile(`src="(/calls/[^"]+/audio\?play=[^"]+)"`)

// get fetches path with a Range header, as the audio element does.
func (b *browser) get(path, rng string) (*http.Response, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.r.base+path, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestCallPageShowsTheTimelineAndTheGaps(t *testing.T) {
	r := newRig(t, "", nil)
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: day, pause: true, flag: "health", keypad: true})
	olive.upload("c1", 2)
	r.user("dee", server.RoleDPO)
	b := r.browser()
	b.signIn("dee")
	resp, body := b.do("GET", "/calls/c1", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("call page: %s\n%s", resp.Status, body)
	}
	for _, want := range []string{
		"Ringing (inbound)", "Answered", "Privacy notice: announced by the phone system",
		"Recording paused: Card payment", "Recording resumed (paused 1 min 00 s)",
		"Flagged by the officer: Health details were recorded", "Ended",
		"Keypad tones masked in the recording (15 s – 16 s of it)",
		"0 s – 25 s: recorded", "25 s – 1 min 25 s: <strong>paused, not recorded</strong> (Card payment)", "1 min 25 s – 1 min 55 s: recorded",
		`<audio id="player"`, `<select id="purpose" name="purpose" required>`, "+447700900123",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the call page lacks %q", want)
		}
	}
	if got := r.audit(server.AuditCallRead); len(got) != 1 || got[0].Target != "c1" || got[0].Actor != "dee" {
		t.Errorf("call read audit: %+v", got)
	}
	if got := r.audit(server.AuditPlay); len(got) != 0 {
		t.Errorf("opening the page audited %d plays; nothing was played", len(got))
	}
}

func TestOnePlayIsOneAuditRecordWhateverTheRanges(t *testing.T) {
	r := newRig(t, "", nil)
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: day})
	wav := olive.upload("c1", 3)
	r.user("sue", server.RoleSupervisor)
	b := r.browser()
	b.signIn("sue")
	_, page := b.do("GET", "/calls/c1", nil, nil)
	m := playSrc.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no player on the page:\n%s", page)
	}
	src := m[1]
	for _, rng := range []string{"bytes=0-", "bytes=0-99", "bytes=100000-100099", "bytes=191990-", ""} {
		resp, body := b.get(src, rng)
		start, end := 0, len(wav)
		switch rng {
		case "bytes=0-99":
			end = 100
		case "bytes=100000-100099":
			start, end = 100000, 100100
		case "bytes=191990-":
			start = 191990
		}
		want := http.StatusPartialContent
		if rng == "" {
			want = http.StatusOK
		}
		if resp.StatusCode != want || resp.Header.Get("Content-Type") != "audio/wav" || !bytes.Equal(body, wav[start:end]) {
			t.Fatalf("%q: %s %s, %d bytes; want %d, bytes %d–%d of the WAV", rng, resp.Status, resp.Header.Get("Content-Type"), len(body), want, start, end)
		}
	}
	if got := r.audit(server.AuditPlay); len(got) != 1 || got[0].Actor != "sue" || got[0].Target != "c1" {
		t.Fatalf("five range requests of one play: %d play records, want 1: %+v", len(got), got)
	}
	// Opening the page again is another play.
	_, page = b.do("GET", "/calls/c1", nil, nil)
	src2 := playSrc.FindStringSubmatch(page)[1]
	if src2 == src {
		t.Fatal("the page gave the same play id twice")
	}
	b.get(src2, "bytes=0-")
	b.get(src2, "bytes=5000-")
	if got := r.audit(server.AuditPlay); len(got) != 2 {
		t.Fatalf("a second play: %d play records, want 2", len(got))
	}
	// Another person using sue's play link starts a play of their own (and
	// is audited as themselves).
	r.user("dee", server.RoleDPO)
	other := r.browser()
	other.signIn("dee")
	other.get(src, "bytes=0-")
	if got := r.audit(server.AuditPlay); len(got) != 3 || got[2].Actor != "dee" {
		t.Fatalf("another session with the same link: %+v", got)
	}
	if n := len(r.audit(server.AuditDownload)); n != 0 {
		t.Errorf("plays audited as %d downloads", n)
	}
}

func TestDownloadIsADPOsAndNeedsAPurpose(t *testing.T) {
	r := newRig(t, "", nil)
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: day})
	wav := olive.upload("c1", 1)
	r.user("dee", server.RoleDPO)
	r.user("sue", server.RoleSupervisor)
	dee, sue := r.browser(), r.browser()
	dee.signIn("dee")
	sue.signIn("sue")
	if resp, _ := sue.do("POST", "/calls/c1/download", url.Values{"csrf": {sue.csrf}, "purpose": {"complaint"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a supervisor's download: %s, want 403 (play and download are different rights)", resp.Status)
	}
	for _, purpose := range []string{"", "curiosity"} {
		resp, body := dee.do("POST", "/calls/c1/download", url.Values{"csrf": {dee.csrf}, "purpose": {purpose}}, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Choose why you are downloading") {
			t.Errorf("purpose %q: %s", purpose, resp.Status)
		}
	}
	req, _ := http.NewRequest("POST", r.base+"/calls/c1/download", strings.NewReader(url.Values{"csrf": {dee.csrf}, "purpose": {"complaint"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", r.base)
	resp, err := dee.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") != `attachment; filename="call-c1.wav"` || !bytes.Equal(got, wav) {
		t.Fatalf("download: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Disposition"), len(got))
	}
	recs := r.audit(server.AuditDownload)
	if len(recs) != 1 {
		t.Fatalf("%d download records, want 1", len(recs))
	}
	var d map[string]any
	json.Unmarshal([]byte(recs[0].Detail), &d)
	if d["purpose"] != "complaint" || d["format"] != "wav" || recs[0].Actor != "dee" {
		t.Errorf("download record %+v", recs[0])
	}
	if n := len(r.audit(server.AuditPlay)); n != 0 {
		t.Errorf("a download audited as %d plays", n)
	}

	// An Opus recording downloads as the .opus it is, audited so.
	olive.call(callSpec{id: "c2", remote: "+447700900123", start: day.Add(time.Hour)})
	stream := olive.uploadOpus("c2")
	req, _ = http.NewRequest("POST", r.base+"/calls/c2/download", strings.NewReader(url.Values{"csrf": {dee.csrf}, "purpose": {"complaint"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", r.base)
	if resp, err = dee.c.Do(req); err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/ogg" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="call-c2.opus"` || !bytes.Equal(got, stream) {
		t.Fatalf("Opus download: %s %q %q, %d bytes", resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), len(got))
	}
	recs = r.audit(server.AuditDownload)
	json.Unmarshal([]byte(recs[len(recs)-1].Detail), &d)
	if len(recs) != 2 || d["format"] != "opus" {
		t.Errorf("Opus download records %+v", recs)
	}
}

func TestPathTraversalInNamesIsRefused(t *testing.T) {
	r := newRig(t, "", nil)
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: day})
	olive.upload("c1", 1)
	r.user("dee", server.RoleDPO)
	b := r.browser()
	b.signIn("dee")
	for _, path := range []string{
		"/calls/..%2F..%2F..%2Fetc%2Fpasswd",
		"/calls/..%2Fc1/audio?play=AAAAAAAAAAAAAAAAAAAAAA",
		"/calls/c1%2F..%2F..%2Fdata/audio?play=AAAAAAAAAAAAAAAAAAAAAA",
		"/calls/c1/audio?play=..%2F..%2F..%2Fetc%2Fpasswd",
		"/assets/../web.go",
		"/assets/%2e%2e/web.go",
		"/assets/..%2fweb.go",
		"/assets/%2e%2e%2ftemplates%2flayout.html",
	} {
		resp, body := b.get(path, "")
		if resp.StatusCode == http.StatusOK || bytes.Contains(body, []byte("package web")) || bytes.Contains(body, []byte("root:")) ||
			strings.Contains(resp.Header.Get("Content-Disposition"), "..") {
			t.Errorf("%s: %s %q", path, resp.Status, resp.Header.Get("Content-Disposition"))
		}
	}
	for _, id := range []string{"..%2F..%2Fetc%2Fpasswd", "c1%22%3B%20filename%3D%22evil.exe"} {
		resp, _ := b.do("POST", "/calls/"+id+"/download", url.Values{"csrf": {b.csrf}, "purpose": {"complaint"}}, nil)
		if resp.StatusCode == http.StatusOK || strings.Contains(resp.Header.Get("Content-Disposition"), "..") || strings.Contains(resp.Header.Get("Content-Disposition"), "evil") {
			t.Errorf("download %s: %s %q", id, resp.Status, resp.Header.Get("Content-Disposition"))
		}
	}
	if n := len(r.audit(server.AuditDownload)); n != 0 {
		t.Errorf("%d downloads audited from crafted names", n)
	}
}
