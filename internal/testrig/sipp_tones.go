package testrig

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TonePhoneOptions say how a SIPp phone that talks answers.
type TonePhoneOptions struct {
	RingFor time.Duration // default 300 ms
	// Tones is the pcap the phone plays once the call is answered
	// (WriteTonePCAP), its side of the conversation.
	Tones string
}

// SIPpTonePhone starts a SIPp UAS as the phone of extension ext and
// registers it: every call to ext rings for opts.RingFor, is answered with
// PCMA media, and from the ACK on the phone plays opts.Tones as RTP until
// the caller hangs up.
func SIPpTonePhone(t testing.TB, pbx *PBX, ext string, opts TonePhoneOptions) *SIPp {
	t.Helper()
	if opts.RingFor <= 0 {
		opts.RingFor = 300 * time.Millisecond
	}
	needFile(t, opts.Tones)
	s := startSIPp(t, pbx, "", "tonephone-"+ext, tonePhoneScenario,
		map[string]any{"RingMS": opts.RingFor.Milliseconds(), "Tones": opts.Tones},
		"-s", ext, "-mp", strconv.Itoa(freeMediaPort(t)))
	pbx.Register(t, ext, s.Contact())
	return s
}

// ToneCallOptions shape a SIPp call that talks.
type ToneCallOptions struct {
	HoldFor time.Duration // once answered, hang up after this long
	// Tones is the pcap the caller plays once the call is answered.
	Tones string
}

// SIPpToneCall places one call from from to extension to through the PBX,
// offering PCMA; once answered the caller plays opts.Tones as RTP and hangs
// up after opts.HoldFor.
func SIPpToneCall(t testing.TB, pbx *PBX, from, to string, opts ToneCallOptions) *SIPp {
	t.Helper()
	needFile(t, opts.Tones)
	return startSIPp(t, pbx, "", "tonecall-"+from+"-"+to, toneCallScenario,
		map[string]any{"From": from, "PBX": pbx.Addr("udp"), "HoldMS": opts.HoldFor.Milliseconds(), "Tones": opts.Tones},
		"-s", to, "-m", "1", "-timeout", "60s", "-timeout_error", "-mp", strconv.Itoa(freeMediaPort(t)))
}

var callIDLine = regexp.MustCompile(`(?mi)^\s*Call-ID:\s*(\S+)`)

// CallIDs returns the Call-IDs of the SIP messages SIPp has logged so far,
// first seen first.
func (s *SIPp) CallIDs() []string {
	data, _ := os.ReadFile(filepath.Join(s.dir, "messages.log"))
	var ids []string
	seen := map[string]bool{}
	for _, m := range callIDLine.FindAllSubmatch(data, -1) {
		if id := string(m[1]); !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

func needFile(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("sipp: tones pcap: %v", err)
	}
}

// freeMediaPort returns an even UDP port that is free with the three above
// it: SIPp binds the audio port and the video port two above.
func freeMediaPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		p := FreePort(t, "udp") &^ 1
		if p+3 > 65535 {
			continue
		}
		free := true
		for i := range 4 {
			c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p+i))
			if err != nil {
				free = false
				break
			}
			c.Close()
		}
		if free {
			return p
		}
	}
	t.Fatal("no free media ports")
	return 0
}

// tonePhoneScenario rings, answers with PCMA and plays its tones.
const tonePhoneScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="tone phone">
  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="{{.RingMS}}"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP4 [media_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=sendrecv

    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <nop><action><exec play_pcap_audio="{{.Tones}}"/></action></nop>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
`

// toneCallScenario calls offering PCMA, plays its tones once answered,
// holds, and hangs up along the PBX's Record-Route.
const toneCallScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="tone call">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@{{.PBX}} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv
      From: "Caller {{.From}}" <sip:{{.From}}@[remote_ip]>;tag=[pid]caller[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{{.From}}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 [media_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=sendrecv
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Caller {{.From}}" <sip:{{.From}}@[remote_ip]>;tag=[pid]caller[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <nop><action><exec play_pcap_audio="{{.Tones}}"/></action></nop>
  <pause milliseconds="{{.HoldMS}}"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Caller {{.From}}" <sip:{{.From}}@[remote_ip]>;tag=[pid]caller[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
`
