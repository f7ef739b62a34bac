-- The third-party release register (issue 16): the request form of the
-- policy's release procedure, its authorisation by a second person who
-- holds a job role the policy lists for the purpose, and the release of
-- the package.

-- The job role an account holds as an authoriser ("Data Protection
-- Officer"); set with "callguard-server user authoriser".
ALTER TABLE users ADD COLUMN job_role TEXT;

CREATE TABLE releases (
	id              INTEGER PRIMARY KEY,
	call_date       TEXT    NOT NULL,
	call_time       TEXT    NOT NULL DEFAULT '',
	number          TEXT    NOT NULL DEFAULT '',
	number_key      TEXT    NOT NULL DEFAULT '',
	requester       TEXT    NOT NULL,
	purpose         TEXT    NOT NULL,
	purpose_label   TEXT    NOT NULL,
	lawful_basis    TEXT    NOT NULL,
	on_behalf       INTEGER NOT NULL DEFAULT 0,
	third_party     TEXT    NOT NULL DEFAULT '',
	requested_on    TEXT    NOT NULL,
	recipient_name  TEXT    NOT NULL,
	recipient_title TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	entered_by      TEXT    NOT NULL,
	entered_at      INTEGER NOT NULL,
	authorised_by   TEXT,
	authorised_as   TEXT,
	authorised_at   INTEGER,
	disclosed_on    TEXT,
	released_by     TEXT,
	released_at     INTEGER,
	package_sha256  TEXT,
	CHECK (state IN ('requested', 'authorised', 'released')),
	CHECK (state = 'requested' OR (authorised_by IS NOT NULL AND authorised_by <> entered_by)),
	CHECK (state <> 'released' OR (disclosed_on IS NOT NULL AND released_at IS NOT NULL))
);
CREATE INDEX releases_state ON releases (state, id);
CREATE INDEX releases_number ON releases (number_key);
CREATE INDEX releases_requested_on ON releases (requested_on);

-- The calls whose recordings a release carries. Not a foreign key: the
-- register outlives a call's erasure.
CREATE TABLE release_calls (
	release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
	call_id    TEXT   NOT NULL,
	PRIMARY KEY (release_id, call_id)
);
CREATE INDEX release_calls_call ON release_calls (call_id);
