package testrig

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Publisher is a second publisher of dialog state for one extension, as a
// call leg of another proxy or a PBX's second node would be: it sends
// PUBLISH (Event: dialog, application/dialog-info+xml) to the PBX with
// SIPp, one SIPp run per PUBLISH, and keeps its entity tag so that each
// PUBLISH replaces its previous one. Kamailio merges the dialogs of every
// publication of the extension, as published, into the NOTIFYs its
// watchers get.
type Publisher struct {
	pbx  *PBX
	ext  string
	etag string
	n    int
}

// Publisher returns a new publisher of the dialog state of ext.
func (p *PBX) Publisher(ext string) *Publisher { return &Publisher{pbx: p, ext: ext} }

// Publish sends body as this publisher's dialog state, valid for expires,
// and waits for the PBX's 200. Kamailio (5.6) keeps one publication per
// dialog id: a new publication of an id already published replaces the
// other publisher's (whose next PUBLISH then fails, 412), and a
// publication that said "terminated" cannot change any more. So a dialog
// listed twice comes from one body that lists it twice, and a late copy of
// an ended dialog from another Publisher after Withdraw.
func (pub *Publisher) Publish(t testing.TB, body string, expires time.Duration) {
	t.Helper()
	if body == "" || expires <= 0 {
		t.Fatal("publish: a body and a lifetime are needed; Withdraw removes a publication")
	}
	pub.publish(t, body, expires)
}

// Withdraw removes this publisher's publication (a PUBLISH with Expires: 0
// and no body).
func (pub *Publisher) Withdraw(t testing.TB) {
	t.Helper()
	if pub.etag == "" {
		t.Fatal("withdraw: nothing published")
	}
	pub.publish(t, "", 0)
}

func (pub *Publisher) publish(t testing.TB, body string, expires time.Duration) {
	t.Helper()
	pub.n++
	// SIPp strips each line of the scenario; the body is one line so that
	// its length is what [len] counts.
	body = strings.Join(strings.Fields(strings.ReplaceAll(body, "\n", " ")), " ")
	logFile := filepath.Join(pub.pbx.dir, "publish-"+pub.ext+"-"+strconv.Itoa(pub.n)+".log")
	s := startSIPp(t, pub.pbx, "", "publish-"+pub.ext+"-"+strconv.Itoa(pub.n), publishScenario,
		map[string]any{"Ext": pub.ext, "IfMatch": pub.etag, "Expires": int(expires.Seconds()), "Body": body},
		"-m", "1", "-timeout", "10s", "-timeout_error", "-trace_logs", "-log_file", logFile)
	s.Wait(t, 15*time.Second)
	pub.etag = ""
	if expires == 0 {
		return
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("publish %s: %v", pub.ext, err)
	}
	if m := etagLine.FindSubmatch(data); m != nil {
		pub.etag = strings.TrimSpace(string(m[1]))
	}
	if pub.etag == "" {
		t.Fatalf("publish %s: the PBX's 200 has no SIP-ETag", pub.ext)
	}
}

var etagLine = regexp.MustCompile(`etag=\s*(\S+)`)

const publishScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="publish">
  <send retrans="500">
    <![CDATA[
      PUBLISH sip:{{.Ext}}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{{.Ext}}@[remote_ip]>;tag=[pid]pub[call_number]
      To: <sip:{{.Ext}}@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 PUBLISH
      Max-Forwards: 70
      Event: dialog
      Expires: {{.Expires}}{{if .IfMatch}}
      SIP-If-Match: {{.IfMatch}}{{end}}{{if .Body}}
      Content-Type: application/dialog-info+xml{{end}}
      Content-Length: [len]

      {{.Body}}
    ]]>
  </send>
  <recv response="200">
    <action>
      <ereg regexp=".*" search_in="hdr" header="SIP-ETag:" assign_to="etag"/>
      <log message="etag=[$etag]"/>
    </action>
  </recv>
</scenario>
`
