package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/autoscore"
	"github.com/callguard/callguard/server/scoring"
)

// ScoreStore is what the officer's scores routes need of the database.
type ScoreStore interface {
	Scores(ctx context.Context, f server.ScoreFilter) ([]server.Score, error)
	Score(ctx context.Context, id int64) (server.Score, error)
	Scorecard(ctx context.Context, id string, version int) (server.ScorecardVersion, error)
	AddScoreComment(ctx context.Context, scoreID int64, author, kind, text string) (server.ScoreComment, error)
}

// maxMyScores is how many completed scores GET /api/v1/scores/mine answers.
const maxMyScores = 200

// myScores answers the signed-in officer's completed scores, newest
// first, with their comments: never a recording, never another's score.
func (a *API) myScores(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var out []server.OfficerScore
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		scores, err := a.o.Store.Scores(ctx, server.ScoreFilter{Agent: p.Username, CompletedOnly: true, Limit: maxMyScores})
		if err != nil {
			return entry{}, err
		}
		out = make([]server.OfficerScore, 0, len(scores))
		for _, sc := range scores {
			one, err := a.officerScore(ctx, sc)
			if err != nil {
				return entry{}, err
			}
			out = append(out, one)
		}
		return entry{server.AuditScoreList, p.Username, map[string]any{"scores": len(out)}}, nil
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"scores": out})
}

// officerScore is sc in the officer's words.
func (a *API) officerScore(ctx context.Context, sc server.Score) (server.OfficerScore, error) {
	v, err := a.o.Store.Scorecard(ctx, sc.ScorecardID, sc.ScorecardVersion)
	if err != nil {
		return server.OfficerScore{}, err
	}
	card, err := autoscore.ReadCard(v)
	if err != nil {
		return server.OfficerScore{}, err
	}
	res, _, err := autoscore.Evaluate(card, sc)
	if err != nil {
		return server.OfficerScore{}, err
	}
	view := server.OfficerScore{ID: sc.ID, CallID: sc.CallID, Scorecard: card.Name, ScorecardVersion: sc.ScorecardVersion,
		Evaluator: sc.Evaluator, Comments: sc.Comments, Criteria: []server.OfficerCriterion{}}
	if res.Counted {
		t := res.Total
		view.Total = &t
	}
	if view.Comments == nil {
		view.Comments = []server.ScoreComment{}
	}
	if sc.Completed != nil {
		view.Completed = *sc.Completed
	}
	if c, err := a.o.Store.Call(ctx, sc.CallID); err == nil {
		view.CallStarted, view.DesktopCallID = c.Started, c.DesktopID
	}
	for _, id := range res.FailedBy {
		if cr := card.Criterion(id); cr != nil {
			view.ZeroedBy = append(view.ZeroedBy, cr.Name)
		}
	}
	for _, s := range res.Sections {
		for _, c := range s.Criteria {
			oc := server.OfficerCriterion{Section: s.Name, Name: c.Name, Status: c.Status, Points: c.Points, Answer: c.Answer, Reason: c.Reason}
			switch {
			case c.Value != nil:
				oc.Value = strconv.FormatFloat(*c.Value, 'f', -1, 64) + " " + c.Unit
			case c.Status == scoring.StatusNotMeasured:
				oc.Value = c.NotMeasured
			}
			view.Criteria = append(view.Criteria, oc)
		}
	}
	return view, nil
}

// commentRequest is the body of POST /api/v1/scores/{id}/comments.
type commentRequest struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// commentOnScore adds a comment or a dispute to a completed score: the
// officer it scores may do both; a supervisor of the officer's team may
// comment (answer), never dispute. Anyone else's score is not found.
func (a *API) commentOnScore(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "bad score id")
		return
	}
	var req commentRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Kind == "" {
		req.Kind = server.CommentNote
	}
	var c server.ScoreComment
	err = a.audited(r, p, func(ctx context.Context) (entry, error) {
		sc, err := a.o.Store.Score(ctx, id)
		if err != nil {
			return entry{}, err
		}
		if err := a.mayComment(ctx, p, sc, req.Kind); err != nil {
			return entry{}, err
		}
		if c, err = a.o.Store.AddScoreComment(ctx, id, p.Username, req.Kind, req.Text); err != nil {
			return entry{}, err
		}
		return entry{server.AuditScoreComment, sc.CallID, map[string]any{"score": id, "kind": req.Kind, "officer": sc.Agent}}, nil
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

// mayComment fails unless p may add a note of kind to sc: a score not
// completed, or of another officer, or of an officer outside a
// supervisor's teams, is not found; a dispute by anyone but its officer
// is forbidden.
func (a *API) mayComment(ctx context.Context, p server.Principal, sc server.Score, kind string) error {
	notFound := fmt.Errorf("score %d: %w", sc.ID, server.ErrNotFound)
	if sc.Completed == nil {
		return notFound
	}
	switch p.Role {
	case server.RoleAgent:
		if sc.Agent != p.Username {
			return notFound
		}
		return nil
	case server.RoleSupervisor:
		ok, err := a.o.Store.Supervises(ctx, p.Username, sc.Agent)
		if err != nil {
			return err
		}
		if !ok {
			return notFound
		}
		if kind == server.CommentDispute {
			return fmt.Errorf("only the officer a score is of may dispute it: %w", server.ErrForbidden)
		}
		return nil
	}
	return fmt.Errorf("score %d: %w", sc.ID, server.ErrForbidden)
}
