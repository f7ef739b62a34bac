-- Hostile review (issue 12): calls keyed by their owner, the server's clock
-- for retention, incremental folding, refused events.

-- A call is keyed by its owner (the agent's username) and the desktop's id
-- for it (call_ref); call_id is the server's id of the call, which every
-- other table uses. It is the desktop's id unless another account's call
-- had that id first, then a new random one: two accounts can never write
-- into, claim or read each other's call by using the same id.
CREATE TABLE call_keys (
	agent      TEXT    NOT NULL,
	call_ref   TEXT    NOT NULL,
	call_id    TEXT    NOT NULL UNIQUE,
	created_at BIGINT  NOT NULL,
	PRIMARY KEY (agent, call_ref)
);
INSERT INTO call_keys (agent, call_ref, call_id, created_at)
	SELECT agent, id, id, updated_at FROM calls;
-- A recording whose events never came belongs to the account that sent it.
INSERT INTO call_keys (agent, call_ref, call_id, created_at)
	SELECT u.username, r.call_id, r.call_id, r.created_at
	FROM recordings r JOIN devices d ON d.id = r.device_id JOIN users u ON u.id = d.user_id
	WHERE NOT EXISTS (SELECT 1 FROM call_keys k WHERE k.call_id = r.call_id);
-- Events an account sent for an id another account held (the squatting this
-- migration ends) were stored but never applied: they get a call of their
-- own, folded when the server starts.
INSERT INTO call_keys (agent, call_ref, call_id, created_at)
	SELECT e.agent, e.call_id, md5(random()::text || clock_timestamp()::text || e.agent || e.call_id), MIN(e.received_at)
	FROM events e
	WHERE e.call_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM call_keys k WHERE k.agent = e.agent AND k.call_ref = e.call_id)
	GROUP BY e.agent, e.call_id;

-- The server's clock decides retention and holds. received_at is when the
-- call's first event reached the server; counted_from is what retention and
-- holds count from: started_at, unless that was further than the allowed
-- skew (24 h by default) from received_at (clock_skew), then
-- received_at. fold is the folded call (server.Fold) that later events are
-- applied on top of without reading the earlier ones again.
ALTER TABLE calls ADD COLUMN received_at BIGINT;
ALTER TABLE calls ADD COLUMN counted_from BIGINT;
ALTER TABLE calls ADD COLUMN clock_skew BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE calls ADD COLUMN fold TEXT NOT NULL DEFAULT '';
UPDATE calls SET received_at = COALESCE((SELECT MIN(e.received_at) FROM events e WHERE e.agent = calls.agent AND e.call_id = calls.id), updated_at);
UPDATE calls SET counted_from = started_at;
-- Calls that came before with a clock more than a day off: counted from
-- their arrival now, their delete_after moved by as much (retention
-- reapply computes it exactly).
UPDATE calls SET clock_skew = TRUE, counted_from = received_at,
	delete_after = CASE WHEN delete_after IS NULL THEN NULL ELSE delete_after + (received_at - started_at) END
	WHERE personal_deleted_at IS NULL AND ABS(started_at - received_at) > 86400000;
CREATE INDEX calls_counted_from ON calls (counted_from);

-- Events the server refused (out of contract, past a limit): counted per
-- device; the desktop keeps them aside.
ALTER TABLE devices ADD COLUMN refused_events BIGINT NOT NULL DEFAULT 0;
