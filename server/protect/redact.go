package protect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

func (s *Service) autoRedact(ctx context.Context, it server.ReviewItem) (bool, error) {
	// A dpo may decide the item meanwhile: work on it as it is under the lock.
	defer s.lock(it.CallID)()
	it, err := s.o.Store.ReviewItem(ctx, it.ID)
	if err != nil || it.State != server.ReviewRedactionPending {
		return false, err
	}
	pending := func(why string) (bool, error) {
		if it.Pending == why {
			return false, nil
		}
		change := store.ReviewChange{From: []server.ReviewState{server.ReviewRedactionPending}, State: server.ReviewRedactionPending, Pending: why}
		if why != server.PendingNoKey {
			_, err := s.o.Store.ChangeReview(ctx, it.ID, change)
			return false, err
		}
		return false, s.audited(ctx, auto, func(ctx context.Context) (entry, error) {
			_, err := s.o.Store.ChangeReview(ctx, it.ID, change)
			return entry{server.AuditRedactPending, it.CallID, map[string]any{"item": it.ID, "why": "the server has no organisation key"}}, err
		})
	}
	if it.Recording != server.RecordingStored {
		return pending(server.PendingNoRecording)
	}
	if !s.HasKey() {
		return pending(server.PendingNoKey)
	}
	if it.FromMS == nil || it.ToMS == nil {
		return false, errors.New("no interval to redact")
	}
	iv := artefact.Interval{FromMS: *it.FromMS, ToMS: *it.ToMS}
	if err := s.redact(ctx, it.CallID, iv, it.Reason, auto, it.ID); err != nil {
		return false, err
	}
	if _, err := s.o.Store.ChangeReview(ctx, it.ID, store.ReviewChange{From: []server.ReviewState{server.ReviewRedactionPending}, State: server.ReviewAutoRedacted, Outcome: server.OutcomeRedacted}); err != nil {
		return false, err
	}
	return true, nil
}

// recipients are whom a redacted recording is encrypted to: the policy's
// organisation keys, else those it was made for, else the server's key.
func (s *Service) recipients(manifest []byte) ([]age.Recipient, error) {
	if s.o.Policy != nil && len(s.o.Policy.Recipients) > 0 {
		return artefact.ParseRecipients(s.o.Policy.Recipients)
	}
	if m, err := artefact.ParseManifest(manifest); err == nil && len(m.Recipients) > 0 {
		return artefact.ParseRecipients(m.Recipients)
	}
	if r := artefact.RecipientsOf(s.o.Identities); len(r) > 0 {
		return r, nil
	}
	return nil, errors.New("no recipient to re-encrypt to: set the policy's recipients")
}

// redact silences iv in a stored recording and re-encrypts it: the new
// file is staged beside the old one, the database then names it (only if
// the recording is still the one redacted), and it replaces the old one.
// The caller holds the call's lock.
func (s *Service) redact(ctx context.Context, callID string, iv artefact.Interval, reason string, by server.Principal, ref string) error {
	if !s.HasKey() {
		return server.ErrNoKey
	}
	if err := s.settle(ctx, callID); err != nil {
		return err
	}
	rec, err := s.o.Store.Recording(ctx, callID)
	if err != nil {
		return err
	}
	if rec.Status != "stored" {
		return fmt.Errorf("recording %s is %s: %w", callID, rec.Status, server.ErrConflict)
	}
	manifest := rec.Manifest
	if len(manifest) == 0 {
		manifest = []byte(`{}`)
	}
	rcps, err := s.recipients(manifest)
	if err != nil {
		return err
	}
	var res artefact.RedactResult
	size, sum, err := s.o.Blobs.Stage(callID, func(w io.Writer) error {
		src, err := s.o.Blobs.Open(callID)
		if err != nil {
			return err
		}
		defer src.Close()
		h := sha256.New()
		res, err = artefact.Redact(io.TeeReader(src, h), s.o.Identities, rcps, []artefact.Interval{iv}, w)
		if err != nil {
			return err
		}
		if _, err := io.Copy(h, src); err != nil { // whatever followed an interrupted stream
			return err
		}
		if got := hexSum(h); got != rec.SHA256 {
			return fmt.Errorf("recording %s on disk has sha256 %s, the database %s: %w", callID, got, rec.SHA256, server.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redact %s: %w", callID, err)
	}
	red := artefact.Redaction{Kind: artefact.RedactionKindReview, FromMS: iv.FromMS, ToMS: iv.ToMS, Reason: reason, By: by.Username, At: s.o.Clock().UTC(), Ref: ref,
		SHA256PlaintextBefore: res.BeforePlaintextSHA256, SHA256EncryptedBefore: rec.SHA256}
	newManifest, err := artefact.RecordRedaction(manifest, red, res)
	if err != nil {
		s.o.Blobs.Discard(callID)
		return fmt.Errorf("redact %s: %w", callID, err)
	}
	err = s.audited(ctx, by, func(ctx context.Context) (entry, error) {
		return entry{server.AuditRedact, callID, map[string]any{"item": ref, "reason": reason, "from_ms": iv.FromMS, "to_ms": iv.ToMS,
			"sha256_before": rec.SHA256, "sha256_after": sum, "silenced_bytes": res.SilencedBytes}}, s.o.Store.ReplaceRecording(ctx, callID, rec.SHA256, size, sum, newManifest)
	})
	if err != nil {
		s.o.Blobs.Discard(callID)
		return fmt.Errorf("redact %s: %w", callID, err)
	}
	if err := s.o.Blobs.Commit(callID, newManifest); err != nil {
		return fmt.Errorf("redact %s: %w", callID, err)
	}
	return nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
