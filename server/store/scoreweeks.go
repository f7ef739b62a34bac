package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/trend"
)

// scoreWeeksLock is the PostgreSQL advisory lock class of an officer's
// score weeks (with hashtext(agent)): migration 0013's trigger takes it
// for a change to the officer's scores, a read that works out buckets
// takes it shared.
const scoreWeeksLock = 7465013

// ScoreWeeks returns the trend buckets of the officers' scores in each
// span [bounds[i], bounds[i+1]) (weeks, or days), merged over the officers: agents (nil:
// every officer with a score in them; empty: none). It reads the officer's
// bucket of each week that one is kept for, and works out and keeps the
// others from the scores (trend.Pick of the scores not superseded). A
// change to a score makes its week's bucket stale (migration 0013's
// triggers delete it). bounds must be increasing; the weeks may be any
// length, so a change of the server's zone only means new buckets.
func (s *Store) ScoreWeeks(ctx context.Context, agents map[string]bool, bounds []time.Time) ([]trend.Bucket, error) {
	if len(bounds) < 2 {
		return nil, nil
	}
	edges := make([]int64, len(bounds))
	for i, b := range bounds {
		edges[i] = ms(b)
		if i > 0 && edges[i] <= edges[i-1] {
			return nil, fmt.Errorf("score weeks: bounds out of order at %d: %w", i, server.ErrInvalid)
		}
	}
	weeks := len(bounds) - 1
	var names []string
	if agents == nil {
		var err error
		if names, err = s.scoredAgents(ctx, edges[0], edges[weeks]); err != nil {
			return nil, err
		}
	} else {
		for a := range agents {
			names = append(names, a)
		}
	}
	if len(names) == 0 {
		return make([]trend.Bucket, weeks), nil
	}
	sort.Strings(names)
	out := make([]trend.Bucket, weeks)
	have := make(map[string][]bool, len(names))
	for _, a := range names {
		have[a] = make([]bool, weeks)
	}
	marks, args := inList(names)
	rows, err := s.query(ctx, s.db, `SELECT agent, week_start, week_end, body FROM score_weeks WHERE agent IN (`+marks+`) AND week_start >= ? AND week_start < ?`,
		append(args, edges[0], edges[weeks])...)
	if err != nil {
		return nil, fmt.Errorf("score weeks: %w", err)
	}
	err = eachRow(rows, func(r *sql.Rows) error {
		var (
			agent      string
			start, end int64
			body       []byte
		)
		if err := r.Scan(&agent, &start, &end, &body); err != nil {
			return err
		}
		i, ok := slices.BinarySearch(edges, start)
		if !ok || i >= weeks || edges[i+1] != end || have[agent] == nil || have[agent][i] {
			return nil // a week of another zone, or of other bounds
		}
		var b trend.Bucket
		if err := b.UnmarshalBinary(body); err != nil {
			return fmt.Errorf("%s's week from %d: %w", agent, start, err)
		}
		out[i].Merge(&b)
		have[agent][i] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("score weeks: %w", err)
	}
	missing := map[string][]int{}
	for _, a := range names {
		for i, ok := range have[a] {
			if !ok {
				missing[a] = append(missing[a], i)
			}
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	var made map[int][]trend.Bucket
	err = s.Tx(ctx, func(ctx context.Context) error {
		made = map[int][]trend.Bucket{} // again, when the transaction is retried
		return s.workOutWeeks(ctx, names, missing, edges, made)
	})
	if err != nil {
		return nil, fmt.Errorf("score weeks: %w", err)
	}
	for i, bs := range made {
		for j := range bs {
			out[i].Merge(&bs[j])
		}
	}
	return out, nil
}

// workOutWeeks works out the officers' missing weeks from their scores,
// keeps them, and adds them to made by week.
func (s *Store) workOutWeeks(ctx context.Context, names []string, missing map[string][]int, edges []int64, made map[int][]trend.Bucket) error {
	for _, agent := range names { // in order: the locks are taken in order
		idx := missing[agent]
		if len(idx) == 0 {
			continue
		}
		if s.dialect == PostgreSQL {
			if _, err := s.exec(ctx, s.db, fmt.Sprintf(`SELECT pg_advisory_xact_lock_shared(%d, hashtext(?))`, scoreWeeksLock), agent); err != nil {
				return err
			}
		}
		from, to := edges[idx[0]], edges[idx[len(idx)-1]+1]
		scores, err := s.trendScores(ctx, agent, from, to)
		if err != nil {
			return err
		}
		buckets := map[int]*trend.Bucket{}
		for _, i := range idx {
			buckets[i] = &trend.Bucket{}
		}
		for _, sc := range trend.Pick(scores) {
			i := sort.Search(len(edges), func(k int) bool { return edges[k] > ms(sc.CallStarted) }) - 1
			if b := buckets[i]; b != nil {
				b.Add(sc)
			}
		}
		for _, i := range idx {
			body, err := buckets[i].MarshalBinary()
			if err != nil {
				return err
			}
			if _, err := s.exec(ctx, s.db, `INSERT INTO score_weeks (agent, week_start, week_end, body) VALUES (?, ?, ?, ?)
				ON CONFLICT (agent, week_start, week_end) DO UPDATE SET body = excluded.body`, agent, edges[i], edges[i+1], body); err != nil {
				return fmt.Errorf("keep %s's week from %d: %w", agent, edges[i], err)
			}
			made[i] = append(made[i], *buckets[i])
		}
	}
	return nil
}

// trendScores are the officer's scores of calls started in [from, to)
// that are not superseded, with what trend.Pick and trend.Bucket read of
// them only (SQLite reads them from the scores_trend index alone).
func (s *Store) trendScores(ctx context.Context, agent string, from, to int64) ([]server.Score, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, call_id, call_started, scorecard_id, scorecard_version, completed_at, summary FROM scores
		WHERE agent = ? AND call_started >= ? AND call_started < ? AND superseded_at IS NULL`, agent, from, to)
	if err != nil {
		return nil, fmt.Errorf("scores of %s: %w", agent, err)
	}
	var out []server.Score
	err = eachRow(rows, func(r *sql.Rows) error {
		var (
			v         server.Score
			started   int64
			completed sql.NullInt64
			summary   []byte
		)
		if err := r.Scan(&v.ID, &v.CallID, &started, &v.ScorecardID, &v.ScorecardVersion, &completed, &summary); err != nil {
			return err
		}
		var err error
		if v.Summary, err = decodeSummary(summary); err != nil {
			return fmt.Errorf("score %d: summary: %w", v.ID, err)
		}
		v.Agent, v.CallStarted, v.Completed = agent, fromMS(started), fromNullMS(completed)
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scores of %s: %w", agent, err)
	}
	return out, nil
}

// scoredAgents are the officers with a score of a call started in [from, to).
func (s *Store) scoredAgents(ctx context.Context, from, to int64) ([]string, error) {
	rows, err := s.query(ctx, s.db, `SELECT DISTINCT agent FROM scores WHERE call_started >= ? AND call_started < ?`, from, to)
	if err != nil {
		return nil, fmt.Errorf("scored officers: %w", err)
	}
	names, err := scanStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("scored officers: %w", err)
	}
	return names, nil
}
