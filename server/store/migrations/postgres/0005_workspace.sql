-- The web workspace (issue 16): browser sessions, the desktop's one-time
-- sign-in links, and phone numbers in E.164 so that a number typed in any
-- form finds its calls.

-- A browser session. Only the sha256 of its random token is kept. It ends
-- at expires_at (absolute), after the idle time without a request
-- (last_seen), or when ended_at is set (sign-out).
CREATE TABLE web_sessions (
	token_hash TEXT    PRIMARY KEY,
	user_id    BIGINT  NOT NULL REFERENCES users (id),
	created_at BIGINT  NOT NULL,
	last_seen  BIGINT  NOT NULL,
	expires_at BIGINT  NOT NULL,
	ended_at   BIGINT,
	ip         TEXT    NOT NULL DEFAULT '',
	via        TEXT    NOT NULL DEFAULT 'password'
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- A one-time link that signs a browser in as the desktop's account: used
-- once (used_at), before expires_at.
CREATE TABLE web_links (
	token_hash TEXT    PRIMARY KEY,
	user_id    BIGINT  NOT NULL REFERENCES users (id),
	device_id  TEXT    NOT NULL,
	created_at BIGINT  NOT NULL,
	expires_at BIGINT  NOT NULL,
	used_at    BIGINT
);
CREATE INDEX web_links_expires ON web_links (expires_at);

-- The call's numbers in E.164 (server.E164), '' when not a full number
-- (an extension, a withheld number). Filled at ingest; calls stored before
-- are filled by the server when it migrates (Go: store.fillE164).
ALTER TABLE calls ADD COLUMN remote_e164 TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN local_e164 TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_remote_e164 ON calls (remote_e164, started_at);
CREATE INDEX calls_local_e164 ON calls (local_e164, started_at);
-- The calls page filters by direction and lists newest first.
CREATE INDEX calls_direction ON calls (direction, started_at);
