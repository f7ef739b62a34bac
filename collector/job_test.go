package collector_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/collector"
	"github.com/callguard/callguard/server"
)

// recordingDir lays out rtpengine's recording-dir with one closed stretch
// of each call (pcaps/ and metadata/), and an open one (tmp/) of each of
// open.
func recordingDir(t *testing.T, closed []string, open ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"pcaps", "metadata", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, name := range closed {
		pcap := filepath.Join(dir, "pcaps", name)
		writeStretch(t, pcap, 0, 50)
		meta := "/elsewhere/pcaps/" + name + "\n\n\ncall start time: 2026-12-02T18:00:19\ncall end time: 2026-12-02T18:00:21\n"
		if err := os.WriteFile(filepath.Join(dir, "metadata", string(rune('a'+i))+".txt"), []byte(meta), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range open {
		if err := os.WriteFile(filepath.Join(dir, "tmp", name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestScanGroupsStretchesByTheirCallID(t *testing.T) {
	dir := recordingDir(t, []string{"1-2%40pbx-aa01.pcap", "1-2%40pbx-bb02.pcap", "x%40y-cc03.pcap"}, "z%40y-dd04.pcap")
	os.Remove(filepath.Join(dir, "pcaps", "1-2%40pbx-bb02.pcap")) // deleted but for its metadata
	os.WriteFile(filepath.Join(dir, "metadata", "junk.txt"), []byte("not a stretch\n"), 0o644)
	calls, err := collector.Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range calls {
		pcaps := 0
		for _, s := range c.Stretches {
			if s.PCAP != "" {
				pcaps++
			}
		}
		got = append(got, c.SIPCallID+":"+string(rune('0'+len(c.Stretches)))+string(rune('0'+pcaps))+map[bool]string{true: "open", false: ""}[c.Open])
	}
	want := []string{"1-2@pbx:21", "x@y:11", "z@y:00open"}
	if !slices.Equal(got, want) {
		t.Fatalf("scan = %v, want %v", got, want)
	}
}

// fakeServer answers lookups from a table and records uploads.
type fakeServer struct {
	answers  map[string]server.PhoneRecording
	fail     error
	uploaded []string
}

var errUnknown = errors.New("404")

func (f *fakeServer) LookUpPhoneRecording(_ context.Context, id string) (server.PhoneRecording, error) {
	if f.fail != nil {
		return server.PhoneRecording{}, f.fail
	}
	pr, ok := f.answers[id]
	if !ok {
		return pr, errUnknown
	}
	return pr, nil
}

func (f *fakeServer) UploadRecording(_ context.Context, dir, id string) error {
	if _, err := artefact.ReadManifest(filepath.Join(dir, id+".json")); err != nil {
		return err
	}
	f.uploaded = append(f.uploaded, id)
	os.Remove(filepath.Join(dir, id+".json"))
	return os.Remove(filepath.Join(dir, id+".wav.age"))
}

type fakePhone map[string]bool

func (f fakePhone) Holds(_ context.Context, id string) (bool, error) { return f[id], nil }

// TestSweepDecidesByThePhoneSystemAndTheServer: a call rtpengine still
// holds or writes is left alone; one the server does not know waits; one
// recorded at both waits for the desktop's recording and is deleted once
// it is stored; one whose sides are unknown is kept; one to upload is made,
// uploaded and its pcaps deleted. With the server unreachable the sweep
// stops and deletes nothing.
func TestSweepDecidesByThePhoneSystemAndTheServer(t *testing.T) {
	dir := recordingDir(t, []string{"held-aa.pcap", "open-bb.pcap", "unknown-cc.pcap", "both-dd.pcap", "nosides-ee.pcap", "pbx-ff.pcap"}, "open-zz.pcap")
	_, recipient, _ := artefact.NewIdentity()
	srv := &fakeServer{answers: map[string]server.PhoneRecording{
		"both":    {CallID: "c0ffee10", Where: server.WhereBoth, Recording: "none", Why: "the desktop's recording is the call's"},
		"nosides": {CallID: "c0ffee11", Where: server.WherePhoneSystem, Recording: "none", Upload: true},
		"pbx": {CallID: "c0ffee12", Where: server.WherePhoneSystem, Recording: "none", Upload: true,
			OfficerAddrs: []string{officerPort.String()}, CallerAddrs: []string{callerPort.String()}},
	}}
	spool := t.TempDir()
	job, err := collector.NewJob(collector.Options{RecordingDir: dir, SpoolDir: spool, Recipients: []string{recipient},
		Server: srv, PhoneSystem: fakePhone{"held": true}, IsUnknown: func(err error) bool { return errors.Is(err, errUnknown) }})
	if err != nil {
		t.Fatal(err)
	}
	sweep := func() map[string]string {
		t.Helper()
		out, err := job.Sweep(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		did := map[string]string{}
		for _, o := range out {
			did[o.SIPCallID] = o.Did
		}
		return did
	}
	want := map[string]string{"held": collector.DidNothing, "open": collector.DidNothing, "unknown": collector.DidWait,
		"both": collector.DidWait, "nosides": collector.DidRefuse, "pbx": collector.DidUpload}
	if got := sweep(); !maps.Equal(got, want) {
		t.Fatalf("first sweep %v, want %v", got, want)
	}
	if !slices.Equal(srv.uploaded, []string{"c0ffee12"}) {
		t.Fatalf("uploaded %v", srv.uploaded)
	}
	left := func() []string {
		calls, _ := collector.Scan(dir)
		var ids []string
		for _, c := range calls {
			ids = append(ids, c.SIPCallID)
		}
		return ids
	}
	if got := left(); !slices.Equal(got, []string{"both", "held", "nosides", "open", "unknown"}) {
		t.Fatalf("calls left %v", got)
	}

	// The desktop's recording of the both call is stored now.
	pr := srv.answers["both"]
	pr.Recording = "stored"
	srv.answers["both"] = pr
	if got := sweep(); got["both"] != collector.DidDelete {
		t.Fatalf("second sweep: %v", got)
	}
	if got := left(); slices.Contains(got, "both") {
		t.Fatalf("the both call's pcaps were kept: %v", got)
	}

	srv.fail = errors.New("connection refused")
	if _, err := job.Sweep(context.Background()); err == nil {
		t.Fatal("a sweep with the server unreachable reported no error")
	}
	if got := left(); !slices.Equal(got, []string{"held", "nosides", "open", "unknown"}) {
		t.Fatalf("calls left with the server down: %v", got)
	}
	if n, _ := os.ReadDir(spool); len(n) != 0 {
		t.Fatalf("spool: %v", n)
	}
}

// A recording made in part by a job that stopped (audio but no manifest)
// is made again from the start, not uploaded as it was.
func TestAPartlyMadeRecordingIsMadeAgain(t *testing.T) {
	dir := recordingDir(t, []string{"pbx-ff.pcap"})
	_, recipient, _ := artefact.NewIdentity()
	spool := t.TempDir()
	if err := os.WriteFile(filepath.Join(spool, "c0ffee12.wav.age"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := &fakeServer{answers: map[string]server.PhoneRecording{"pbx": {CallID: "c0ffee12", Recording: "none", Upload: true,
		OfficerAddrs: []string{officerPort.String()}, CallerAddrs: []string{callerPort.String()}}}}
	var sizes []int64
	job, _ := collector.NewJob(collector.Options{RecordingDir: dir, SpoolDir: spool, Recipients: []string{recipient},
		Server: uploadSpy{srv, &sizes}, PhoneSystem: fakePhone{}})
	if _, err := job.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 1 || sizes[0] <= 4 {
		t.Fatalf("uploaded files of %v bytes", sizes)
	}
}

// uploadSpy notes the size of each audio file uploaded.
type uploadSpy struct {
	*fakeServer
	sizes *[]int64
}

func (u uploadSpy) UploadRecording(ctx context.Context, dir, id string) error {
	if info, err := os.Stat(filepath.Join(dir, id+".wav.age")); err == nil {
		*u.sizes = append(*u.sizes, info.Size())
	}
	return u.fakeServer.UploadRecording(ctx, dir, id)
}
