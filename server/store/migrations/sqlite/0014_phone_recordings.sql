-- Issue 19: calls the phone system recorded. When the phone system's
-- recorder first confirmed a desktop's record command, the server keeps
-- what a collector needs to make the call's recording from the phone
-- system's pcaps: the call (the server's id), its SIP Call-ID (the key of
-- the pcaps), where the site records ('pbx' or 'both') and the addresses
-- at which the recorder received each party's RTP (JSON lists of
-- "ip:port"). Deleted with the call's personal data (FinishDeletions).
CREATE TABLE phone_recordings (
	call_id        TEXT    PRIMARY KEY,
	agent          TEXT    NOT NULL,
	sip_call_id    TEXT    NOT NULL,
	where_recorded TEXT    NOT NULL,
	officer_addrs  TEXT    NOT NULL DEFAULT '[]',
	caller_addrs   TEXT    NOT NULL DEFAULT '[]',
	created_at     INTEGER NOT NULL
);
CREATE INDEX phone_recordings_sip_call_id ON phone_recordings (sip_call_id, created_at);

-- The collector's accounts (server.RoleCollector). SQLite cannot change a
-- CHECK in place: the table is rebuilt, with the references to it
-- unchecked until the end (the marker line below tells the store), and
-- legacy_alter_table keeps the other tables' references naming "users"
-- through the rename.
-- store: rebuilds a referenced table
PRAGMA legacy_alter_table = ON;
CREATE TABLE users_0014 (
	id            INTEGER PRIMARY KEY,
	username      TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL DEFAULT '',
	role          TEXT    NOT NULL CHECK (role IN ('agent', 'supervisor', 'dpo', 'admin', 'collector')),
	disabled      INTEGER NOT NULL DEFAULT 0,
	is_local      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	job_role      TEXT
);
INSERT INTO users_0014 (id, username, password_hash, role, disabled, is_local, created_at, job_role)
	SELECT id, username, password_hash, role, disabled, is_local, created_at, job_role FROM users;
DROP TABLE users;
ALTER TABLE users_0014 RENAME TO users;
PRAGMA legacy_alter_table = OFF;
