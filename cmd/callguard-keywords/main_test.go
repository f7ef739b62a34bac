package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/keywords"
)

// An encrypted WAV recording with the officer saying a phrase and the
// caller saying another: each is reported on its own channel, and nothing
// but the JSON lines is written.
func TestAnalysesAnEncryptedRecordingInMemory(t *testing.T) {
	_, err := os.Stat(keywords.DefaultModel + "/cmudict-en-us.dict")
	testrig.Need(t, "the pocketsphinx-en-us model", err)
	officer := append(make([]int16, 16000), testrig.Speak(t, "en-gb", 160, "Is there anything else I can help you with today?")...)
	caller := append(make([]int16, 32000), testrig.Speak(t, "en-gb", 160, "Is there anything else you need from me?")...)
	n := max(len(officer), len(caller)) + 16000
	officer, caller = append(officer, make([]int16, n-len(officer))...), append(caller, make([]int16, n-len(caller))...)

	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "org.agekey")
	if err := os.WriteFile(keyPath, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	audio := filepath.Join(dir, "call.wav.age")
	f, err := os.Create(audio)
	if err != nil {
		t.Fatal(err)
	}
	w, err := artefact.NewWriter(f, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	frames := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint16(frames[4*i:], uint16(officer[i]))
		binary.LittleEndian.PutUint16(frames[4*i+2:], uint16(caller[i]))
	}
	if _, err := w.Write(frames); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var out, errOut bytes.Buffer
	if code := run([]string{"--identity", keyPath, "--threshold", "1e-60", "--phrase", "anything else", audio}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got []heard
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var h heard
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got = append(got, h)
	}
	if len(got) != 2 || got[0].Channel != "officer" || got[1].Channel != "caller" ||
		got[0].FromMS < 1000 || got[1].FromMS < 2000 || got[0].Phrase != "anything else" {
		t.Fatalf("heard %+v, want the phrase once on each channel after its silence", got)
	}

	// Words in plain language when something is wrong.
	for _, args := range [][]string{
		{"--identity", keyPath, audio},
		{"--identity", keyPath, "--phrase", "anything elsewhereland", audio},
		{"--identity", filepath.Join(dir, "missing"), "--phrase", "hello", audio},
	} {
		errOut.Reset()
		if code := run(args, &out, &errOut); code == 0 || errOut.Len() == 0 {
			t.Errorf("%q: exit %d, %q: want a refusal in words", args, code, errOut.String())
		}
	}
}
