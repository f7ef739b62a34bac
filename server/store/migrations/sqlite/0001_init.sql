-- callguard server schema, SQLite dialect. Times are INTEGER milliseconds
-- since the Unix epoch, UTC; booleans are 0/1.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	username      TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL DEFAULT '',
	role          TEXT    NOT NULL CHECK (role IN ('agent', 'supervisor', 'dpo', 'admin')),
	disabled      INTEGER NOT NULL DEFAULT 0,
	is_local      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL
);

CREATE TABLE devices (
	id         TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	name       TEXT    NOT NULL,
	token_hash TEXT    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	last_seen  INTEGER,
	revoked_at INTEGER,
	acked_seq  INTEGER NOT NULL DEFAULT 0,
	seq_gaps   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_user ON devices (user_id);

-- Every event as received, keyed by its id: resending is harmless.
CREATE TABLE events (
	id          TEXT    PRIMARY KEY,
	device_id   TEXT    NOT NULL,
	seq         INTEGER NOT NULL,
	type        TEXT    NOT NULL,
	agent       TEXT    NOT NULL,
	call_id     TEXT,
	at          INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	body        TEXT    NOT NULL
);
CREATE INDEX events_call ON events (call_id, seq);
CREATE INDEX events_device_seq ON events (device_id, seq);

-- Calls folded from their events. The retention facts (direction,
-- local_number, flag_reasons, declined) are columns so retention can select
-- on them; personal_deleted_at is set when retention erases the personal
-- fields and leaves a tombstone.
CREATE TABLE calls (
	id                  TEXT    PRIMARY KEY,
	device_id           TEXT    NOT NULL,
	agent               TEXT    NOT NULL,
	direction           TEXT    NOT NULL,
	local_number        TEXT    NOT NULL DEFAULT '',
	local_name          TEXT    NOT NULL DEFAULT '',
	remote_number       TEXT    NOT NULL DEFAULT '',
	remote_name         TEXT    NOT NULL DEFAULT '',
	sip_call_id         TEXT    NOT NULL DEFAULT '',
	started_at          INTEGER NOT NULL,
	answered_at         INTEGER,
	ended_at            INTEGER,
	recorded            INTEGER NOT NULL DEFAULT 0,
	state               TEXT    NOT NULL,
	state_reason        TEXT    NOT NULL DEFAULT '',
	notice              TEXT    NOT NULL,
	declined            INTEGER NOT NULL DEFAULT 0,
	is_excluded         INTEGER NOT NULL DEFAULT 0,
	failed              INTEGER NOT NULL DEFAULT 0,
	pauses              TEXT    NOT NULL DEFAULT '[]',
	paused_ms           INTEGER NOT NULL DEFAULT 0,
	flag_reasons        TEXT    NOT NULL DEFAULT '',
	flag_count          INTEGER NOT NULL DEFAULT 0,
	retention_rule      TEXT    NOT NULL DEFAULT '',
	delete_after        INTEGER,
	personal_deleted_at INTEGER,
	event_count         INTEGER NOT NULL DEFAULT 0,
	updated_at          INTEGER NOT NULL
);
CREATE INDEX calls_started ON calls (started_at);
CREATE INDEX calls_agent ON calls (agent, started_at);
CREATE INDEX calls_remote ON calls (remote_number);
CREATE INDEX calls_delete_after ON calls (delete_after);

-- Officers' flags: the data-protection officers' review queue (issue 9 adds
-- the decision workflow on review_state).
CREATE TABLE call_flags (
	event_id     TEXT    PRIMARY KEY,
	call_id      TEXT    NOT NULL,
	agent        TEXT    NOT NULL,
	reason       TEXT    NOT NULL,
	note         TEXT    NOT NULL DEFAULT '',
	from_ms      INTEGER,
	to_ms        INTEGER,
	at           INTEGER NOT NULL,
	review_state TEXT    NOT NULL DEFAULT 'open'
);
CREATE INDEX call_flags_call ON call_flags (call_id);
CREATE INDEX call_flags_review ON call_flags (review_state, at);

-- Encrypted recordings and their manifests (blobs live in the data dir).
CREATE TABLE recordings (
	call_id    TEXT    PRIMARY KEY,
	device_id  TEXT    NOT NULL,
	status     TEXT    NOT NULL CHECK (status IN ('uploading', 'stored', 'deleted')),
	size       INTEGER NOT NULL DEFAULT 0,
	sha256     TEXT    NOT NULL DEFAULT '',
	manifest   TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	stored_at  INTEGER
);

-- The live board's last known state of each agent, so a restarted or added
-- server instance starts with the board as it was.
CREATE TABLE presence (
	agent     TEXT    PRIMARY KEY,
	device_id TEXT    NOT NULL,
	state     TEXT    NOT NULL,
	last_seen INTEGER NOT NULL
);

-- Holds keep calls past retention (issue 9): one call, or all calls of a
-- number or an agent in a date range.
CREATE TABLE holds (
	id         INTEGER PRIMARY KEY,
	call_id    TEXT,
	number     TEXT,
	agent      TEXT,
	from_at    INTEGER,
	to_at      INTEGER,
	reason     TEXT    NOT NULL,
	owner      TEXT    NOT NULL,
	review_at  INTEGER,
	created_at INTEGER NOT NULL,
	created_by TEXT    NOT NULL,
	lifted_at  INTEGER,
	lifted_by  TEXT
);

-- What retention deleted, as evidence (issue 9).
CREATE TABLE tombstones (
	call_id        TEXT    PRIMARY KEY,
	started_at     INTEGER NOT NULL,
	ended_at       INTEGER,
	rule           TEXT    NOT NULL,
	deleted_at     INTEGER NOT NULL,
	sha256_deleted TEXT    NOT NULL DEFAULT ''
);

-- Append-only audit log; each row's hash covers the previous row's hash.
-- seq is assigned by the writer (last + 1) so two writers cannot fork the
-- chain: the second insert of a seq fails and is retried.
CREATE TABLE audit (
	seq       INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	actor     TEXT    NOT NULL,
	device_id TEXT    NOT NULL,
	action    TEXT    NOT NULL,
	target    TEXT    NOT NULL,
	detail    TEXT    NOT NULL,
	prev_hash TEXT    NOT NULL,
	hash      TEXT    NOT NULL
);
CREATE INDEX audit_target ON audit (target);
CREATE INDEX audit_actor ON audit (actor, at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
	BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
	BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
