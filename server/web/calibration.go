package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/callguard/callguard/server"
)

// calibrationRoutes registers the list of calls two or more supervisors
// evaluated, with how far apart they were.
func (w *Web) calibrationRoutes() {
	w.handle(Page{Pattern: "GET /scores/calibration", Roles: Supervisors, Nav: "Calibration"}, w.calibrationPage)
}

// calibrationCall is one call evaluated by two or more supervisors by one
// scorecard version.
type calibrationCall struct {
	CallID, Officer, Scorecard, Started string
	Evaluators                          string
	Totals                              string
	// Spread is the difference between the highest and lowest total, in
	// points; Differ the criteria they answered differently.
	Spread string
	Differ int
}

type calibrationPage struct {
	Weeks int
	Calls []calibrationCall
}

func (w *Web) calibrationPage(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	sc, err := w.trendScope(r, s)
	if err != nil {
		return View{}, err
	}
	first := weekStart(w.o.Clock()).AddDate(0, 0, -7*(sc.Weeks-1))
	d := calibrationPage{Weeks: sc.Weeks}
	err = w.audited(r, s, func(ctx context.Context) (Entry, error) {
		scores, err := w.o.Store.Scores(ctx, server.ScoreFilter{Agents: sc.Agents, CompletedOnly: true, Current: true, From: first, SummaryOnly: true})
		if err != nil {
			return Entry{}, err
		}
		groups := map[string][]server.Score{}
		var keys []string
		for _, score := range scores {
			k := fmt.Sprintf("%s\x00%s\x00%d", score.CallID, score.ScorecardID, score.ScorecardVersion)
			if groups[k] == nil {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], score)
		}
		names := map[string]string{}
		for _, k := range keys {
			g := groups[k]
			if len(g) < 2 {
				continue
			}
			sort.Slice(g, func(i, j int) bool { return g[i].Evaluator < g[j].Evaluator })
			name, ok := names[g[0].ScorecardID]
			if !ok {
				v, err := w.o.Store.Scorecard(ctx, g[0].ScorecardID, g[0].ScorecardVersion)
				if err != nil {
					return Entry{}, err
				}
				name = v.Name
				names[g[0].ScorecardID] = name
			}
			d.Calls = append(d.Calls, calibrate(g, name))
		}
		ids := make([]string, len(d.Calls))
		for i, c := range d.Calls {
			ids[i] = c.CallID
		}
		return Entry{server.AuditScoreRead, "calibration", map[string]any{"calls": ids, "weeks": sc.Weeks}}, nil
	})
	if err != nil {
		return View{}, err
	}
	sort.Slice(d.Calls, func(i, j int) bool { return d.Calls[i].Started > d.Calls[j].Started })
	return View{Template: "calibration", Title: "Calibration", Data: d}, nil
}

// calibrate compares the evaluations of one call, criterion by criterion
// (from their summaries: a criterion one counted and another did not, or
// with other points, differs).
func calibrate(g []server.Score, card string) calibrationCall {
	c := calibrationCall{CallID: g[0].CallID, Officer: g[0].Agent, Scorecard: card, Started: g[0].CallStarted.Local().Format("2006-01-02 15:04")}
	var evs, totals []string
	lo, hi, counted := 101.0, -1.0, 0
	crit := map[string]bool{}
	for _, s := range g {
		evs = append(evs, s.Evaluator)
		t := "not scored"
		if s.Summary.Counted {
			t = percent(s.Summary.Total)
			lo, hi, counted = min(lo, s.Summary.Total), max(hi, s.Summary.Total), counted+1
		}
		totals = append(totals, t)
		for id := range s.Summary.Criteria {
			crit[id] = true
		}
	}
	for id := range crit {
		v0, ok0 := g[0].Summary.Criteria[id]
		for _, s := range g[1:] {
			if v, ok := s.Summary.Criteria[id]; ok != ok0 || v != v0 {
				c.Differ++
				break
			}
		}
	}
	c.Evaluators, c.Totals = strings.Join(evs, ", "), strings.Join(totals, ", ")
	if counted > 1 {
		c.Spread = strconv.FormatFloat(hi-lo, 'f', 0, 64) + " points"
	}
	return c
}
