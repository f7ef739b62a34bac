package blob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/callguard/callguard/server"
)

func TestResumableUpload(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("age-encrypted-bytes "), 1000)
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])

	if n, err := s.Append("c1", 0, bytes.NewReader(data[:5000])); err != nil || n != 5000 {
		t.Fatalf("first chunk: %d, %v", n, err)
	}
	// A chunk resent after a lost reply does not fit: the client learns the size.
	if n, err := s.Append("c1", 0, bytes.NewReader(data[:5000])); !errors.Is(err, ErrOffset) || n != 5000 {
		t.Fatalf("stale chunk: %d, %v", n, err)
	}
	if size, stored, err := s.Size("c1"); err != nil || size != 5000 || stored {
		t.Fatalf("Size = %d %v %v", size, stored, err)
	}
	if _, err := s.Finish("c1", want, []byte(`{}`)); !errors.Is(err, ErrChecksum) {
		t.Fatalf("finish of a partial upload: %v", err)
	}
	// The mismatch discarded the partial: start again.
	if size, _, _ := s.Size("c1"); size != 0 {
		t.Fatalf("size after checksum failure = %d", size)
	}
	for off := 0; off < len(data); off += 7000 {
		if _, err := s.Append("c1", int64(off), bytes.NewReader(data[off:min(off+7000, len(data))])); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Finish("c1", strings.ToUpper(want), []byte(`{"call_id":"c1"}`)); err != nil || n != int64(len(data)) {
		t.Fatalf("Finish = %d, %v", n, err)
	}
	if n, err := s.Finish("c1", want, []byte(`{"call_id":"c1"}`)); err != nil || n != int64(len(data)) {
		t.Fatalf("second Finish = %d, %v", n, err)
	}
	got, err := os.ReadFile(s.AudioPath("c1"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored bytes differ: %v", err)
	}
	if _, err := s.Append("c1", int64(len(data)), strings.NewReader("x")); !errors.Is(err, server.ErrConflict) {
		t.Fatalf("append to a stored recording: %v", err)
	}
	if err := s.Delete("c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("c1"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}

func TestBadIDsNeverTouchTheDisk(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "../etc/passwd", "a/b", strings.Repeat("a", 65), "c1.wav"} {
		if _, err := s.Append(id, 0, strings.NewReader("x")); !errors.Is(err, server.ErrInvalid) {
			t.Errorf("Append(%q): %v", id, err)
		}
	}
}
