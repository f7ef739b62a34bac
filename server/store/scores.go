package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/callguard/callguard/server"
)

// scorecardCols are a scorecard version's columns, in scanScorecard's order.
const scorecardCols = `id, version, name, body, active, source, created_at, created_by`

func scanScorecard(sc interface{ Scan(...any) error }) (server.ScorecardVersion, error) {
	var (
		v    server.ScorecardVersion
		body string
		at   int64
	)
	if err := sc.Scan(&v.ID, &v.Version, &v.Name, &body, &v.Active, &v.Source, &at, &v.CreatedBy); err != nil {
		return server.ScorecardVersion{}, err
	}
	v.Body, v.Created = json.RawMessage(body), fromMS(at)
	return v, nil
}

// SeedScorecards saves each of cards as version 1, active, of its id when
// no version of that id exists yet (the policy's scorecards on a first
// start), and returns how many it saved. A scorecard saved in the
// workspace is never replaced by the policy's.
func (s *Store) SeedScorecards(ctx context.Context, cards []server.ScorecardVersion) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, c := range cards {
			res, err := s.exec(ctx, tx, `INSERT INTO scorecards (`+scorecardCols+`) SELECT ?, 1, ?, ?, ?, ?, ?, ?
				WHERE NOT EXISTS (SELECT 1 FROM scorecards WHERE id = ?)`,
				c.ID, c.Name, string(c.Body), true, server.ScorecardFromPolicy, ms(s.now()), "policy", c.ID)
			if err != nil {
				return fmt.Errorf("seed scorecard %q: %w", c.ID, err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				n++
			}
		}
		if n > 0 {
			return s.queueStoredTx(ctx, tx)
		}
		return nil
	})
	return n, err
}

// SaveScorecard saves c as the next version of its id, made active (the
// version it replaces stays, inactive), and queues every call with a
// stored recording to be scored again: the old scores are kept beside the
// new ones. source is server.ScorecardFromWorkspace or …FromImport.
func (s *Store) SaveScorecard(ctx context.Context, c server.ScorecardVersion, by, source string) (server.ScorecardVersion, error) {
	if strings.TrimSpace(c.ID) == "" {
		return server.ScorecardVersion{}, fmt.Errorf("save scorecard: it has no id: %w", server.ErrInvalid)
	}
	if !json.Valid(c.Body) {
		return server.ScorecardVersion{}, fmt.Errorf("save scorecard %q: its body is not JSON: %w", c.ID, server.ErrInvalid)
	}
	var saved server.ScorecardVersion
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var last int
		if err := s.queryRow(ctx, tx, `SELECT COALESCE(MAX(version), 0) FROM scorecards WHERE id = ?`, c.ID).Scan(&last); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `UPDATE scorecards SET active = ? WHERE id = ? AND active = ?`, false, c.ID, true); err != nil {
			return err
		}
		at := ms(s.now())
		_, err := s.exec(ctx, tx, `INSERT INTO scorecards (`+scorecardCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, last+1, c.Name, string(c.Body), true, source, at, by)
		if isUnique(err) {
			return errRetry // another save of this id took the version
		}
		if err != nil {
			return err
		}
		saved = server.ScorecardVersion{ID: c.ID, Version: last + 1, Name: c.Name, Body: c.Body, Active: true, Source: source, Created: fromMS(at), CreatedBy: by}
		return s.queueStoredTx(ctx, tx)
	})
	if err != nil {
		return server.ScorecardVersion{}, fmt.Errorf("save scorecard %q: %w", c.ID, err)
	}
	return saved, nil
}

// queueStoredTx queues every call with a stored recording for scoring.
func (s *Store) queueStoredTx(ctx context.Context, tx *sql.Tx) error {
	_, err := s.exec(ctx, tx, `INSERT INTO scoring_queue (call_id, queued_at) SELECT call_id, ? FROM recordings WHERE status = 'stored'
		ON CONFLICT (call_id) DO NOTHING`, ms(s.now()))
	if err != nil {
		return fmt.Errorf("queue calls for scoring: %w", err)
	}
	return nil
}

