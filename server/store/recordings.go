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

// RecordingCall returns the server's id of the call whose recording p's
// desktop calls ref, or "" when p's desktop has sent nothing for it. It
// creates nothing, and only agents have recordings to send.
func (s *Store) RecordingCall(ctx context.Context, p server.Principal, ref string) (string, error) {
	if p.Role != server.RoleAgent {
		return "", fmt.Errorf("recording %s: %w", ref, errNotAWriter)
	}
	id, _, err := s.callKey(ctx, s.db, p.Username, ref, false)
	return id, err
}

// ClaimRecording returns the recording row of the call p's desktop calls
// ref, creating it as "uploading" for p's device on the first chunk; the
// row's CallID is the server's id of the call (see call_keys), so another
// account's call of the same ref is never touched. A call whose recording
// was deleted, or whose deletion has begun (it has a tombstone), gives
// server.ErrGone, and no row is created for it. Only agents send
// recordings.
func (s *Store) ClaimRecording(ctx context.Context, p server.Principal, ref string) (Recording, error) {
	if p.Role != server.RoleAgent {
		return Recording{}, fmt.Errorf("recording %s: %w", ref, errNotAWriter)
	}
	callID, _, err := s.callKey(ctx, s.db, p.Username, ref, true)
	if err != nil {
		return Recording{}, err
	}
	gone, err := s.recordingGone(ctx, callID)
	if err != nil {
		return Recording{}, err
	}
	if !gone {
		if _, err := s.exec(ctx, s.db, `INSERT INTO recordings (call_id, device_id, status, created_at) VALUES (?, ?, 'uploading', ?) ON CONFLICT (call_id) DO NOTHING`,
			callID, p.DeviceID, ms(s.now())); err != nil {
			return Recording{}, fmt.Errorf("recording %s: %w", ref, err)
		}
	}
	var owner int64
	r, err := s.recording(ctx, callID, &owner)
	switch {
	case gone && errors.Is(err, server.ErrNotFound):
		return Recording{CallID: callID}, fmt.Errorf("recording %s: the call was deleted on the server: delete the local copy: %w", ref, server.ErrGone)
	case err != nil:
		return Recording{}, err
	case owner != p.UserID:
		collector, status, err := s.phoneSystemOwns(ctx, callID)
		switch {
		case err != nil:
			return Recording{}, err
		case collector && status == "stored":
			return Recording{CallID: callID}, fmt.Errorf("recording %s: the phone system's recording of this call is stored on the server: delete the local copy: %w", ref, server.ErrGone)
		case collector:
			return Recording{}, fmt.Errorf("recording %s: the phone system's recording of this call is being uploaded: %w", ref, server.ErrConflict)
		}
		// A row from before calls were keyed by their owner.
		return Recording{}, fmt.Errorf("recording %s belongs to another account: %w", ref, server.ErrForbidden)
	case gone:
		return r, fmt.Errorf("recording %s was deleted on the server: delete the local copy: %w", ref, server.ErrGone)
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
// of the encrypted file and manifest, and queues the call for scoring in
// the same transaction, so a stored recording is never left unscored.
func (s *Store) StoreRecording(ctx context.Context, callID string, size int64, sha256 string, manifest []byte) error {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE recordings SET status = 'stored', size = ?, sha256 = ?, uploaded_sha256 = ?, manifest = ?, stored_at = ?
			WHERE call_id = ? AND status = 'uploading'`,
			size, sha256, sha256, string(manifest), ms(s.now()), callID)
		if err != nil {
			return err
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = s.exec(ctx, tx, `INSERT INTO scoring_queue (call_id, queued_at) VALUES (?, ?) ON CONFLICT (call_id) DO NOTHING`, callID, ms(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("store recording %s: %w", callID, err)
	}
	if n == 0 {
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
