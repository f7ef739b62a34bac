package blob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	// A staged replacement leaves the recording alone until it is committed.
	size, stagedSum, err := s.Stage("c1", func(w io.Writer) error { _, err := w.Write([]byte("redacted")); return err })
	if err != nil || size != 8 {
		t.Fatalf("Stage = %d, %v", size, err)
	}
	if staged, ok, err := s.Staged("c1"); err != nil || !ok || staged != stagedSum {
		t.Fatalf("Staged = %q %v %v", staged, ok, err)
	}
	if ids, err := s.StagedIDs(); err != nil || len(ids) != 1 || ids[0] != "c1" {
		t.Fatalf("StagedIDs = %v, %v", ids, err)
	}
	if got, _ := os.ReadFile(s.AudioPath("c1")); !bytes.Equal(got, data) {
		t.Fatal("staging changed the recording")
	}
	if err := s.Commit("c1", []byte(`{"call_id":"c1","redactions":[]}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(s.AudioPath("c1")); string(got) != "redacted" {
		t.Fatalf("after commit: %q", got)
	}
	if _, ok, _ := s.Staged("c1"); ok {
		t.Fatal("the staged file is still there after commit")
	}
	if existed, err := s.Delete("c1"); err != nil || !existed {
		t.Fatalf("Delete = %v, %v", existed, err)
	}
	if existed, err := s.Delete("c1"); err != nil || existed {
		t.Fatalf("second delete: %v, %v", existed, err)
	}
	// Committing after a deletion does not bring the recording back.
	if _, _, err := s.Stage("c1", func(io.Writer) error { return nil }); !errors.Is(err, server.ErrNotFound) {
		t.Fatalf("Stage of a deleted recording: %v", err)
	}
	if err := s.Commit("c1", nil); !errors.Is(err, server.ErrGone) {
		t.Fatalf("Commit of a deleted recording: %v", err)
	}
	if _, err := os.Stat(s.AudioPath("c1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a commit brought a deleted recording back")
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

// TestUploadCheckLeavesNothingOfADeletedCall: with an upload check, a call
// whose deletion has begun gets no file, and one deleted by another
// process (which does not share the lock) between the check and the write
// loses what the write made, whether a chunk or the finished recording.
func TestUploadCheckLeavesNothingOfADeletedCall(t *testing.T) {
	data := []byte("age-encrypted-bytes")
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	gone := fmt.Errorf("call deleted: %w", server.ErrGone)
	for _, tc := range []struct {
		name string
		// deleted runs at the nth check of the call (1: before the write,
		// 2: after it): from then on the call is gone; removal is done by
		// the deleting process then.
		deleted int
		finish  bool // a chunk is uploaded first; the deletion races Finish
		wantErr error
	}{
		{"an open call takes the chunk", 0, false, nil},
		{"an open call is finished", 0, true, nil},
		{"a call whose deletion has begun gets no chunk", 1, false, server.ErrGone},
		{"a call deleted elsewhere while a chunk is written loses it", 2, false, server.ErrGone},
		{"a call whose deletion has begun is not finished", 1, true, server.ErrGone},
		{"a call deleted elsewhere while it is finished loses the recording", 2, true, server.ErrGone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s *Store
			checks, deleted, racing := 0, false, false
			s, err := Open(t.TempDir(), WithUploadCheck(func(id string) error {
				if racing {
					checks++
					if checks == tc.deleted {
						deleted = true
						// The other process's deletion, between this check and the
						// write that follows.
						for _, p := range []string{s.AudioPath(id), s.partial(id), s.ManifestPath(id)} {
							os.Remove(p)
						}
					}
				}
				if deleted {
					return gone
				}
				return nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			if tc.finish {
				if _, err := s.Append("c1", 0, bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
			}
			racing = true
			if tc.finish {
				_, err = s.Finish("c1", want, []byte(`{"call_id":"c1"}`))
			} else {
				_, err = s.Append("c1", 0, bytes.NewReader(data))
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil {
				return
			}
			for _, p := range []string{s.AudioPath("c1"), s.partial("c1"), s.ManifestPath("c1")} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s is left behind (%v)", p, err)
				}
			}
		})
	}
}