// ActiveScorecards returns the active version of each scorecard, by id.
func (s *Store) ActiveScorecards(ctx context.Context) ([]server.ScorecardVersion, error) {
	return s.scorecards(ctx, `SELECT `+scorecardCols+` FROM scorecards WHERE active = ? ORDER BY id`, true)
}

// ScorecardVersions returns every version of a scorecard, newest first;
// server.ErrNotFound if it has none.
func (s *Store) ScorecardVersions(ctx context.Context, id string) ([]server.ScorecardVersion, error) {
	out, err := s.scorecards(ctx, `SELECT `+scorecardCols+` FROM scorecards WHERE id = ? ORDER BY version DESC`, id)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("scorecard %q: %w", id, server.ErrNotFound)
	}
	return out, err
}

// Scorecard returns one version of a scorecard (0: the active one).
func (s *Store) Scorecard(ctx context.Context, id string, version int) (server.ScorecardVersion, error) {
	q, args := `SELECT `+scorecardCols+` FROM scorecards WHERE id = ? AND version = ?`, []any{id, version}
	if version == 0 {
		q, args = `SELECT `+scorecardCols+` FROM scorecards WHERE id = ? AND active = ?`, []any{id, true}
	}
	v, err := scanScorecard(s.queryRow(ctx, s.db, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return server.ScorecardVersion{}, fmt.Errorf("scorecard %q version %d: %w", id, version, server.ErrNotFound)
	}
	if err != nil {
		return server.ScorecardVersion{}, fmt.Errorf("scorecard %q: %w", id, err)
	}
	return v, nil
}

func (s *Store) scorecards(ctx context.Context, q string, args ...any) ([]server.ScorecardVersion, error) {
	rows, err := s.query(ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("scorecards: %w", err)
	}
	out, err := scanAll(rows, scanScorecard)
	if err != nil {
		return nil, fmt.Errorf("scorecards: %w", err)
	}
	return out, nil
}

// MaxScoringAttempts is how often the scoring job tries a call before it
// leaves it in the queue for a person to look at (ScoringStuck).
const MaxScoringAttempts = 5

// QueueScoring puts a call in the scoring queue (again: no change).
func (s *Store) QueueScoring(ctx context.Context, callID string) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO scoring_queue (call_id, queued_at) VALUES (?, ?) ON CONFLICT (call_id) DO NOTHING`, callID, ms(s.now()))
	if err != nil {
		return fmt.Errorf("queue call %s for scoring: %w", callID, err)
	}
	return nil
}

// ScoringDue returns up to limit calls waiting to be scored, oldest first,
// leaving out those tried MaxScoringAttempts times.
func (s *Store) ScoringDue(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.query(ctx, s.db, `SELECT call_id FROM scoring_queue WHERE attempts < ? ORDER BY queued_at, call_id LIMIT ?`, MaxScoringAttempts, limit)
	if err != nil {
		return nil, fmt.Errorf("scoring queue: %w", err)
	}
	ids, err := scanStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("scoring queue: %w", err)
	}
	return ids, nil
}

// ScoringQueued returns how many calls wait to be scored, and how many of
// them the job gave up on after MaxScoringAttempts.
func (s *Store) ScoringQueued(ctx context.Context) (waiting, stuck int, err error) {
	err = s.queryRow(ctx, s.db, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN attempts >= ? THEN 1 ELSE 0 END), 0) FROM scoring_queue`, MaxScoringAttempts).
		Scan(&waiting, &stuck)
	if err != nil {
		return 0, 0, fmt.Errorf("scoring queue: %w", err)
	}
	return waiting, stuck, nil
}

