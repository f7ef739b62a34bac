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

-- NULL: the token was issued before tokens expired; it gets an expiry at
-- its next use.
ALTER TABLE devices ADD COLUMN expires_at INTEGER;
