-- Scoring (issue 17): scorecards, versioned (every save is a new version;
-- exactly one active version per scorecard id), the scores of calls
-- (automatic, then completed by an evaluator; old ones kept when a new
-- version re-scores), the officers' comments and disputes, and the queue
-- of calls waiting to be scored, so a server stopped mid-way loses none.

CREATE TABLE scorecards (
	id         TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	body       TEXT    NOT NULL,
	active     INTEGER NOT NULL DEFAULT 0,
	source     TEXT    NOT NULL CHECK (source IN ('policy', 'workspace', 'import')),
	created_at INTEGER NOT NULL,
	created_by TEXT    NOT NULL,
	PRIMARY KEY (id, version)
);
CREATE UNIQUE INDEX scorecards_active ON scorecards (id) WHERE active = 1;

-- evaluator '' is the automatic score; an evaluator's row copies its
-- automatic answers and adds the manual ones and the overrides, so two
-- evaluators of one call are two rows (calibration).
CREATE TABLE scores (
	id                INTEGER PRIMARY KEY,
	call_id           TEXT    NOT NULL,
	agent             TEXT    NOT NULL,
	call_started      INTEGER NOT NULL,
	scorecard_id      TEXT    NOT NULL,
	scorecard_version INTEGER NOT NULL,
	evaluator         TEXT    NOT NULL DEFAULT '',
	automatic         TEXT    NOT NULL,
	manual            TEXT    NOT NULL DEFAULT '{}',
	overrides         TEXT    NOT NULL DEFAULT '{}',
	summary           TEXT    NOT NULL DEFAULT '{}',
	total             REAL,
	scored_at         INTEGER NOT NULL,
	completed_at      INTEGER,
	superseded_at     INTEGER,
	UNIQUE (call_id, scorecard_id, scorecard_version, evaluator)
);
CREATE INDEX scores_agent ON scores (agent, call_started);
CREATE INDEX scores_call ON scores (call_id);
CREATE INDEX scores_started ON scores (call_started);

CREATE TABLE score_comments (
	id       INTEGER PRIMARY KEY,
	score_id INTEGER NOT NULL REFERENCES scores (id) ON DELETE CASCADE,
	author   TEXT    NOT NULL,
	kind     TEXT    NOT NULL CHECK (kind IN ('comment', 'dispute')),
	body     TEXT    NOT NULL,
	at       INTEGER NOT NULL
);
CREATE INDEX score_comments_score ON score_comments (score_id, at);

-- Calls to (re-)score; a row goes in the transaction that stores the
-- recording or saves a scorecard, and out in the one that writes the scores.
CREATE TABLE scoring_queue (
	call_id   TEXT    PRIMARY KEY,
	queued_at INTEGER NOT NULL,
	attempts  INTEGER NOT NULL DEFAULT 0,
	last_error TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX scoring_queue_queued ON scoring_queue (queued_at);

-- Calls whose recordings were stored before scoring existed are scored too.
INSERT INTO scoring_queue (call_id, queued_at) SELECT call_id, COALESCE(stored_at, created_at) FROM recordings WHERE status = 'stored';
