-- Score trends (issue 17): each officer's week of the scores the trends
-- count, as an encoded trend.Bucket, so that a team's trends read a bucket
-- per officer and week instead of every score. A week is [week_start,
-- week_end) in the server's zone when it was worked out; a bucket no read
-- asked for yet is worked out by the first read that needs it.
--
-- Any change to a score makes the buckets holding its call stale: the
-- triggers delete them in the transaction of the change, so no write path
-- can forget to, and the next read works them out again. (SQLite runs one
-- writer at a time, and a read that works out a bucket writes it, so no
-- bucket is worked out from scores a later change has overtaken.)
CREATE TABLE score_weeks (
	agent      TEXT    NOT NULL,
	week_start INTEGER NOT NULL,
	week_end   INTEGER NOT NULL,
	body       BLOB    NOT NULL,
	PRIMARY KEY (agent, week_start, week_end)
);

CREATE TRIGGER score_weeks_insert AFTER INSERT ON scores BEGIN
	DELETE FROM score_weeks WHERE agent = NEW.agent AND week_start <= NEW.call_started AND NEW.call_started < week_end;
END;

CREATE TRIGGER score_weeks_update AFTER UPDATE ON scores BEGIN
	DELETE FROM score_weeks WHERE agent = OLD.agent AND week_start <= OLD.call_started AND OLD.call_started < week_end;
	DELETE FROM score_weeks WHERE agent = NEW.agent AND week_start <= NEW.call_started AND NEW.call_started < week_end;
END;

CREATE TRIGGER score_weeks_delete AFTER DELETE ON scores BEGIN
	DELETE FROM score_weeks WHERE agent = OLD.agent AND week_start <= OLD.call_started AND OLD.call_started < week_end;
END;

-- A week is worked out from its officer's scores through this index alone:
-- a score's row holds its evidence (kilobytes), its summary far less, so
-- the index reads a tenth of the pages the rows would. (PostgreSQL keeps
-- the evidence out of line already.)
CREATE INDEX scores_trend ON scores (agent, call_started, superseded_at, call_id, scorecard_id, scorecard_version, completed_at, summary);
