package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/callguard/callguard/server"
)

// Recording is what the store knows of a call's encrypted recording; the
// bytes are in the blob store.
type Recording struct {
	CallID string
	Device string
	Status string // "uploading", "stored" or "deleted"
	Size   int64
	SHA256 string // of the encrypted file as it is now
	// UploadedSHA256 is the file as the desktop sent it; SHA256 differs
	// from it once an interval was redacted.
	UploadedSHA256 string
	Manifest       []byte
	Created        time.Time
	Stored         *time.Time
	Deleted        *time.Time
}

// CheckRecording returns server.ErrForbidden when the call or its
// recording belongs to another account than p's, without creating anything.
func (s *Store) CheckRecording(ctx context.Context, p server.Principal, callID string) error {
	var agent string
	err := s.queryRow(ctx, s.db, `SELECT agent FROM calls WHERE id = ?`, callID).Scan(&agent)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("recording %s: %w", callID, err)
	case agent != p.Username:
		return fmt.Errorf("recording %s belongs to another agent: %w", callID, server.ErrForbidden)
	}
	var owner int64
	_, err = s.recording(ctx, callID, &owner)
	switch {
	case errors.Is(err, server.ErrNotFound):
		return nil
	case err != nil:
		return err
	case owner != p.UserID:
		return fmt.Errorf("recording %s belongs to another account: %w", callID, server.ErrForbidden)
	}
	return nil
}

// ClaimRecording returns the call's recording row, creating it as
// "uploading" for p's device on the first chunk. A call or recording of
// another account gives server.ErrForbidden; a call whose recording was
// deleted, or whose deletion has begun (it has a tombstone), gives
// server.ErrGone, and no row is created for it.
func (s *Store) ClaimRecording(ctx context.Context, p server.Principal, callID string) (Recording, error) {
	var agent string
	err := s.queryRow(ctx, s.db, `SELECT agent FROM calls WHERE id = ?`, callID).Scan(&agent)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return Recording{}, fmt.Errorf("recording %s: %w", callID, err)
	case agent != p.Username:
		return Recording{}, fmt.Errorf("recording %s belongs to another agent: %w", callID, server.ErrForbidden)
	}
	gone, err := s.recordingGone(ctx, callID)
	if err != nil {
		return Recording{}, err
	}
	if !gone {
		if _, err := s.exec(ctx, s.db, `INSERT INTO recordings (call_id, device_id, status, created_at) VALUES (?, ?, 'uploading', ?) ON CONFLICT (call_id) DO NOTHING`,
			callID, p.DeviceID, ms(s.now())); err != nil {
			return Recording{}, fmt.Errorf("recording %s: %w", callID, err)
		}
	}
	var owner int64
	r, err := s.recording(ctx, callID, &owner)
	switch {
	case gone && errors.Is(err, server.ErrNotFound):
		return Recording{}, fmt.Errorf("recording %s: the call was deleted on the server: delete the local copy: %w", callID, server.ErrGone)
	case err != nil:
		return Recording{}, err
	case owner != p.UserID:
		return Recording{}, fmt.Errorf("recording %s belongs to another account: %w", callID, server.ErrForbidden)
	case gone:
		return r, fmt.Errorf("recording %s was deleted on the server: delete the local copy: %w", callID, server.ErrGone)
	}
	return r, nil
}

// UploadOpen returns server.ErrGone when no byte of a call's recording may
// be stored any more: the recording was deleted, or the call's deletion
// (retention, erasure) has begun. The blob store asks it under the call's
// lock before and after it writes (see blob.WithUploadCheck), so an upload
// racing a deletion never leaves a file behind.
func (s *Store) UploadOpen(ctx context.Context, callID string) error {
	gone, err := s.recordingGone(ctx, callID)
	if err != nil {
		return err
	}
	if gone {
		return fmt.Errorf("recording %s was deleted on the server: delete the local copy: %w", callID, server.ErrGone)
	}
	return nil
}

// recordingGone reports whether a call has a tombstone (its deletion has
// begun or is done) or its recording is deleted.
func (s *Store) recordingGone(ctx context.Context, callID string) (bool, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT (SELECT COUNT(*) FROM tombstones WHERE call_id = ?) + (SELECT COUNT(*) FROM recordings WHERE call_id = ? AND status = 'deleted')`,
		callID, callID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("recording %s: %w", callID, err)
	}
	return n > 0, nil
}

// Recording returns a call's recording row.
func (s *Store) Recording(ctx context.Context, callID string) (Recording, error) {
	var owner int64
	return s.recording(ctx, callID, &owner)
}

func (s *Store) recording(ctx context.Context, callID string, owner *int64) (Recording, error) {
	var (
		r               Recording
		manifest        string
		created         int64
		stored, deleted sql.NullInt64
	)
	err := s.queryRow(ctx, s.db, `SELECT r.call_id, r.device_id, r.status, r.size, r.sha256, r.uploaded_sha256, r.manifest, r.created_at, r.stored_at,
		r.deleted_at, COALESCE(d.user_id, 0)
		FROM recordings r LEFT JOIN devices d ON d.id = r.device_id WHERE r.call_id = ?`, callID).
		Scan(&r.CallID, &r.Device, &r.Status, &r.Size, &r.SHA256, &r.UploadedSHA256, &manifest, &created, &stored, &deleted, owner)
	if errors.Is(err, sql.ErrNoRows) {
		return Recording{}, fmt.Errorf("recording %s: %w", callID, server.ErrNotFound)
	}
	if err != nil {
		return Recording{}, fmt.Errorf("recording %s: %w", callID, err)
	}
	r.Manifest, r.Created, r.Stored, r.Deleted = []byte(manifest), fromMS(created), fromNullMS(stored), fromNullMS(deleted)
	return r, nil
}

// StoreRecording marks a recording stored, with its verified size, sha256
// of the encrypted file and manifest.
func (s *Store) StoreRecording(ctx context.Context, callID string, size int64, sha256 string, manifest []byte) error {
	res, err := s.exec(ctx, s.db, `UPDATE recordings SET status = 'stored', size = ?, sha256 = ?, uploaded_sha256 = ?, manifest = ?, stored_at = ?
		WHERE call_id = ? AND status = 'uploading'`,
		size, sha256, sha256, string(manifest), ms(s.now()), callID)
	if err != nil {
		return fmt.Errorf("store recording %s: %w", callID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		r, err := s.Recording(ctx, callID)
		switch {
		case err != nil:
			return err
		case r.Status == "deleted":
			return fmt.Errorf("recording %s was deleted on the server: %w", callID, server.ErrGone)
		case r.Status == "stored" && r.UploadedSHA256 == sha256:
			return nil // a resend
		}
		return fmt.Errorf("recording %s is %s with another sha256: %w", callID, r.Status, server.ErrConflict)
	}
	return nil
}
