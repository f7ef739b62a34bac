package autoscore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/scoring"
	"github.com/callguard/callguard/server/store"
)

// Store is what the job needs of the database.
type Store interface {
	ScoringDue(ctx context.Context, limit int) ([]string, error)
	ScoringFailed(ctx context.Context, callID string, cause error) error
	WriteAutomaticScores(ctx context.Context, callID string, scores []server.Score) error
	ActiveScorecards(ctx context.Context) ([]server.ScorecardVersion, error)
	SeedScorecards(ctx context.Context, cards []server.ScorecardVersion) (int, error)
	Scorecard(ctx context.Context, id string, version int) (server.ScorecardVersion, error)
	SaveScorecard(ctx context.Context, c server.ScorecardVersion, by, source string) (server.ScorecardVersion, error)
	Recording(ctx context.Context, callID string) (store.Recording, error)
	Call(ctx context.Context, id string) (server.Call, error)
	CallEvents(ctx context.Context, callID string) ([]server.Event, error)
	// Tx runs f in one transaction that the store calls f makes join.
	Tx(ctx context.Context, f func(ctx context.Context) error) error
}

// Automatic is what an automatic score keeps (server.Score.Automatic, as
// JSON): the result and the measures it came from, so an evaluator's
// answers are scored against the same measures later without the
// manifest, and trends take the measures' medians.
type Automatic struct {
	Result   scoring.Result   `json:"result"`
	Measures scoring.Measures `json:"measures"`
}

// DecodeAutomatic reads a score's Automatic.
func DecodeAutomatic(b []byte) (Automatic, error) {
	var a Automatic
	if err := json.Unmarshal(b, &a); err != nil {
		return Automatic{}, fmt.Errorf("automatic score: %w", err)
	}
	return a, nil
}

// Options configure a Job.
type Options struct {
	Store  Store
	Policy *policy.Policy
	Logger *slog.Logger
	// Every is how often the job looks at the queue (default 2 s): a call
	// is scored within a few seconds of its manifest arriving.
	Every time.Duration
	// Batch is how many calls it takes from the queue at a time (default 200).
	Batch int
}

// Job scores the calls in the scoring queue.
type Job struct {
	o    Options
	wake chan struct{}
}

// New returns a job; Run runs it.
func New(o Options) *Job {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Every <= 0 {
		o.Every = 2 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 200
	}
	if o.Policy == nil {
		o.Policy = &policy.Policy{}
	}
	return &Job{o: o, wake: make(chan struct{}, 1)}
}

// Seed brings the policy's scorecards into the store: one not there yet
// is saved as version 1; one whose active version came from the policy
// and differs from it now (IT deployed a changed policy) gets a new
// version, and the calls are scored again. A scorecard last saved in the
// workspace or imported there is left as it is: the supervisors' edit
// stands until they change it.
func (j *Job) Seed(ctx context.Context) error {
	cards := make([]server.ScorecardVersion, 0, len(j.o.Policy.Scorecards))
	for _, c := range j.o.Policy.Scorecards {
		body, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("seed scorecard %q: %w", c.ID, err)
		}
		cards = append(cards, server.ScorecardVersion{ID: c.ID, Name: c.Name, Body: body})
	}
	n, err := j.o.Store.SeedScorecards(ctx, cards)
	if err != nil {
		return err
	}
	if n > 0 {
		j.o.Logger.Info("saved the policy's scorecards as their first versions", "scorecards", n)
	}
	for i, c := range j.o.Policy.Scorecards {
		cur, err := j.o.Store.Scorecard(ctx, c.ID, 0)
		if err != nil {
			return err
		}
		old, err := ReadCard(cur)
		if err != nil || old.Digest() == c.Digest() {
			continue
		}
		if cur.Source != server.ScorecardFromPolicy {
			j.o.Logger.Info("the policy's scorecard differs from the one saved in the workspace, which stands", "scorecard", c.ID, "version", cur.Version)
			continue
		}
		v, err := j.o.Store.SaveScorecard(ctx, cards[i], "policy", server.ScorecardFromPolicy)
		if err != nil {
			return err
		}
		j.o.Logger.Info("the policy's scorecard changed: saved as a new version", "scorecard", c.ID, "version", v.Version)
	}
	return nil
}

// Wake makes a running job look at the queue now.
func (j *Job) Wake() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// Run scores the queue until ctx ends. Seed the policy's scorecards first,
// before anyone can read them (central.Open does, before it serves).
func (j *Job) Run(ctx context.Context) {
	t := time.NewTicker(j.o.Every)
	defer t.Stop()
	for {
		for {
			n, err := j.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				j.o.Logger.Warn("scoring: cannot read the queue", "err", err)
			}
			if err != nil || n < j.o.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-j.wake:
		}
	}
}

