package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/callguard/callguard/server"
)

// PhoneRecordingRow is what the server keeps of a call the phone system
// recorded, from the first record command its recorder confirmed.
type PhoneRecordingRow struct {
	SIPCallID    string
	Where        string // server.WherePhoneSystem or server.WhereBoth
	OfficerAddrs []string
	CallerAddrs  []string
}

// The phone recording's words for a collector (server.PhoneRecording.Why).
const (
	whyBoth      = "the officer's desktop records this call too: its recording is the call's"
	whyGone      = "the call was deleted on the server: delete the phone system's recording of it"
	whyStored    = "the call's recording is stored on the server"
	whyOtherAcct = "another account has begun uploading this call's recording"
)

// HasPhoneRecording reports whether the call p's desktop calls ref has a
// phone recording row; the phone recorder route asks it before it queries
// the phone system's recorder, which only the first confirmed record
// needs. Only agents' calls have them.
func (s *Store) HasPhoneRecording(ctx context.Context, p server.Principal, ref string) (bool, error) {
	if p.Role != server.RoleAgent {
		return false, fmt.Errorf("phone recording of %s: %w", ref, errNotAWriter)
	}
	var n int
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM phone_recordings pr JOIN call_keys k ON k.call_id = pr.call_id
		WHERE k.agent = ? AND k.call_ref = ?`, p.Username, ref).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("phone recording of %s: %w", ref, err)
	}
	return n > 0, nil
}

// AddPhoneRecording remembers that the phone system's recorder confirmed
// recording the call p's desktop calls ref, keyed by the server's id of
// the call (made now if its events have not arrived, see call_keys), so a
// ref can only ever name one of p's own calls. The first row of a call
// wins: later ones change nothing. It returns the server's id of the call.
func (s *Store) AddPhoneRecording(ctx context.Context, p server.Principal, ref string, row PhoneRecordingRow) (string, error) {
	if p.Role != server.RoleAgent {
		return "", fmt.Errorf("phone recording of %s: %w", ref, errNotAWriter)
	}
	if row.Where == "" {
		row.Where = server.WherePhoneSystem
	}
	if row.Where != server.WherePhoneSystem && row.Where != server.WhereBoth {
		return "", fmt.Errorf("phone recording of %s: where %q: %w", ref, row.Where, server.ErrInvalid)
	}
	officer, _ := json.Marshal(nonNil(row.OfficerAddrs))
	caller, _ := json.Marshal(nonNil(row.CallerAddrs))
	var callID string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		id, _, err := s.callKey(ctx, tx, p.Username, ref, true)
		if err != nil {
			return err
		}
		callID = id
		_, err = s.exec(ctx, tx, `INSERT INTO phone_recordings (call_id, agent, sip_call_id, where_recorded, officer_addrs, caller_addrs, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING`,
			id, p.Username, row.SIPCallID, row.Where, string(officer), string(caller), ms(s.now()))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("phone recording of %s: %w", ref, err)
	}
	return callID, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// phoneRecording is a phone recording row with the state of its call's
// recording.
type phoneRecording struct {
	server.PhoneRecording
	ownerID   int64       // the account whose device holds the recording row (0: none)
	ownerRole server.Role // its role
	gone      bool        // a tombstone, or the recording deleted
}

// upload applies the rule of server.PhoneRecording.Upload for collector p.
func (pr *phoneRecording) upload(p server.Principal) (bool, string) {
	switch {
	case pr.gone:
		return false, whyGone
	case pr.Where != server.WherePhoneSystem:
		return false, whyBoth
	case pr.Recording == server.RecordingNone:
		return true, ""
	case pr.ownerID != p.UserID:
		return false, whyOtherAcct
	case pr.Recording == "uploading":
		return true, ""
	}
	return false, whyStored
}

// LookUpPhoneRecording returns what collector p may know of the call the
// phone system recorded under sipCallID (the latest, when several calls
// share a Call-ID), with the upload rule applied for p; server.ErrNotFound
// when there is none.
func (s *Store) LookUpPhoneRecording(ctx context.Context, p server.Principal, sipCallID string) (server.PhoneRecording, error) {
	if p.Role != server.RoleCollector {
		return server.PhoneRecording{}, fmt.Errorf("phone recording %s: role %s: %w", sipCallID, p.Role, server.ErrForbidden)
	}
	pr, err := s.phoneRecording(ctx, s.db, `pr.sip_call_id = ? ORDER BY pr.created_at DESC, pr.call_id DESC LIMIT 1`, sipCallID)
	if err != nil {
		return server.PhoneRecording{}, err
	}
	pr.Upload, pr.Why = pr.upload(p)
	return pr.PhoneRecording, nil
}

func (s *Store) phoneRecording(ctx context.Context, q querier, where string, args ...any) (phoneRecording, error) {
	var (
		pr               phoneRecording
		officer, caller  string
		status, role     string
		tombstones, dead int
	)
	err := s.queryRow(ctx, q, `SELECT pr.call_id, pr.sip_call_id, pr.where_recorded, pr.officer_addrs, pr.caller_addrs,
		COALESCE(r.status, ''), COALESCE(d.user_id, 0), COALESCE(u.role, ''),
		(SELECT COUNT(*) FROM tombstones t WHERE t.call_id = pr.call_id), CASE WHEN r.status = 'deleted' THEN 1 ELSE 0 END
		FROM phone_recordings pr LEFT JOIN recordings r ON r.call_id = pr.call_id
		LEFT JOIN devices d ON d.id = r.device_id LEFT JOIN users u ON u.id = d.user_id
		WHERE `+where, args...).
		Scan(&pr.CallID, &pr.SIPCallID, &pr.Where, &officer, &caller, &status, &pr.ownerID, &role, &tombstones, &dead)
	if errors.Is(err, sql.ErrNoRows) {
		return pr, fmt.Errorf("phone recording: %w", server.ErrNotFound)
	}
	if err != nil {
		return pr, fmt.Errorf("phone recording: %w", err)
	}
	if err := json.Unmarshal([]byte(officer), &pr.OfficerAddrs); err != nil {
		return pr, fmt.Errorf("phone recording %s: officer addrs: %w", pr.CallID, err)
	}
	if err := json.Unmarshal([]byte(caller), &pr.CallerAddrs); err != nil {
		return pr, fmt.Errorf("phone recording %s: caller addrs: %w", pr.CallID, err)
	}
	pr.ownerRole = server.Role(role)
	pr.gone = tombstones+dead > 0
	pr.Recording = recordingStatus(status)
	if pr.gone {
		pr.Recording = "deleted"
	}
	return pr, nil
}

// CollectorRecording returns the recording row of the call callID (the
// server's id) for collector p, when p may read its upload state: the
// phone system recorded the call, alone, and no other account holds its
// recording. Without a row yet it returns Recording{CallID: callID}.
// Refusals are server.ErrForbidden (not a phone-system-only call),
// server.ErrConflict (another account's upload) and server.ErrGone (the
// call was deleted).
func (s *Store) CollectorRecording(ctx context.Context, p server.Principal, callID string) (Recording, error) {
	pr, err := s.collectorCall(ctx, s.db, p, callID)
	if err != nil {
		return Recording{}, err
	}
	if pr.Recording == server.RecordingNone {
		return Recording{CallID: callID}, nil
	}
	return s.Recording(ctx, callID)
}

// collectorCall applies the upload rule of callID for collector p; a
// recording p itself stored passes (a resend, a status check).
func (s *Store) collectorCall(ctx context.Context, q querier, p server.Principal, callID string) (phoneRecording, error) {
	if p.Role != server.RoleCollector {
		return phoneRecording{}, fmt.Errorf("recording %s: role %s: %w", callID, p.Role, server.ErrForbidden)
	}
	pr, err := s.phoneRecording(ctx, q, `pr.call_id = ?`, callID)
	if errors.Is(err, server.ErrNotFound) {
		// As for a call that does not exist: a collector learns nothing
		// of desktops' calls.
		return pr, fmt.Errorf("recording %s: the phone system did not record this call: %w", callID, server.ErrForbidden)
	}
	if err != nil {
		return pr, err
	}
	ok, why := pr.upload(p)
	switch {
	case ok, why == whyStored:
		return pr, nil
	case why == whyGone:
		return pr, fmt.Errorf("recording %s: %s: %w", callID, why, server.ErrGone)
	case why == whyOtherAcct:
		return pr, fmt.Errorf("recording %s: %s: %w", callID, why, server.ErrConflict)
	}
	return pr, fmt.Errorf("recording %s: %s: %w", callID, why, server.ErrForbidden)
}

// ClaimPhoneRecording returns the recording row of the call callID (the
// server's id) for collector p, creating it as "uploading" for p's device
// on the first chunk, as ClaimRecording does for a desktop, when the
// upload rule of server.PhoneRecording holds. Of two collectors that race
// for one call, one gets the row, the other server.ErrConflict.
func (s *Store) ClaimPhoneRecording(ctx context.Context, p server.Principal, callID string) (Recording, error) {
	if _, err := s.collectorCall(ctx, s.db, p, callID); err != nil {
		return Recording{}, err
	}
	if _, err := s.exec(ctx, s.db, `INSERT INTO recordings (call_id, device_id, status, created_at) VALUES (?, ?, 'uploading', ?) ON CONFLICT (call_id) DO NOTHING`,
		callID, p.DeviceID, ms(s.now())); err != nil {
		return Recording{}, fmt.Errorf("recording %s: %w", callID, err)
	}
	// Read again: the rule now sees whose row it is, and a deletion begun
	// meanwhile.
	if _, err := s.collectorCall(ctx, s.db, p, callID); err != nil {
		return Recording{}, err
	}
	return s.Recording(ctx, callID)
}

// phoneSystemOwns reports whether the recording row of callID belongs to
// a collector's device, and its status.
func (s *Store) phoneSystemOwns(ctx context.Context, callID string) (bool, string, error) {
	var role, status string
	err := s.queryRow(ctx, s.db, `SELECT COALESCE(u.role, ''), r.status FROM recordings r
		LEFT JOIN devices d ON d.id = r.device_id LEFT JOIN users u ON u.id = d.user_id WHERE r.call_id = ?`, callID).Scan(&role, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("recording %s: %w", callID, err)
	}
	return server.Role(role) == server.RoleCollector, status, nil
}
