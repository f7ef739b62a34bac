package collector_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/collector"
	"github.com/callguard/callguard/rtpengine/pcapaudio"
)

// A call whose packets cannot be told apart (no sides, an address of
// neither side) leaves nothing behind: no audio, no manifest.
func TestAFailedConversionLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.pcap")
	writeStretch(t, src, 0, 100)
	_, recipient, err := artefact.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		sides pcapaudio.Sides
		want  error
	}{
		"no sides":                   {nil, pcapaudio.ErrNoSides},
		"the officer's is not known": {pcapaudio.Sides{callerPort: pcapaudio.SideCaller}, pcapaudio.ErrUnknownAddress},
	} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			_, err := collector.Convert(collector.Call{ID: "c0ffee02", Sides: tc.sides}, []string{src}, []string{recipient}, out)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if left, _ := os.ReadDir(out); len(left) != 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
	if _, err := collector.Convert(collector.Call{ID: "c0ffee03", Sides: pcapaudio.Sides{callerPort: pcapaudio.SideCaller, officerPort: pcapaudio.SideOfficer}},
		[]string{src}, []string{"ssh-rsa AAA"}, t.TempDir()); err == nil {
		t.Fatal("a key that is not an age recipient was accepted")
	}
}