// RunOnce scores one batch of the queue and returns how many calls it
// took. A call that cannot be scored stays queued with its error, and is
// tried again (store.MaxScoringAttempts times in all).
func (j *Job) RunOnce(ctx context.Context) (int, error) {
	due, err := j.o.Store.ScoringDue(ctx, j.o.Batch)
	if err != nil {
		return 0, err
	}
	if len(due) == 0 {
		return 0, nil
	}
	cards, err := j.cards(ctx)
	if err != nil {
		return 0, err
	}
	type done struct {
		id     string
		scores []server.Score
	}
	var ok []done
	for _, id := range due {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		scores, err := j.Score(ctx, id, cards)
		if err != nil {
			if err := j.failed(ctx, id, err); err != nil {
				return 0, err
			}
			continue
		}
		ok = append(ok, done{id, scores})
	}
	// The scores of many calls in one transaction: a backfill waits for
	// the disk once a chunk, not once a call. A chunk that fails is written
	// call by call, so one bad call holds up no other.
	for len(ok) > 0 {
		chunk := ok[:min(len(ok), writeChunk)]
		ok = ok[len(chunk):]
		err := j.o.Store.Tx(ctx, func(ctx context.Context) error {
			for _, d := range chunk {
				if err := j.o.Store.WriteAutomaticScores(ctx, d.id, d.scores); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		for _, d := range chunk {
			if err := j.o.Store.WriteAutomaticScores(ctx, d.id, d.scores); err != nil {
				if err := j.failed(ctx, d.id, err); err != nil {
					return 0, err
				}
			}
		}
	}
	return len(due), nil
}

// writeChunk is how many calls' scores go in one transaction.
const writeChunk = 100

// failed logs a call that could not be scored and leaves it queued with
// its error; it is tried again store.MaxScoringAttempts times in all.
func (j *Job) failed(ctx context.Context, id string, cause error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	j.o.Logger.Warn("scoring: cannot score a call", "call", id, "err", cause)
	return j.o.Store.ScoringFailed(ctx, id, cause)
}

// Card is an active scorecard version, read.
type Card struct {
	Version server.ScorecardVersion
	Card    policy.Scorecard
}

// cards reads the active scorecards; one that does not read (it was
// checked when it was saved) is left out and logged.
func (j *Job) cards(ctx context.Context) ([]Card, error) {
	active, err := j.o.Store.ActiveScorecards(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Card, 0, len(active))
	for _, v := range active {
		var c policy.Scorecard
		if err := json.Unmarshal(v.Body, &c); err != nil {
			j.o.Logger.Error("scoring: a saved scorecard does not read", "scorecard", v.ID, "version", v.Version, "err", err)
			continue
		}
		c.ID = v.ID
		out = append(out, Card{Version: v, Card: c})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Version.ID < out[b].Version.ID })
	return out, nil
}

// CardFor returns the card that scores calls of a category: the first (by
// id) that names it, else the first that names none; nil when none does.
func CardFor(cards []Card, category string) *Card {
	var def *Card
	for i := range cards {
		c := &cards[i]
		for _, cat := range c.Card.Categories {
			if cat == category {
				return c
			}
		}
		if len(c.Card.Categories) == 0 && def == nil {
			def = c
		}
	}
	return def
}

// Category is a call's category: its retention rule, or "default".
func Category(c server.Call) string {
	if c.RetentionRule == "" {
		return "default"
	}
	return c.RetentionRule
}

// Score computes a call's automatic score by the card of its category
// (none when no card applies or the recording is gone).
func (j *Job) Score(ctx context.Context, callID string, cards []Card) ([]server.Score, error) {
	rec, err := j.o.Store.Recording(ctx, callID)
	if errors.Is(err, server.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if rec.Status != server.RecordingStored {
		return nil, nil // deleted since: nothing to score
	}
	call, err := j.o.Store.Call(ctx, callID)
	if errors.Is(err, server.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	card := CardFor(cards, Category(call))
	if card == nil {
		return nil, nil
	}
	events, err := j.o.Store.CallEvents(ctx, callID)
	if err != nil && !errors.Is(err, server.ErrNotFound) {
		return nil, err
	}
	var m *artefact.Manifest
	if len(rec.Manifest) > 0 {
		if m, err = artefact.ParseManifest(rec.Manifest); err != nil {
			// Measured without it: the timeline's measures say "not measured".
			j.o.Logger.Warn("scoring: the call's manifest does not read", "call", callID, "err", err)
			m = nil
		}
	}
	a := Automatic{Measures: scoring.Compute(m, call, events, j.o.Policy)}
	a.Result = scoring.Score(card.Card, card.Version.Version, a.Measures, nil)
	body, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("score call %s: %w", callID, err)
	}
	s := server.Score{CallID: callID, Agent: call.Agent, CallStarted: call.Started, ScorecardID: card.Version.ID, ScorecardVersion: card.Version.Version,
		Automatic: body, Summary: Summarise(a.Result, a.Measures)}
	if a.Result.Counted {
		t := a.Result.Total
		s.Total = &t
	}
	return []server.Score{s}, nil
}

// Answers turns a stored score's manual answers and overrides into the
// scoring package's answers.
func Answers(sc server.Score) scoring.Answers {
	a := scoring.Answers{}
	for id, v := range sc.Manual {
		a[id] = scoring.Answer{Value: v, By: sc.Evaluator}
	}
	for id, o := range sc.Overrides {
		a[id] = scoring.Answer{Value: o.Answer, Reason: o.Reason, By: sc.Evaluator}
	}
	return a
}

// Evaluate scores a stored score again: its measures (kept in Automatic)
// with its answers, by the scorecard version it used.
func Evaluate(card policy.Scorecard, sc server.Score) (scoring.Result, Automatic, error) {
	a, err := DecodeAutomatic(sc.Automatic)
	if err != nil {
		return scoring.Result{}, a, err
	}
	return scoring.Score(card, sc.ScorecardVersion, a.Measures, Answers(sc)), a, nil
}

// ReadCard reads a saved scorecard version.
func ReadCard(v server.ScorecardVersion) (policy.Scorecard, error) {
	var c policy.Scorecard
	if err := json.Unmarshal(v.Body, &c); err != nil {
		return c, fmt.Errorf("scorecard %s version %d: %w", v.ID, v.Version, err)
	}
	c.ID = v.ID
	return c, nil
}

// Summarise is what trends count of a result and its measures.
func Summarise(r scoring.Result, ms scoring.Measures) server.ScoreSummary {
	sum := server.ScoreSummary{Counted: r.Counted, Total: r.Total, Criteria: map[string]float64{}, Measures: map[string]float64{}}
	for _, s := range r.Sections {
		for _, c := range s.Criteria {
			switch c.Status {
			case scoring.StatusPass:
				sum.Criteria[c.ID] = 100
			case scoring.StatusFail:
				sum.Criteria[c.ID] = 0
			case scoring.StatusPoints:
				sum.Criteria[c.ID] = c.Points
			}
		}
	}
	for name, m := range ms {
		if m.Measured {
			sum.Measures[name] = m.Value
		}
	}
	return sum
}

// EvaluationStore is what Complete needs of the database.
type EvaluationStore interface {
	Score(ctx context.Context, id int64) (server.Score, error)
	Scorecard(ctx context.Context, id string, version int) (server.ScorecardVersion, error)
	CompleteScore(ctx context.Context, from int64, evaluator string, e server.Evaluation) (server.Score, error)
}

// Complete saves evaluator's evaluation of the call and scorecard version
// score from is of: the manual answers and the automatic answers changed
// (each with its reason), scored against the measures the automatic score
// kept. Answers that do not fit the card are refused, all at once, with an
// error that wraps scoring.ErrBadAnswer and says each in words.
func Complete(ctx context.Context, st EvaluationStore, from int64, evaluator string, manual map[string]string, overrides map[string]server.Override) (server.Score, scoring.Result, error) {
	base, err := st.Score(ctx, from)
	if err != nil {
		return server.Score{}, scoring.Result{}, err
	}
	v, err := st.Scorecard(ctx, base.ScorecardID, base.ScorecardVersion)
	if err != nil {
		return server.Score{}, scoring.Result{}, err
	}
	card, err := ReadCard(v)
	if err != nil {
		return server.Score{}, scoring.Result{}, err
	}
	e := server.Evaluation{Manual: manual, Overrides: overrides}
	answers := Answers(server.Score{Manual: manual, Overrides: overrides, Evaluator: evaluator})
	if err := scoring.CheckAnswers(card, answers); err != nil {
		return server.Score{}, scoring.Result{}, err
	}
	a, err := DecodeAutomatic(base.Automatic)
	if err != nil {
		return server.Score{}, scoring.Result{}, err
	}
	res := scoring.Score(card, base.ScorecardVersion, a.Measures, answers)
	if res.Counted {
		t := res.Total
		e.Total = &t
	}
	e.Summary = Summarise(res, a.Measures)
	saved, err := st.CompleteScore(ctx, from, evaluator, e)
	return saved, res, err
}
