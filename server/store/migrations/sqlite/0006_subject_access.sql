-- Subject-access requests run as cases (issue 16): who asked, how their
-- identity was checked, what is searched, and the status and deadline.
-- Dates (received_on, from_on, to_on, deadline_on) are calendar dates
-- written 2006-01-02; extensions and history are JSON lists. version
-- counts the changes, so two concurrent changes never both win.
CREATE TABLE subject_access_cases (
	id                  INTEGER PRIMARY KEY,
	reference           TEXT    NOT NULL DEFAULT '',
	requester_name      TEXT    NOT NULL,
	requester_contact   TEXT    NOT NULL,
	identity_method     TEXT    NOT NULL,
	identity_checked_by TEXT    NOT NULL,
	received_on         TEXT    NOT NULL,
	numbers             TEXT    NOT NULL,
	from_on             TEXT,
	to_on               TEXT,
	status              TEXT    NOT NULL,
	deadline_on         TEXT    NOT NULL,
	extensions          TEXT    NOT NULL DEFAULT '[]',
	history             TEXT    NOT NULL DEFAULT '[]',
	created_by          TEXT    NOT NULL,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL,
	version             INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX subject_access_cases_deadline ON subject_access_cases (status, deadline_on);
