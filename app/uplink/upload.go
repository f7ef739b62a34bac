package uplink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// spoolManifest holds the manifest fields the uploader looks at; the rest
// travels to the server untouched.
type spoolManifest struct {
	CallID          string `json:"call_id"`
	Complete        bool   `json:"complete"`
	SHA256Encrypted string `json:"sha256_encrypted"`
	Failure         string `json:"failure"`
	// AudioFile is the encrypted audio beside the manifest:
	// <call-id>.opus.age, or <call-id>.wav.age (older recordings, and
	// manifests that do not name it).
	AudioFile string `json:"audio_file"`
}

// spoolAudio is the path of the audio the manifest names, if it is a file
// of this call's in the spool dir itself, else <call-id>.wav.age.
func spoolAudio(dir, id string, m spoolManifest) string {
	if f := m.AudioFile; f == filepath.Base(f) && (f == id+".opus.age" || f == id+".wav.age") {
		return filepath.Join(dir, f)
	}
	return filepath.Join(dir, id+".wav.age")
}

// recordingStatus is the server's GET /api/v1/recordings/{id} reply.
type recordingStatus struct {
	Status string `json:"status"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// UploadedSHA256 is the file as uploaded; SHA256 changes when the
	// server redacts an interval (card details).
	UploadedSHA256 string `json:"uploaded_sha256"`
}

// serverHas reports whether the server stored the file with sum (as
// uploaded, whether or not it redacted it since).
func (st recordingStatus) serverHas(sum string) bool {
	return st.Status == "stored" && (strings.EqualFold(st.SHA256, sum) || strings.EqualFold(st.UploadedSHA256, sum))
}

func (c *Client) uploadLoop(ctx context.Context) {
	failures := 0
	for {
		err := c.uploadAll(ctx)
		wait := c.o.PollEvery
		var he *HTTPError
		switch {
		case err == nil || ctx.Err() != nil:
			failures = 0
		case errors.As(err, &he) && he.Status == http.StatusForbidden:
			// Not an agent's desktop: the recordings stay in the spool.
			wait = c.o.ForbiddenWait
		case errors.As(err, &he) && he.Status == http.StatusTooManyRequests:
			wait = max(wait, c.retryAfter(he))
		default:
			failures++
			wait = max(wait, c.backoff(failures-1))
			c.o.Logger.Warn("uplink: recording upload failed; retrying", "in", wait.Round(time.Millisecond), "err", err)
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// uploadAll uploads every recording of the spool that is ready and
// returns the first error.
func (c *Client) uploadAll(ctx context.Context) error {
	ids, err := c.spooled()
	if err != nil {
		return err
	}
	if len(ids) > 0 && c.Status().Forbidden {
		// Not an agent's desktop: the server takes no recordings from it,
		// and its answers about call ids are about other accounts' calls.
		c.setStatus(func(s *Status) { s.Uploads = len(ids) })
		return &HTTPError{Status: http.StatusForbidden, Message: "this account sends no recordings"}
	}
	c.setStatus(func(s *Status) { s.Uploads = len(ids) })
	var first error
	for _, id := range ids {
		if ctx.Err() != nil {
			return nil
		}
		done, err := c.uploadOne(ctx, c.o.SpoolDir, id)
		if errors.Is(err, errStillRecording) {
			// The call in progress is not waiting for the server.
			c.setStatus(func(s *Status) { s.Uploads = max(0, s.Uploads-1) })
			continue
		}
		if err != nil && first == nil {
			first = fmt.Errorf("recording %s: %w", id, err)
		}
		if done {
			c.setStatus(func(s *Status) { s.Uploads = max(0, s.Uploads-1) })
		}
	}
	return first
}

// spooled lists the call ids with a manifest in the spool, oldest first.
func (c *Client) spooled() ([]string, error) {
	entries, err := os.ReadDir(c.o.SpoolDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	type item struct {
		id  string
		mod time.Time
	}
	var items []item
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		items = append(items, item{strings.TrimSuffix(name, ".json"), info.ModTime()})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].mod.Before(items[j].mod) })
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.id
	}
	return ids, nil
}

// errStillRecording is uploadOne's answer for a recording still being made.
var errStillRecording = errors.New("still recording")

// ErrNotComplete is UploadRecording's answer for a recording whose
// manifest does not say it is complete.
var ErrNotComplete = errors.New("the recording is not complete")

// UploadRecording uploads the recording <id>.json and its audio from dir
// as the spool's are uploaded: resumed from where the server stands, the
// manifest last, and the local files deleted only once the server has
// verified the bytes. A collector uploads this way the recordings it made
// of the phone system's (its id is the server's call id). A recording the
// server deleted meanwhile is deleted here too, and is no error.
func (c *Client) UploadRecording(ctx context.Context, dir, id string) error {
	raw, err := os.ReadFile(filepath.Join(dir, id+".json"))
	if err != nil {
		return fmt.Errorf("recording %s: %w", id, err)
	}
	var m spoolManifest
	if err := json.Unmarshal(raw, &m); err != nil || !m.Complete {
		return fmt.Errorf("recording %s: %w", id, ErrNotComplete)
	}
	if _, err := c.uploadOne(ctx, dir, id); err != nil {
		return fmt.Errorf("recording %s: %w", id, err)
	}
	return nil
}

// uploadOne uploads one recording of dir if it is ready (else
// errStillRecording); done reports that the server confirmed it and the
// local copy is gone.
func (c *Client) uploadOne(ctx context.Context, dir, id string) (done bool, err error) {
	manPath := filepath.Join(dir, id+".json")
	raw, err := os.ReadFile(manPath)
	if err != nil {
		return false, err
	}
	var m spoolManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		// The recorder writes manifests atomically; a broken one is not ours
		// to fix, and not ours to delete.
		return false, fmt.Errorf("manifest unreadable: %w", err)
	}
	if m.CallID != id {
		return false, fmt.Errorf("manifest names call %q", m.CallID)
	}
	audioPath := spoolAudio(dir, id, m)
	audio, audioErr := os.Stat(audioPath)
	if !m.Complete {
		// Still recording, unless it failed or nothing touched it for a while
		// (the app crashed mid-call): then it goes up as it is.
		man, err := os.Stat(manPath)
		if err != nil {
			return false, err
		}
		last := man.ModTime()
		if audioErr == nil && audio.ModTime().After(last) {
			last = audio.ModTime()
		}
		if m.Failure == "" && c.o.Clock().Sub(last) < c.o.AbandonAfter {
			return false, errStillRecording
		}
	}
	st, err := c.recordingStatus(ctx, id)
	if err != nil {
		return false, err
	}
	if st.Status == "deleted" {
		// Retention, a dpo or an erasure deleted it on the server: the copy
		// here must go too.
		for _, p := range []string{audioPath, manPath} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, err
			}
		}
		c.o.Logger.Info("uplink: the server deleted this recording; local copy deleted", "call", id)
		return true, nil
	}
	if errors.Is(audioErr, fs.ErrNotExist) {
		// Deleted after an earlier confirmation but before the manifest: finish
		// the job once the server says it has the recording.
		if st.Status == "stored" {
			return true, os.Remove(manPath)
		}
		return false, errors.New("manifest without its audio file")
	}
	if audioErr != nil {
		return false, audioErr
	}
	sum, err := fileSHA256(audioPath)
	if err != nil {
		return false, err
	}
	if m.Complete && m.SHA256Encrypted != "" && !strings.EqualFold(m.SHA256Encrypted, sum) {
		return false, fmt.Errorf("the spool file's sha256 %s differs from its manifest's %s", sum, m.SHA256Encrypted)
	}
	if st.Status != "stored" {
		if err := c.uploadAudio(ctx, id, audioPath, st.Size, audio.Size()); err != nil {
			return false, err
		}
		if err := c.putManifest(ctx, id, raw, sum); err != nil {
			return false, err
		}
	} else if !st.serverHas(sum) {
		return false, fmt.Errorf("the server stored a different file (sha256 %s, ours %s); keeping ours", st.SHA256, sum)
	}
	// The server has verified the bytes: now, and only now, the local copy goes.
	if err := os.Remove(audioPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.Remove(manPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	c.o.Logger.Info("uplink: recording uploaded and verified; local copy deleted", "call", id)
	return true, nil
}

func (c *Client) recordingStatus(ctx context.Context, id string) (recordingStatus, error) {
	var st recordingStatus
	err := c.do(ctx, http.MethodGet, "/api/v1/recordings/"+id, nil, &st, 30*time.Second)
	return st, err
}

// uploadAudio sends the file from offset on, chunk by chunk; when the
// server's size disagrees (a reply was lost) it resumes from the server's.
func (c *Client) uploadAudio(ctx context.Context, id, path string, offset, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if offset > size {
		return fmt.Errorf("the server holds %d bytes of a %d-byte file", offset, size)
	}
	for offset < size {
		n := min(c.o.ChunkSize, size-offset)
		section := io.NewSectionReader(f, offset, n)
		next, err := c.putChunk(ctx, id, offset, section, n)
		if err != nil {
			return err
		}
		offset = next
	}
	return nil
}

func (c *Client) putChunk(ctx context.Context, id string, offset int64, body io.Reader, n int64) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := c.request(ctx, http.MethodPut, "/api/v1/recordings/"+id+"/audio?offset="+strconv.FormatInt(offset, 10), body)
	if err != nil {
		return offset, err
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.o.HTTPClient.Do(req)
	if err == nil && resp.StatusCode == http.StatusConflict {
		// Our offset is stale: the server tells where it stands.
		if v, perr := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64); perr == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return v, nil
		}
	}
	var st recordingStatus
	if err := c.finish(resp, err, &st); err != nil {
		return offset, err
	}
	return st.Size, nil
}

func (c *Client) putManifest(ctx context.Context, id string, raw []byte, sum string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := c.request(ctx, http.MethodPut, "/api/v1/recordings/"+id+"/manifest", strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Upload-SHA256", sum)
	resp, err := c.o.HTTPClient.Do(req)
	var st recordingStatus
	if err := c.finish(resp, err, &st); err != nil {
		return err
	}
	if !st.serverHas(sum) {
		return fmt.Errorf("server did not confirm the recording (status %q, sha256 %q)", st.Status, st.SHA256)
	}
	return nil
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
