-- Data protection (issue 9): retention facts, the review workflow on
-- call_flags, holds that can need two dpos to lift, tombstones that are
-- written before a deletion and finished after it, subject erasures, and
-- signed checkpoints of the audit chain.

-- remote_key is the remote number without spaces and punctuation: holds and
-- erasures by number match on it.
ALTER TABLE calls ADD COLUMN remote_key TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN declined_at INTEGER;
UPDATE calls SET remote_key = REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(remote_number, ' ', ''), '-', ''), '(', ''), ')', ''), '.', '');
CREATE INDEX calls_remote_key ON calls (remote_key);
CREATE INDEX calls_due ON calls (delete_after, id) WHERE personal_deleted_at IS NULL;

-- The review queue: officers' flags (kind 'flag') and declined calls (kind
-- 'declined', event_id 'declined:<call-id>'). review_state is open,
-- awaiting-approval, redaction-pending, auto-redacted or done; outcome is
-- what the officer sees: '', deleted, redacted or kept.
ALTER TABLE call_flags ADD COLUMN kind TEXT NOT NULL DEFAULT 'flag';
ALTER TABLE call_flags ADD COLUMN decision TEXT NOT NULL DEFAULT '';
ALTER TABLE call_flags ADD COLUMN decision_from_ms INTEGER;
ALTER TABLE call_flags ADD COLUMN decision_to_ms INTEGER;
ALTER TABLE call_flags ADD COLUMN decision_note TEXT NOT NULL DEFAULT '';
ALTER TABLE call_flags ADD COLUMN decided_by TEXT NOT NULL DEFAULT '';
ALTER TABLE call_flags ADD COLUMN decided_at INTEGER;
ALTER TABLE call_flags ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE call_flags ADD COLUMN approved_at INTEGER;
ALTER TABLE call_flags ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE call_flags ADD COLUMN pending TEXT NOT NULL DEFAULT '';
ALTER TABLE call_flags ADD COLUMN updated_at INTEGER;
CREATE INDEX call_flags_agent ON call_flags (agent, at);

-- uploaded_sha256 is the file as the desktop sent it; sha256 changes when an
-- interval is redacted.
ALTER TABLE recordings ADD COLUMN uploaded_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE recordings ADD COLUMN deleted_at INTEGER;
UPDATE recordings SET uploaded_sha256 = sha256;

ALTER TABLE holds ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE holds ADD COLUMN lift_requested_by TEXT;
ALTER TABLE holds ADD COLUMN lift_requested_at INTEGER;
ALTER TABLE holds ADD COLUMN lift_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX holds_call ON holds (call_id) WHERE lifted_at IS NULL;
CREATE INDEX holds_number ON holds (number) WHERE lifted_at IS NULL;
CREATE INDEX holds_agent ON holds (agent) WHERE lifted_at IS NULL;
CREATE INDEX holds_review ON holds (review_at) WHERE lifted_at IS NULL;

-- A tombstone is written 'pending' before anything is deleted and marked
-- 'done' in the transaction that erases the call's personal data, so a
-- deletion interrupted by a crash is finished, not lost or repeated.
ALTER TABLE tombstones ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
ALTER TABLE tombstones ADD COLUMN cause TEXT NOT NULL DEFAULT 'retention';
ALTER TABLE tombstones ADD COLUMN ref TEXT NOT NULL DEFAULT '';
ALTER TABLE tombstones ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE tombstones ADD COLUMN begun_at INTEGER;
ALTER TABLE tombstones ADD COLUMN recording_status TEXT NOT NULL DEFAULT '';
ALTER TABLE tombstones ADD COLUMN recording_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tombstones ADD COLUMN sha256_metadata TEXT NOT NULL DEFAULT '';
CREATE INDEX tombstones_pending ON tombstones (state) WHERE state = 'pending';
CREATE INDEX tombstones_deleted ON tombstones (deleted_at);

-- Erasure of everything about one phone number. number_key is kept only
-- until the erasure is carried out.
CREATE TABLE erasures (
	id           INTEGER PRIMARY KEY,
	number_key   TEXT,
	number_masked TEXT    NOT NULL,
	reference    TEXT    NOT NULL DEFAULT '',
	state        TEXT    NOT NULL,
	requested_by TEXT    NOT NULL,
	requested_at INTEGER NOT NULL,
	approved_by  TEXT    NOT NULL DEFAULT '',
	approved_at  INTEGER,
	done_at      INTEGER,
	erased       INTEGER NOT NULL DEFAULT 0,
	held         TEXT    NOT NULL DEFAULT '[]',
	calls        TEXT    NOT NULL DEFAULT '[]'
);

-- Signed checkpoints of the audit chain: the hash of record seq, signed with
-- the server's ed25519 key.
CREATE TABLE audit_checkpoints (
	seq        INTEGER PRIMARY KEY,
	hash       TEXT    NOT NULL,
	at         INTEGER NOT NULL,
	public_key TEXT    NOT NULL,
	signature  TEXT    NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
	BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
	BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_action ON audit (action, at);