// ScoringFailed records a failed attempt to score a call; it stays queued.
func (s *Store) ScoringFailed(ctx context.Context, callID string, cause error) error {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err := s.exec(ctx, s.db, `UPDATE scoring_queue SET attempts = attempts + 1, last_error = ? WHERE call_id = ?`, msg, callID)
	if err != nil {
		return fmt.Errorf("scoring queue %s: %w", callID, err)
	}
	return nil
}

// WriteAutomaticScores stores a call's automatic scores (one per
// scorecard version that applies to it) and takes the call out of the
// scoring queue, in one transaction: a server stopped before it commits
// scores the call again. An automatic score of the same version is
// replaced when it came out different (events that arrived since); an
// evaluator's score keeps the answers it was given. Scores of older
// versions of the same scorecards are marked superseded and kept.
func (s *Store) WriteAutomaticScores(ctx context.Context, callID string, scores []server.Score) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := ms(s.now())
		for _, sc := range scores {
			var total any
			if sc.Total != nil {
				total = *sc.Total
			}
			automatic := string(sc.Automatic)
			if !json.Valid(sc.Automatic) {
				return fmt.Errorf("automatic score by %s v%d is not JSON: %w", sc.ScorecardID, sc.ScorecardVersion, server.ErrInvalid)
			}
			summary, _ := json.Marshal(sc.Summary)
			if _, err := s.exec(ctx, tx, `INSERT INTO scores (call_id, agent, call_started, scorecard_id, scorecard_version, evaluator, automatic, summary, total, scored_at)
				VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?) ON CONFLICT (call_id, scorecard_id, scorecard_version, evaluator)
				DO UPDATE SET automatic = excluded.automatic, summary = excluded.summary, total = excluded.total, scored_at = excluded.scored_at
				WHERE scores.automatic <> excluded.automatic`,
				callID, sc.Agent, ms(sc.CallStarted), sc.ScorecardID, sc.ScorecardVersion, automatic, string(summary), total, now); err != nil {
				return err
			}
			if _, err := s.exec(ctx, tx, `UPDATE scores SET superseded_at = ? WHERE call_id = ? AND scorecard_id = ? AND scorecard_version < ? AND superseded_at IS NULL`,
				now, callID, sc.ScorecardID, sc.ScorecardVersion); err != nil {
				return err
			}
		}
		_, err := s.exec(ctx, tx, `DELETE FROM scoring_queue WHERE call_id = ?`, callID)
		return err
	})
	if err != nil {
		return fmt.Errorf("write the scores of call %s: %w", callID, err)
	}
	return nil
}

// scoreCols are a score's columns, in scanScore's order.
const scoreCols = `id, call_id, agent, call_started, scorecard_id, scorecard_version, evaluator, automatic, manual, overrides, summary, total, scored_at, completed_at, superseded_at`

// scoreColsSummary are scoreCols without the automatic result, the
// answers and the overrides (each read as empty).
const scoreColsSummary = `id, call_id, agent, call_started, scorecard_id, scorecard_version, evaluator, '', '', '', summary, total, scored_at, completed_at, superseded_at`

func scanScore(sc interface{ Scan(...any) error }) (server.Score, error) {
	var (
		v                           server.Score
		automatic, manual, override string
		summary                     string
		total                       sql.NullFloat64
		scored, started             int64
		completed, superseded       sql.NullInt64
	)
	if err := sc.Scan(&v.ID, &v.CallID, &v.Agent, &started, &v.ScorecardID, &v.ScorecardVersion, &v.Evaluator, &automatic, &manual, &override,
		&summary, &total, &scored, &completed, &superseded); err != nil {
		return server.Score{}, err
	}
	if automatic != "" {
		v.Automatic = json.RawMessage(automatic)
	}
	var err error
	if v.Summary, err = decodeSummary([]byte(summary)); err != nil {
		return server.Score{}, fmt.Errorf("score %d: summary: %w", v.ID, err)
	}
	if manual != "" {
		if err := json.Unmarshal([]byte(manual), &v.Manual); err != nil {
			return server.Score{}, fmt.Errorf("score %d: manual answers: %w", v.ID, err)
		}
	}
	if override != "" {
		if err := json.Unmarshal([]byte(override), &v.Overrides); err != nil {
			return server.Score{}, fmt.Errorf("score %d: overrides: %w", v.ID, err)
		}
	}
	if v.Manual == nil {
		v.Manual = map[string]string{}
	}
	if v.Overrides == nil {
		v.Overrides = map[string]server.Override{}
	}
	if total.Valid {
		t := total.Float64
		v.Total = &t
	}
	v.CallStarted, v.Scored, v.Completed, v.Superseded = fromMS(started), fromMS(scored), fromNullMS(completed), fromNullMS(superseded)
	return v, nil
}

