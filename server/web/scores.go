package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/autoscore"
	"github.com/callguard/callguard/server/scoring"
	"github.com/callguard/callguard/server/trend"
)

// ScoreStore is what the scores on a call's page and the scorecards page
// read and write.
type ScoreStore interface {
	Scores(ctx context.Context, f server.ScoreFilter) ([]server.Score, error)
	Score(ctx context.Context, id int64) (server.Score, error)
	Scorecard(ctx context.Context, id string, version int) (server.ScorecardVersion, error)
	ScorecardVersions(ctx context.Context, id string) ([]server.ScorecardVersion, error)
	ActiveScorecards(ctx context.Context) ([]server.ScorecardVersion, error)
	SaveScorecard(ctx context.Context, c server.ScorecardVersion, by, source string) (server.ScorecardVersion, error)
	CompleteScore(ctx context.Context, from int64, evaluator string, e server.Evaluation) (server.Score, error)
	AddScoreComment(ctx context.Context, scoreID int64, author, kind, text string) (server.ScoreComment, error)
	ScoringQueued(ctx context.Context) (waiting, stuck int, err error)
	// ScoreWeeks is the trends' buckets of the officers' (nil: all) weeks
	// [bounds[i], bounds[i+1]).
	ScoreWeeks(ctx context.Context, agents map[string]bool, bounds []time.Time) ([]trend.Bucket, error)
}

// Supervisors only: scorecards and evaluations are theirs.
var Supervisors = []server.Role{server.RoleSupervisor}

// scoreRoutes registers the evaluation form of a call's score.
func (w *Web) scoreRoutes() {
	w.handle(Page{Pattern: "POST /scores/{id}/complete", Roles: Supervisors}, w.completeScore)
	w.handle(Page{Pattern: "POST /scores/{id}/comments", Roles: Supervisors}, w.commentOnScore)
}

// scoreView is one score on a call's page.
type scoreView struct {
	ID        int64
	Card      string
	Version   int
	Evaluator string
	Total     string
	Completed string
	FailedBy  string
	Sections  []sectionView
	// Form: the session may complete it (a supervisor, on the current
	// automatic score); the form starts from the session's own answers.
	Form     bool
	Comments []server.ScoreComment
	Problems []string
}

type sectionView struct {
	Name     string
	Weight   int
	Score    string
	Criteria []criterionView
}

type criterionView struct {
	ID, Name, Guidance string
	// Automatic: answered from a measure (Value, Evidence), overridable.
	Automatic bool
	// Kind in words, Status in words.
	Kind, Status, Value string
	Evidence            []evidenceLink
	// Options are the manual answers to choose from; Answer the chosen one.
	Options []option
	Answer  string
	Reason  string
	Failed  bool
}

type evidenceLink struct {
	Label string
	// Seek is the player's time in seconds.
	Seek string
}

// calibrationRow is one criterion answered by each evaluator of a call.
type calibrationRow struct {
	Name    string
	Answers []string
	Differs bool
}

type calibrationView struct {
	Card       string
	Evaluators []string
	Rows       []calibrationRow
}

