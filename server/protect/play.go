package protect

import (
	"context"
	"fmt"
	"io"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
)

// Play decrypts a stored recording and writes it to w as a playable WAV.
// before is called once the recording is found and decryptable, before
// anything is written (to set headers).
func (s *Service) Play(ctx context.Context, callID string, w io.Writer, before func()) (artefact.DecryptReport, error) {
	if !s.HasKey() {
		return artefact.DecryptReport{}, server.ErrNoKey
	}
	defer s.lock(callID)()
	if err := s.settle(ctx, callID); err != nil {
		return artefact.DecryptReport{}, err
	}
	rec, err := s.o.Store.Recording(ctx, callID)
	if err != nil {
		return artefact.DecryptReport{}, err
	}
	switch rec.Status {
	case "deleted":
		return artefact.DecryptReport{}, fmt.Errorf("recording %s: %w", callID, server.ErrGone)
	case "stored":
	default:
		return artefact.DecryptReport{}, fmt.Errorf("recording %s is still uploading: %w", callID, server.ErrConflict)
	}
	// Checked under the call's lock, which the redaction holds too.
	if err := s.CheckRedacted(ctx, callID); err != nil {
		return artefact.DecryptReport{}, err
	}
	started := false
	rep, err := artefact.Decrypt(s.o.Blobs.AudioPath(callID), s.o.Identities, writerFunc(func(p []byte) (int, error) {
		if !started {
			started = true
			if before != nil {
				before()
			}
		}
		return w.Write(p)
	}))
	return rep, err
}

// CheckRedacted fails with server.ErrRedactionPending, saying which review
// item waits and why, while the call's recording holds card details not
// yet silenced: nobody may play or download it until they are.
func (s *Service) CheckRedacted(ctx context.Context, callID string) error {
	it, pending, err := s.o.Store.UnredactedCardDetails(ctx, callID)
	if err != nil || !pending {
		return err
	}
	why := "is waiting to be silenced"
	switch {
	case it.State == server.ReviewAwaitingApproval || it.State == server.ReviewApproved:
		why = "waits for a decided deletion to be carried out"
	case it.Pending == server.PendingNoKey:
		why = "waits for the organisation key (start the server with --identity)"
	case it.Pending == server.PendingNoRecording:
		why = "waits for the recording to be uploaded"
	case it.Pending == server.PendingFailed:
		why = "could not be silenced (see the server's log; it is retried every minute)"
	}
	return fmt.Errorf("%w: review item %s (%s) %s; until then the recording of call %s cannot be played or downloaded",
		server.ErrRedactionPending, it.ID, it.Reason, why, callID)
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
