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
	created_at     BIGINT  NOT NULL
);
CREATE INDEX phone_recordings_sip_call_id ON phone_recordings (sip_call_id, created_at);

-- The collector's accounts (server.RoleCollector).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('agent', 'supervisor', 'dpo', 'admin', 'collector'));
