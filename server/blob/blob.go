package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/callguard/callguard/internal/atomicfile"
	"github.com/callguard/callguard/server"
)

// MaxSize is the largest recording accepted (4 GiB: about 17 hours of
// 16 kHz stereo PCM16).
const MaxSize = 4 << 30

// Errors.
var (
	// ErrOffset: a chunk did not start where the upload stands; the client
	// asks for the size and resumes from there.
	ErrOffset = errors.New("upload offset does not match")
	// ErrChecksum: the uploaded bytes do not have the manifest's sha256; the
	// partial upload is discarded so the client starts again.
	ErrChecksum = errors.New("sha256 does not match the uploaded bytes")
	// ErrTooLarge: the recording would pass MaxSize.
	ErrTooLarge = errors.New("recording too large")
)

// Store is a directory of recordings.
type Store struct {
	dir         string
	uploadCheck func(id string) error

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// Option configures a Store.
type Option func(*Store)

// WithUploadCheck makes Append and Finish ask check whether a call still
// takes its recording (store.UploadOpen: not deleted, no deletion begun),
// under the call's lock, before they write and again once the bytes are on
// disk. The first answer closes the window between a deletion removing the
// call's files (Remove takes the same lock) and a chunk arriving; the
// second catches a deletion begun meanwhile by another process (another
// instance, `retention run`), which does not share the lock. When check
// fails the chunk is undone; when it fails with server.ErrGone, whatever
// the call's upload left is removed.
func WithUploadCheck(check func(id string) error) Option {
	return func(s *Store) { s.uploadCheck = check }
}

// Open returns the blob store under dir, creating it.
func Open(dir string, opts ...Option) (*Store, error) {
	for _, sub := range []string{"recordings", "uploads"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
	}
	s := &Store{dir: dir, locks: map[string]*sync.Mutex{}}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// checkUpload asks the upload check, if there is one; the caller holds the
// call's lock.
func (s *Store) checkUpload(id string) error {
	if s.uploadCheck == nil {
		return nil
	}
	if err := s.uploadCheck(id); err != nil {
		return fmt.Errorf("upload of recording %s refused: %w", id, err)
	}
	return nil
}

// lock serialises work on one call's files.
func (s *Store) lock(callID string) func() {
	s.mu.Lock()
	l := s.locks[callID]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[callID] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (s *Store) partial(id string) string {
	return filepath.Join(s.dir, "uploads", id+".wav.age.part")
}

// AudioPath is where a stored recording's encrypted audio lives.
func (s *Store) AudioPath(id string) string {
	return filepath.Join(s.dir, "recordings", shard(id), id+".wav.age")
}

// ManifestPath is where a stored recording's manifest lives.
func (s *Store) ManifestPath(id string) string {
	return filepath.Join(s.dir, "recordings", shard(id), id+".json")
}

func shard(id string) string {
	if len(id) < 2 {
		return "_"
	}
	return strings.ToLower(id[:2])
}

func check(id string) error {
	if !server.ValidID(id) {
		return fmt.Errorf("call id %q: %w", id, server.ErrInvalid)
	}
	return nil
}

// Size returns how many bytes of the call's upload are safely on disk, and
// whether the recording is already stored whole.
func (s *Store) Size(id string) (size int64, stored bool, err error) {
	if err := check(id); err != nil {
		return 0, false, err
	}
	if fi, err := os.Stat(s.AudioPath(id)); err == nil {
		return fi.Size(), true, nil
	}
	fi, err := os.Stat(s.partial(id))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("recording %s: %w", id, err)
	}
	return fi.Size(), false, nil
}

// Append writes the chunk r at offset, which must be the upload's current
// size, and returns the new size once the bytes are fsync'd. With an
// upload check (WithUploadCheck), a call that no longer takes its
// recording gets nothing written, and one deleted while the chunk was
// written loses its upload.
func (s *Store) Append(id string, offset int64, r io.Reader) (int64, error) {
	if err := check(id); err != nil {
		return 0, err
	}
	defer s.lock(id)()
	size, stored, err := s.Size(id)
	if err != nil {
		return 0, err
	}
	if err := s.checkUpload(id); err != nil {
		return size, err
	}
	if stored {
		return size, fmt.Errorf("recording %s is already stored: %w", id, server.ErrConflict)
	}
	if offset != size {
		return size, fmt.Errorf("chunk at %d, upload has %d bytes: %w", offset, size, ErrOffset)
	}
	f, err := os.OpenFile(s.partial(id), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return size, fmt.Errorf("recording %s: %w", id, err)
	}
	n, err := io.Copy(f, io.LimitReader(r, MaxSize-size+1))
	if err == nil && size+n > MaxSize {
		err = ErrTooLarge
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		// Cut back to the last confirmed size so a torn chunk leaves no trace.
		f.Truncate(size)
		f.Close()
		return size, fmt.Errorf("recording %s: %w", id, err)
	}
	if err := s.checkUpload(id); err != nil {
		f.Truncate(size)
		f.Close()
		if errors.Is(err, server.ErrGone) {
			// Its deletion removed the files before this chunk made one anew.
			s.removeUpload(id)
		}
		return size, err
	}
	if err := f.Close(); err != nil {
		return size, fmt.Errorf("recording %s: %w", id, err)
	}
	return size + n, nil
}

// Finish checks the upload against sha256Hex and, when it matches, makes it
// the stored recording with its manifest (fsync, rename, fsync of the
// directory). A mismatch discards the upload and returns ErrChecksum.
// Finishing a recording already stored with that sha256 succeeds again.
// With an upload check (WithUploadCheck), a call that no longer takes its
// recording is refused, and one deleted meanwhile loses what was made.
func (s *Store) Finish(id, sha256Hex string, manifest []byte) (int64, error) {
	if err := check(id); err != nil {
		return 0, err
	}
	defer s.lock(id)()
	if err := s.checkUpload(id); err != nil {
		return 0, err
	}
	want := strings.ToLower(sha256Hex)
	if fi, err := os.Stat(s.AudioPath(id)); err == nil {
		got, err := fileSHA256(s.AudioPath(id))
		if err != nil {
			return 0, err
		}
		if got != want {
			return 0, fmt.Errorf("recording %s is stored with sha256 %s: %w", id, got, ErrChecksum)
		}
		return fi.Size(), nil
	}
	got, err := fileSHA256(s.partial(id))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("recording %s: nothing uploaded: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	if got != want {
		os.Remove(s.partial(id))
		return 0, fmt.Errorf("recording %s: uploaded bytes have sha256 %s, manifest says %s: %w", id, got, want, ErrChecksum)
	}
	dir := filepath.Dir(s.AudioPath(id))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("recording %s: %w", id, err)
	}
	if err := atomicfile.WriteFile(s.ManifestPath(id), manifest, 0o600); err != nil {
		return 0, fmt.Errorf("recording %s: manifest: %w", id, err)
	}
	if err := os.Rename(s.partial(id), s.AudioPath(id)); err != nil {
		return 0, fmt.Errorf("recording %s: %w", id, err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return 0, fmt.Errorf("recording %s: %w", id, err)
	}
	if err := s.checkUpload(id); err != nil {
		if errors.Is(err, server.ErrGone) {
			s.removeUpload(id)
		}
		return 0, err
	}
	fi, err := os.Stat(s.AudioPath(id))
	if err != nil {
		return 0, fmt.Errorf("recording %s: %w", id, err)
	}
	return fi.Size(), nil
}

// Delete removes a call's recording, manifest, any partial upload and any
// staged replacement, durably (the directory is fsynced), and reports
// whether there was a recording or an upload to remove. Deleting what is
// not there is not an error.
func (s *Store) Delete(id string) (existed bool, err error) {
	existed, err = s.Remove(id)
	if err != nil {
		return existed, err
	}
	return existed, s.SyncDirs(id)
}

// Remove is Delete without the directory fsync, for deleting many
// recordings: call SyncDirs with their ids before relying on it.
func (s *Store) Remove(id string) (existed bool, err error) {
	if err := check(id); err != nil {
		return false, err
	}
	defer s.lock(id)()
	return s.remove(id)
}

// removeUpload removes what an upload refused after the fact left, durably
// and as well as it can: the refusal is the error its caller reports. The
// caller holds the call's lock.
func (s *Store) removeUpload(id string) {
	if existed, err := s.remove(id); err == nil && existed {
		s.SyncDirs(id)
	}
}

// remove removes a call's files; the caller holds the call's lock.
func (s *Store) remove(id string) (existed bool, err error) {
	for i, p := range []string{s.AudioPath(id), s.partial(id), s.ManifestPath(id), s.stagedPath(id)} {
		err := os.Remove(p)
		switch {
		case err == nil && i < 2:
			existed = true
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return existed, fmt.Errorf("delete recording %s: %w", id, err)
		}
	}
	return existed, nil
}

// SyncDirs fsyncs the directories of the recordings of ids (each once, or
// the whole file system at once on Linux), so their removal survives a
// power cut.
func (s *Store) SyncDirs(ids ...string) error {
	if ok, err := syncFS(s.dir); err != nil || ok {
		return err
	}
	dirs := map[string]bool{filepath.Join(s.dir, "uploads"): true}
	for _, id := range ids {
		if check(id) == nil {
			dirs[filepath.Dir(s.AudioPath(id))] = true
		}
	}
	for d := range dirs {
		if err := atomicfile.SyncDir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sync %s: %w", d, err)
		}
	}
	return nil
}

// Open opens a stored recording's encrypted audio.
func (s *Store) Open(id string) (*os.File, error) {
	if err := check(id); err != nil {
		return nil, err
	}
	f, err := os.Open(s.AudioPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("recording %s: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", id, err)
	}
	return f, nil
}

// PartialSHA256 hashes what an unfinished upload has sent so far.
func (s *Store) PartialSHA256(id string) (sum string, size int64, ok bool, err error) {
	if err := check(id); err != nil {
		return "", 0, false, err
	}
	defer s.lock(id)()
	fi, err := os.Stat(s.partial(id))
	if errors.Is(err, fs.ErrNotExist) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	sum, err = fileSHA256(s.partial(id))
	return sum, fi.Size(), err == nil, err
}

func (s *Store) stagedPath(id string) string { return s.AudioPath(id) + ".new" }

// Stage writes a replacement of a stored recording (a redacted version)
// beside it with produce, fsyncs it, and returns its size and sha256. The
// recording itself is unchanged until Commit.
func (s *Store) Stage(id string, produce func(w io.Writer) error) (int64, string, error) {
	if err := check(id); err != nil {
		return 0, "", err
	}
	defer s.lock(id)()
	if _, err := os.Stat(s.AudioPath(id)); err != nil {
		return 0, "", fmt.Errorf("recording %s: %w", id, server.ErrNotFound)
	}
	f, err := os.OpenFile(s.stagedPath(id), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, "", fmt.Errorf("stage recording %s: %w", id, err)
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	err = produce(cw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(s.stagedPath(id))
		return 0, "", fmt.Errorf("stage recording %s: %w", id, err)
	}
	return cw.n, hex.EncodeToString(h.Sum(nil)), nil
}

// Staged returns the sha256 of a staged replacement, if there is one.
func (s *Store) Staged(id string) (string, bool, error) {
	if err := check(id); err != nil {
		return "", false, err
	}
	defer s.lock(id)()
	sum, err := fileSHA256(s.stagedPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	return sum, err == nil, err
}

// StagedIDs lists the calls with a staged replacement (left by a crash
// between Stage and Commit or Discard).
func (s *Store) StagedIDs() ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(s.dir, "recordings", "*", "*.wav.age.new"))
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(matches))
	for _, m := range matches {
		ids = append(ids, strings.TrimSuffix(filepath.Base(m), ".wav.age.new"))
	}
	return ids, nil
}

// Commit makes the staged replacement the recording, with its manifest:
// the manifest is written atomically, then the audio renamed over the old
// one. A recording deleted meanwhile stays deleted: the staged file goes.
func (s *Store) Commit(id string, manifest []byte) error {
	if err := check(id); err != nil {
		return err
	}
	defer s.lock(id)()
	if _, err := os.Stat(s.AudioPath(id)); err != nil {
		os.Remove(s.stagedPath(id))
		return fmt.Errorf("recording %s was deleted meanwhile: %w", id, server.ErrGone)
	}
	if err := atomicfile.WriteFile(s.ManifestPath(id), manifest, 0o600); err != nil {
		return fmt.Errorf("commit recording %s: manifest: %w", id, err)
	}
	if err := os.Rename(s.stagedPath(id), s.AudioPath(id)); err != nil {
		return fmt.Errorf("commit recording %s: %w", id, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(s.AudioPath(id))); err != nil {
		return fmt.Errorf("commit recording %s: %w", id, err)
	}
	return nil
}

// Discard removes a staged replacement.
func (s *Store) Discard(id string) error {
	if err := check(id); err != nil {
		return err
	}
	defer s.lock(id)()
	if err := os.Remove(s.stagedPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("discard staged recording %s: %w", id, err)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