// Score returns one score with its comments, oldest first.
func (s *Store) Score(ctx context.Context, id int64) (server.Score, error) {
	v, err := scanScore(s.queryRow(ctx, s.db, `SELECT `+scoreCols+` FROM scores WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return server.Score{}, fmt.Errorf("score %d: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return server.Score{}, fmt.Errorf("score %d: %w", id, err)
	}
	out := []server.Score{v}
	if err := s.fillComments(ctx, out); err != nil {
		return server.Score{}, err
	}
	return out[0], nil
}

// Scores returns the scores f selects, newest first, with their comments.
func (s *Store) Scores(ctx context.Context, f server.ScoreFilter) ([]server.Score, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Agent != "" {
		add("agent = ?", f.Agent)
	}
	if f.CallID != "" {
		add("call_id = ?", f.CallID)
	}
	if f.ScorecardID != "" {
		add("scorecard_id = ?", f.ScorecardID)
	}
	if f.CompletedOnly {
		add("completed_at IS NOT NULL")
	}
	if f.Current {
		add("superseded_at IS NULL")
	}
	if !f.From.IsZero() {
		add("call_started >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		add("call_started < ?", ms(f.To))
	}
	if f.Agents != nil {
		if len(f.Agents) == 0 {
			return nil, nil
		}
		marks := make([]string, 0, len(f.Agents))
		for a := range f.Agents {
			marks = append(marks, "?")
			args = append(args, a)
		}
		where = append(where, "agent IN ("+strings.Join(marks, ", ")+")")
	}
	cols := scoreCols
	if f.SummaryOnly {
		cols = scoreColsSummary
	}
	q := `SELECT ` + cols + ` FROM scores`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY scored_at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.query(ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("scores: %w", err)
	}
	out, err := scanAll(rows, scanScore)
	if err != nil {
		return nil, fmt.Errorf("scores: %w", err)
	}
	if f.SummaryOnly {
		return out, nil
	}
	if err := s.fillComments(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// fillComments sets each score's comments.
func (s *Store) fillComments(ctx context.Context, scores []server.Score) error {
	if len(scores) == 0 {
		return nil
	}
	at := make(map[int64]int, len(scores))
	marks := make([]string, 0, len(scores))
	args := make([]any, 0, len(scores))
	for i, v := range scores {
		at[v.ID] = i
		marks = append(marks, "?")
		args = append(args, v.ID)
	}
	rows, err := s.query(ctx, s.db, `SELECT id, score_id, author, kind, body, at FROM score_comments WHERE score_id IN (`+strings.Join(marks, ", ")+`) ORDER BY at, id`, args...)
	if err != nil {
		return fmt.Errorf("score comments: %w", err)
	}
	err = eachRow(rows, func(r *sql.Rows) error {
		var (
			c  server.ScoreComment
			t  int64
			ok bool
			i  int
		)
		if err := r.Scan(&c.ID, &c.ScoreID, &c.Author, &c.Kind, &c.Text, &t); err != nil {
			return err
		}
		c.At = fromMS(t)
		if i, ok = at[c.ScoreID]; ok {
			scores[i].Comments = append(scores[i].Comments, c)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("score comments: %w", err)
	}
	return nil
}

// CompleteScore saves an evaluator's score of the call and scorecard
// version that score `from` is of: the automatic answers copied from it,
// e's answers, overrides, total and summary, and now as its completion.
// An evaluator who completes it again replaces their own answers; another
// evaluator gets a score of their own (calibration). Overrides need a
// reason each. autoscore.Complete works e out from the answers.
func (s *Store) CompleteScore(ctx context.Context, from int64, evaluator string, e server.Evaluation) (server.Score, error) {
	if evaluator == "" {
		return server.Score{}, fmt.Errorf("complete score %d: no evaluator: %w", from, server.ErrInvalid)
	}
	for id, o := range e.Overrides {
		if strings.TrimSpace(o.Reason) == "" {
			return server.Score{}, fmt.Errorf("the change to %q needs a reason: %w", id, server.ErrInvalid)
		}
	}
	if e.Manual == nil {
		e.Manual = map[string]string{}
	}
	if e.Overrides == nil {
		e.Overrides = map[string]server.Override{}
	}
	m, _ := json.Marshal(e.Manual)
	o, _ := json.Marshal(e.Overrides)
	sum, _ := json.Marshal(e.Summary)
	var t any
	if e.Total != nil {
		t = *e.Total
	}
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		base, err := scanScore(s.queryRow(ctx, tx, `SELECT `+scoreCols+` FROM scores WHERE id = ?`, from))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("score %d: %w", from, server.ErrNotFound)
		}
		if err != nil {
			return err
		}
		now := ms(s.now())
		return s.queryRow(ctx, tx, `INSERT INTO scores (call_id, agent, call_started, scorecard_id, scorecard_version, evaluator, automatic, manual, overrides, summary, total, scored_at, completed_at, superseded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (call_id, scorecard_id, scorecard_version, evaluator) DO UPDATE SET manual = excluded.manual, overrides = excluded.overrides,
				summary = excluded.summary, total = excluded.total, completed_at = excluded.completed_at
			RETURNING id`,
			base.CallID, base.Agent, ms(base.CallStarted), base.ScorecardID, base.ScorecardVersion, evaluator, string(base.Automatic), string(m), string(o), string(sum), t, now, now,
			msPtr(base.Superseded)).Scan(&id)
	})
	if err != nil {
		return server.Score{}, fmt.Errorf("complete score %d: %w", from, err)
	}
	return s.Score(ctx, id)
}

// AddScoreComment adds a comment or a dispute (kind) to a score.
func (s *Store) AddScoreComment(ctx context.Context, scoreID int64, author, kind, text string) (server.ScoreComment, error) {
	if err := server.ValidComment(kind, text); err != nil {
		return server.ScoreComment{}, err
	}
	c := server.ScoreComment{ScoreID: scoreID, Author: author, Kind: kind, Text: strings.TrimSpace(text), At: fromMS(ms(s.now()))}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM scores WHERE id = ?`, scoreID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("score %d: %w", scoreID, server.ErrNotFound)
		}
		return s.queryRow(ctx, tx, `INSERT INTO score_comments (score_id, author, kind, body, at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			scoreID, author, kind, c.Text, ms(c.At)).Scan(&c.ID)
	})
	if err != nil {
		return server.ScoreComment{}, fmt.Errorf("comment on score %d: %w", scoreID, err)
	}
	return c, nil
}

// CallEvents returns the stored events of a call (the server's id), in
// seq order: what the scoring job measures besides the manifest.
func (s *Store) CallEvents(ctx context.Context, callID string) ([]server.Event, error) {
	var agent, ref string
	err := s.queryRow(ctx, s.db, `SELECT agent, call_ref FROM call_keys WHERE call_id = ?`, callID).Scan(&agent, &ref)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("events of call %s: %w", callID, server.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("events of call %s: %w", callID, err)
	}
	evs, _, err := s.callEvents(ctx, s.db, agent, ref)
	if err != nil {
		return nil, fmt.Errorf("events of call %s: %w", callID, err)
	}
	return evs, nil
}