// callScores reads a call's current scores for its page, audited as
// score.read (scores are personal data about the officer).
func (w *Web) callScores(r *http.Request, s *Session, c server.Call) ([]scoreView, []calibrationView, error) {
	// Scores are the supervisors' (of the officer's team): a dpo opening
	// the call for data protection reads none.
	if s.Role != server.RoleSupervisor {
		return nil, nil, nil
	}
	var scores []server.Score
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		var err error
		if err := w.mayRead(ctx, s, c.Agent); err != nil {
			return Entry{}, err
		}
		if scores, err = w.o.Store.Scores(ctx, server.ScoreFilter{CallID: c.ID, Current: true}); err != nil {
			return Entry{}, err
		}
		if len(scores) == 0 {
			return Entry{}, errNothingToAudit
		}
		ids := make([]int64, len(scores))
		for i, sc := range scores {
			ids[i] = sc.ID
		}
		return Entry{server.AuditScoreRead, c.ID, map[string]any{"scores": ids, "officer": c.Agent}}, nil
	})
	if errors.Is(err, errNothingToAudit) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	// Oldest first: the automatic score, then each evaluator's.
	sort.SliceStable(scores, func(i, j int) bool { return scores[i].ID < scores[j].ID })
	var (
		out   []scoreView
		cards = map[string]policy.Scorecard{}
		mine  = map[string]server.Score{}
		byKey = map[string][]server.Score{}
	)
	for _, sc := range scores {
		key := fmt.Sprintf("%s/%d", sc.ScorecardID, sc.ScorecardVersion)
		if sc.Evaluator == s.Username {
			mine[key] = sc
		}
		if sc.Evaluator != "" && sc.Completed != nil {
			byKey[key] = append(byKey[key], sc)
		}
	}
	for _, sc := range scores {
		key := fmt.Sprintf("%s/%d", sc.ScorecardID, sc.ScorecardVersion)
		card, ok := cards[key]
		if !ok {
			v, err := w.o.Store.Scorecard(r.Context(), sc.ScorecardID, sc.ScorecardVersion)
			if err != nil {
				return nil, nil, err
			}
			if err := json.Unmarshal(v.Body, &card); err != nil {
				return nil, nil, fmt.Errorf("scorecard %s: %w", key, err)
			}
			cards[key] = card
		}
		res, _, err := w.rescore(card, sc)
		if err != nil {
			return nil, nil, err
		}
		form := s.Role == server.RoleSupervisor && sc.Evaluator == ""
		answers := sc
		if form {
			if m, ok := mine[key]; ok {
				answers = m
			}
		}
		out = append(out, view(card, sc, res, answers, form))
	}
	var cal []calibrationView
	for key, evs := range byKey {
		if len(evs) < 2 {
			continue
		}
		cal = append(cal, calibration(cards[key], evs, w))
	}
	sort.Slice(cal, func(i, j int) bool { return cal[i].Card < cal[j].Card })
	return out, cal, nil
}

// errNothingToAudit ends an audited read that found nothing to show.
var errNothingToAudit = errors.New("nothing read")

// rescore scores a stored score's measures with its answers.
func (w *Web) rescore(card policy.Scorecard, sc server.Score) (scoring.Result, autoscore.Automatic, error) {
	return autoscore.Evaluate(card, sc)
}

var statusWords = map[string]string{
	scoring.StatusPass:        "passed",
	scoring.StatusFail:        "failed",
	scoring.StatusPoints:      "points",
	scoring.StatusNA:          "not applicable",
	scoring.StatusNotMeasured: "not measured",
	scoring.StatusUnanswered:  "to be answered",
}

func kindWords(cr *policy.Criterion) string {
	switch {
	case cr.Kind == policy.CriterionFailAll && cr.Measure != "":
		return "fail-all, automatic"
	case cr.Kind == policy.CriterionFailAll:
		return "fail-all"
	case cr.Kind == policy.CriterionAutomatic:
		return "automatic"
	}
	return "manual"
}

func percent(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + " %" }

