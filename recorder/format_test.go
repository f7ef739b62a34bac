package recorder

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
)

// An Opus recording (the default) verifies, decrypts to an Ogg Opus file
// that opusdec plays for the whole recording, and with --wav to a WAV of
// exactly the frames recorded, digital silence from one frame after the
// pause began.
func TestCLIDecryptsOpus(t *testing.T) {
	const n = 200 // buffers: 4 s, paused from the 101st
	audio, manPath, id := recordFakeCall(t, n, opusCall("call-opus", ""))
	if !strings.HasSuffix(audio, ".opus.age") {
		t.Fatalf("audio file %s", audio)
	}
	m, err := artefact.ReadManifest(manPath)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != artefact.ManifestVersion || m.Codec != artefact.CodecOpus || m.Bitrate != 24000 || m.FrameMS != 20 ||
		len(m.SilencePacket) == 0 || m.AudioFile != "call-opus.opus.age" || m.Frames != n*BufferFrames || m.DataBytes != 0 {
		t.Fatalf("manifest: version %d codec %q bitrate %d frame %d ms silence % x file %s frames %d data %d",
			m.Version, m.Codec, m.Bitrate, m.FrameMS, m.SilencePacket, m.AudioFile, m.Frames, m.DataBytes)
	}
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := RunCLI(args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, _ := run("verify", "--identity", keyFile, audio); code != 0 || !strings.HasPrefix(out, "OK") {
		t.Fatalf("verify: %d %s", code, out)
	}
	code, _, msg := run("decrypt", "--identity", keyFile, audio)
	if code != 0 || !strings.Contains(msg, "matches the manifest") || !strings.Contains(msg, "Ogg Opus") {
		t.Fatalf("decrypt: %d %s", code, msg)
	}
	ogg, err := os.ReadFile(strings.TrimSuffix(audio, ".age"))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(opustest.DecodeBytes(t, ogg, 16000)) / 2; got != n*BufferFrames {
		t.Fatalf("opusdec plays %d frames of the .opus, want %d", got, n*BufferFrames)
	}

	code, _, msg = run("decrypt", "--wav", "--identity", keyFile, audio)
	if code != 0 || !strings.Contains(msg, "(WAV)") {
		t.Fatalf("decrypt --wav: %d %s", code, msg)
	}
	wav, err := os.ReadFile(strings.TrimSuffix(audio, ".opus.age") + ".wav")
	if err != nil {
		t.Fatal(err)
	}
	if len(wav) != artefact.WAVHeaderSize+n*bufferBytes || !bytes.Equal(wav[:artefact.WAVHeaderSize], artefact.WAVHeader(n*bufferBytes)) {
		t.Fatalf("decoded WAV: %d bytes, header % x", len(wav), wav[:artefact.WAVHeaderSize])
	}
	data := wav[artefact.WAVHeaderSize:]
	if len(m.Pauses) != 1 {
		t.Fatalf("pauses %s", pausesString(m))
	}
	from := artefact.MSToFrames(m.Pauses[0].StartMS) + 320 // one frame allowed at the edge
	var loud int
	for k := int64(0); k < int64(n*BufferFrames); k++ {
		v := int16(binary.LittleEndian.Uint16(data[4*k:]))
		if k >= from && (v != 0 || data[4*k+2] != 0 || data[4*k+3] != 0) {
			t.Fatalf("frame %d, inside the pause from %d ms, decodes to %d", k, m.Pauses[0].StartMS, v)
		}
		if k < from-640 && v != 0 {
			loud++
		}
	}
	if loud < int(from)/2 {
		t.Fatalf("only %d frames before the pause hold sound", loud)
	}
}
