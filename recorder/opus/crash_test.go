package opus_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/callguard/callguard/artefact/oggopus/opustest"
	"github.com/callguard/callguard/recorder/opus"
)

// A recording flushed every second and then cut short, by a crash or a
// power cut, decodes up to its last Flush: the audio of the complete pages,
// sample for sample what the whole recording decodes to, less the encoder's
// look-ahead (6.5 ms). A page half written when it happened changes
// nothing.
func TestAFlushedRecordingSurvivesACrash(t *testing.T) {
	t.Parallel()
	pcm := opustest.Bytes(turns(speech(t, dialogues[1][0]), speech(t, dialogues[1][1])))
	second := 4 * rate // bytes of one second of stereo PCM16
	var out bytes.Buffer
	e, err := opus.NewEncoder(&out)
	if err != nil {
		t.Fatal(err)
	}
	var crashes [][]byte // what the destination held at each moment tried
	var flushed []int    // and the samples flushed by then
	for s := 0; (s+1)*second <= len(pcm); s++ {
		if _, err := e.Write(pcm[s*second : (s+1)*second]); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		if s == 2 || s == 5 {
			held := bytes.Clone(out.Bytes())
			// 0.43 s more is written, none of it flushed: it is lost.
			if _, err := e.Write(pcm[(s+1)*second : (s+1)*second+second*43/100]); err != nil {
				t.Fatal(err)
			}
			crashes = append(crashes, held)
			flushed = append(flushed, (s+1)*rate)
			// The rest of the second, and the page it ends, half written.
			if _, err := e.Write(pcm[(s+1)*second+second*43/100 : (s+2)*second]); err != nil {
				t.Fatal(err)
			}
			s++
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			page := out.Bytes()[len(held):]
			crashes = append(crashes, append(bytes.Clone(held), page[:len(page)/2]...))
			flushed = append(flushed, (s)*rate)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	whole := mustDecodeOwn(t, out.Bytes())
	lookahead := e.PreSkip() / 3
	for i, held := range crashes {
		got, err := decodeOwn(t, held)
		if !isTruncated(err) {
			t.Fatalf("crash %d: the Decoder ends with %v, want ErrTruncated", i, err)
		}
		want := flushed[i] - lookahead
		if len(got)/2 != want {
			t.Fatalf("crash %d after %d flushed samples: %d decoded, want %d", i, flushed[i], len(got)/2, want)
		}
		if !slices.Equal(got, whole[:len(got)]) {
			t.Fatalf("crash %d: the audio recovered differs from the recording's", i)
		}
		if n := len(opustest.DecodeBytes(t, held, rate)) / 2; n < want-1 || n > want+1 {
			t.Errorf("crash %d: opusdec recovers %d samples, want %d", i, n, want)
		}
		_, ps, err := opustest.ReadPackets(held)
		if !isTruncated(err) || len(ps)*320 != flushed[i] {
			t.Errorf("crash %d: %d packets read, %v", i, len(ps), err)
		}
	}
}
