-- Score trends (issue 17): each officer's week of the scores the trends
-- count, as an encoded trend.Bucket, so that a team's trends read a bucket
-- per officer and week instead of every score. A week is [week_start,
-- week_end) in the server's zone when it was worked out; a bucket no read
-- asked for yet is worked out by the first read that needs it.
--
-- Any change to a score makes the buckets holding its call stale: the
-- trigger deletes them in the transaction of the change, so no write path
-- can forget to, and the next read works them out again. The trigger takes
-- the officer's advisory lock (7465013, hashtext(agent)) and a read that
-- works out buckets takes it shared, so a bucket is never worked out from
-- scores that a change not yet committed is about to overtake.
CREATE TABLE score_weeks (
	agent      TEXT   NOT NULL,
	week_start BIGINT NOT NULL,
	week_end   BIGINT NOT NULL,
	body       BYTEA  NOT NULL,
	PRIMARY KEY (agent, week_start, week_end)
);

CREATE FUNCTION score_weeks_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		PERFORM pg_advisory_xact_lock(7465013, hashtext(OLD.agent));
		DELETE FROM score_weeks WHERE agent = OLD.agent AND week_start <= OLD.call_started AND OLD.call_started < week_end;
	END IF;
	IF TG_OP <> 'DELETE' THEN
		PERFORM pg_advisory_xact_lock(7465013, hashtext(NEW.agent));
		DELETE FROM score_weeks WHERE agent = NEW.agent AND week_start <= NEW.call_started AND NEW.call_started < week_end;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER score_weeks_stale AFTER INSERT OR UPDATE OR DELETE ON scores
	FOR EACH ROW EXECUTE FUNCTION score_weeks_stale();
