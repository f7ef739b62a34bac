package rtpengine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
)

func TestScratchRig(t *testing.T) {
	rtp := testrig.StartRTPEngine(t, testrig.RTPEngineOptions{})
	pbx := testrig.Kamailio(t, testrig.KamailioOptions{RTPEngine: rtp.NG()})
	dir := t.TempDir()
	caller := testrig.Tone{BaseHz: 400, StepHz: 100, Seconds: 5, SSRC: 0xaaaa0001}
	officer := testrig.Tone{BaseHz: 450, StepHz: 100, Seconds: 5, SSRC: 0xbbbb0002}
	testrig.WriteTonePCAP(filepath.Join(dir, "caller.pcap"), caller)
	testrig.WriteTonePCAP(filepath.Join(dir, "officer.pcap"), officer)
	testrig.SIPpTonePhone(t, pbx, "1001", testrig.TonePhoneOptions{Tones: filepath.Join(dir, "officer.pcap")})
	call := testrig.SIPpToneCall(t, pbx, "07700900123", "1001", testrig.ToneCallOptions{HoldFor: 3 * time.Second, Tones: filepath.Join(dir, "caller.pcap")})
	c, err := Dial(rtp.NG())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ids []string
	testrig.Eventually(t, 5*time.Second, func() bool { ids, _ = c.List(context.Background(), 10); return len(ids) == 1 }, "no call")
	q, err := c.Query(context.Background(), ids[0])
	t.Logf("ids %v sipp %v query %+v err %v", ids, call.CallIDs(), q, err)
	time.Sleep(1 * time.Second)
	t.Log(c.StopRecording(context.Background(), ids[0]))
	time.Sleep(500 * time.Millisecond)
	t.Log(c.StartRecording(context.Background(), ids[0]))
	q, err = c.Query(context.Background(), ids[0])
	t.Logf("query %+v err %v", q, err)
	call.Wait(t, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	st, err := rtp.Stretches(ids[0])
	t.Logf("stretches %v %v open %v", st, err, rtp.OpenPCAPs())
	t.Log(rtp.Log())
}
