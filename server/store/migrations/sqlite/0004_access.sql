-- Access (issue 12): teams, which decide whose calls a supervisor sees,
-- and when each device token expires.

CREATE TABLE teams (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);

-- A supervisor sees the agents who share a team with her.
CREATE TABLE team_members (
	team_id  INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
	username TEXT    NOT NULL,
	added_at INTEGER NOT NULL,
	PRIMARY KEY (team_id, username)
);
CREATE INDEX team_members_user ON team_members (username);

-- Device tokens expire; tokens issued before this get 90 days from now.
-- A rotated-out token (prev_token_hash) works until prev_valid_until, in
-- case the device missed the reply.
ALTER TABLE devices ADD COLUMN expires_at INTEGER;
ALTER TABLE devices ADD COLUMN prev_token_hash TEXT;
ALTER TABLE devices ADD COLUMN prev_valid_until INTEGER;
UPDATE devices SET expires_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 90 * 86400000 WHERE revoked_at IS NULL;
CREATE INDEX devices_prev_token ON devices (prev_token_hash);