func view(card policy.Scorecard, sc server.Score, res scoring.Result, answers server.Score, form bool) scoreView {
	v := scoreView{ID: sc.ID, Card: card.Name, Version: sc.ScorecardVersion, Evaluator: sc.Evaluator, Form: form,
		Comments: sc.Comments, Problems: res.Problems}
	if v.Evaluator == "" {
		v.Evaluator = "automatic"
	}
	if res.Counted {
		v.Total = percent(res.Total)
	} else {
		v.Total = "not scored yet"
	}
	if sc.Completed != nil {
		v.Completed = when(*sc.Completed)
	}
	if len(res.FailedBy) > 0 {
		names := make([]string, 0, len(res.FailedBy))
		for _, id := range res.FailedBy {
			if cr := card.Criterion(id); cr != nil {
				names = append(names, cr.Name)
			}
		}
		v.FailedBy = strings.Join(names, ", ")
	}
	for i, sr := range res.Sections {
		sv := sectionView{Name: sr.Name, Weight: sr.Weight, Score: "nothing counted yet"}
		if sr.Counted {
			sv.Score = percent(sr.Score)
		}
		for j, c := range sr.Criteria {
			cr := &card.Sections[i].Criteria[j]
			cv := criterionView{ID: c.ID, Name: c.Name, Guidance: cr.Guidance, Kind: kindWords(cr), Automatic: c.Measure != "",
				Status: statusWords[c.Status], Failed: c.Status == scoring.StatusFail}
			if c.Status == scoring.StatusPoints {
				cv.Status = percent(c.Points) + " of its weight"
			}
			if c.Value != nil {
				cv.Value = strconv.FormatFloat(*c.Value, 'f', -1, 64) + " " + c.Unit
			}
			if c.NotMeasured != "" {
				cv.Value = c.NotMeasured
			}
			if c.Overridden {
				cv.Status += fmt.Sprintf(" (changed from %s by %s: %s)", statusWords[c.Automatic], c.By, c.Reason)
			}
			for _, e := range c.Evidence {
				cv.Evidence = append(cv.Evidence, evidenceLink{
					Label: duration(time.Duration(e.FromMS)*time.Millisecond) + " – " + duration(time.Duration(e.ToMS)*time.Millisecond),
					Seek:  strconv.FormatFloat(float64(max(e.FromMS, 0))/1000, 'f', 2, 64)})
			}
			if cv.Automatic {
				cv.Options = []option{{"", "keep the automatic answer"}, {scoring.AnswerYes, "passed"}, {scoring.AnswerNo, "failed"}, {scoring.AnswerNA, "not applicable"}}
				if o, ok := answers.Overrides[c.ID]; ok {
					cv.Answer, cv.Reason = o.Answer, o.Reason
				}
			} else {
				cv.Options = []option{{"", "not answered yet"}}
				if cr.Scale == policy.ScaleOneToFive {
					for n := 1; n <= 5; n++ {
						cv.Options = append(cv.Options, option{strconv.Itoa(n), strconv.Itoa(n)})
					}
				} else {
					cv.Options = append(cv.Options, option{scoring.AnswerYes, "yes"}, option{scoring.AnswerNo, "no"})
				}
				cv.Options = append(cv.Options, option{scoring.AnswerNA, "not applicable"})
				cv.Answer = answers.Manual[c.ID]
			}
			sv.Criteria = append(sv.Criteria, cv)
		}
		v.Sections = append(v.Sections, sv)
	}
	return v
}

// calibration lays two or more evaluators' answers to one scorecard
// version side by side, criterion by criterion.
func calibration(card policy.Scorecard, evs []server.Score, w *Web) calibrationView {
	cv := calibrationView{Card: card.Name}
	results := make([]scoring.Result, len(evs))
	for i, sc := range evs {
		cv.Evaluators = append(cv.Evaluators, sc.Evaluator)
		results[i], _, _ = w.rescore(card, sc)
	}
	for si, s := range card.Sections {
		for ci, cr := range s.Criteria {
			row := calibrationRow{Name: cr.Name}
			for i := range evs {
				got := "—"
				if si < len(results[i].Sections) && ci < len(results[i].Sections[si].Criteria) {
					c := results[i].Sections[si].Criteria[ci]
					got = statusWords[c.Status]
					if c.Answer != "" && c.Status == scoring.StatusPoints {
						got = c.Answer
					}
				}
				if len(row.Answers) > 0 && got != row.Answers[0] {
					row.Differs = true
				}
				row.Answers = append(row.Answers, got)
			}
			cv.Rows = append(cv.Rows, row)
		}
	}
	total := calibrationRow{Name: "Total"}
	for i, r := range results {
		t := "not scored"
		if r.Counted {
			t = percent(r.Total)
		}
		if i > 0 && t != total.Answers[0] {
			total.Differs = true
		}
		total.Answers = append(total.Answers, t)
	}
	cv.Rows = append(cv.Rows, total)
	return cv
}

// completeScore saves a supervisor's evaluation of a call: the manual
// answers, and the automatic answers changed, each with its reason.
func (w *Web) completeScore(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return View{}, problem(http.StatusNotFound, "There is no such score. Open the call's page again.")
	}
	if err := r.ParseForm(); err != nil {
		return View{}, BadInput("The form could not be read. Reload the page and send it again.")
	}
	var callID string
	err = w.audited(r, s, func(ctx context.Context) (Entry, error) {
		base, err := w.o.Store.Score(ctx, id)
		if err != nil {
			return Entry{}, err
		}
		if err := w.mayRead(ctx, s, base.Agent); err != nil {
			return Entry{}, err
		}
		if base.Agent == s.Username {
			return Entry{}, fmt.Errorf("an evaluation of one's own call: %w", server.ErrForbidden)
		}
		callID = base.CallID
		v, err := w.o.Store.Scorecard(ctx, base.ScorecardID, base.ScorecardVersion)
		if err != nil {
			return Entry{}, err
		}
		card, err := autoscore.ReadCard(v)
		if err != nil {
			return Entry{}, err
		}
		manual, overrides := map[string]string{}, map[string]server.Override{}
		for _, sec := range card.Sections {
			for _, cr := range sec.Criteria {
				if cr.Measure != "" {
					if a := r.PostForm.Get("o-" + cr.ID); a != "" {
						overrides[cr.ID] = server.Override{Answer: a, Reason: strings.TrimSpace(r.PostForm.Get("r-" + cr.ID))}
					}
				} else if a := r.PostForm.Get("a-" + cr.ID); a != "" {
					manual[cr.ID] = a
				}
			}
		}
		saved, res, err := autoscore.Complete(ctx, w.o.Store, id, s.Username, manual, overrides)
		if errors.Is(err, scoring.ErrBadAnswer) {
			return Entry{}, BadInput("The evaluation was not saved: " + strings.ReplaceAll(strings.TrimPrefix(err.Error(), scoring.ErrBadAnswer.Error()+": "), "\n", "; ") + ". Go back, correct it and save again.")
		}
		if err != nil {
			return Entry{}, err
		}
		return Entry{server.AuditScoreComplete, base.CallID, map[string]any{"score": saved.ID, "scorecard": base.ScorecardID,
			"version": base.ScorecardVersion, "officer": base.Agent, "answers": len(manual), "overrides": len(overrides), "complete": res.Complete}}, nil
	})
	if err != nil {
		return View{}, err
	}
	http.Redirect(rw, r, "/calls/"+callID+"#score", http.StatusSeeOther)
	return View{}, nil
}

// commentOnScore adds a supervisor's comment to a completed evaluation
// (an answer to the officer's comment or dispute), audited.
func (w *Web) commentOnScore(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return View{}, problem(http.StatusNotFound, "There is no such score. Open the call's page again.")
	}
	text := r.PostFormValue("text")
	if err := server.ValidComment(server.CommentNote, text); err != nil {
		return View{}, BadInput(fmt.Sprintf("Write the comment first (at most %d characters).", server.MaxCommentLength))
	}
	var callID string
	err = w.audited(r, s, func(ctx context.Context) (Entry, error) {
		sc, err := w.o.Store.Score(ctx, id)
		if err != nil {
			return Entry{}, err
		}
		if err := w.mayRead(ctx, s, sc.Agent); err != nil {
			return Entry{}, err
		}
		if sc.Completed == nil {
			return Entry{}, fmt.Errorf("score %d is not an evaluation: %w", id, server.ErrNotFound)
		}
		callID = sc.CallID
		if _, err := w.o.Store.AddScoreComment(ctx, id, s.Username, server.CommentNote, text); err != nil {
			return Entry{}, err
		}
		return Entry{server.AuditScoreComment, sc.CallID, map[string]any{"score": id, "kind": server.CommentNote, "officer": sc.Agent}}, nil
	})
	if err != nil {
		return View{}, err
	}
	http.Redirect(rw, r, "/calls/"+callID+"#score", http.StatusSeeOther)
	return View{}, nil
}
