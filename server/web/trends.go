package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/autoscore"
)

// trendRoutes registers the trends of scores: per officer or per team, by
// week, as the server's SVG charts and as CSV.
func (w *Web) trendRoutes() {
	w.handle(Page{Pattern: "GET /scores/trends", Roles: Supervisors, Nav: "Score trends"}, w.trendsPage)
	w.handle(Page{Pattern: "GET /scores/trends.csv", Roles: Supervisors}, w.trendsCSV)
}

// Weeks the trends may span.
const (
	defaultTrendWeeks = 12
	maxTrendWeeks     = 104
)

// trendWeek is one week of a trend (Monday to Sunday, the server's zone).
type trendWeek struct {
	Start  time.Time
	Scores int
	// Average is the mean total of the scores that counted; nil if none.
	Average *float64
	// Criteria are each criterion's pass rate in per cent (a graded or
	// 1–5 answer counts as its share of the points), by trendKey.
	Criteria map[string]*float64
	// Medians are the measures' medians, by measure name.
	Medians map[string]*float64
}

// trendSeries names one criterion or measure of the trends.
type trendSeries struct {
	Key, Label, Unit string
	// Criterion: a pass rate; else a measure's median.
	Criterion bool
}

// trends is the weeks of one officer's or team's scores.
type trends struct {
	Weeks    []trendWeek
	Criteria []trendSeries
	Measures []trendSeries
}

// weekStart is the Monday 00:00 of t's week, in the server's zone.
func weekStart(t time.Time) time.Time {
	t = t.Local()
	d := (int(t.Weekday()) + 6) % 7
	y, m, day := t.Date()
	return time.Date(y, m, day-d, 0, 0, 0, 0, time.Local)
}

// scored is one call's score the trends count: its latest completed
// evaluation if it has one, else its automatic score.
type scored struct {
	score server.Score
	card  policy.Scorecard
}

// pickScores keeps one score per call and scorecard.
func pickScores(scores []server.Score) []server.Score {
	best := map[string]server.Score{}
	better := func(a, b server.Score) bool { // a over b
		switch {
		case (a.Completed != nil) != (b.Completed != nil):
			return a.Completed != nil
		case a.Completed != nil:
			return a.Completed.After(*b.Completed) || (a.Completed.Equal(*b.Completed) && a.ID > b.ID)
		}
		return a.ID > b.ID
	}
	for _, s := range scores {
		k := s.CallID + "\x00" + s.ScorecardID
		if cur, ok := best[k]; !ok || better(s, cur) {
			best[k] = s
		}
	}
	out := make([]server.Score, 0, len(best))
	for _, s := range best {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// computeTrends groups scores by week from first for weeks weeks.
func computeTrends(items []scored, first time.Time, weeks int) trends {
	var t trends
	index := map[time.Time]int{}
	for i := range weeks {
		start := first.AddDate(0, 0, 7*i)
		index[start] = i
		t.Weeks = append(t.Weeks, trendWeek{Start: start, Criteria: map[string]*float64{}, Medians: map[string]*float64{}})
	}
	type acc struct {
		totals   []float64
		criteria map[string][]float64
		measures map[string][]float64
	}
	accs := make([]acc, weeks)
	for i := range accs {
		accs[i] = acc{criteria: map[string][]float64{}, measures: map[string][]float64{}}
	}
	seenCrit, seenMeas := map[string]bool{}, map[string]bool{}
	cards := map[string]bool{}
	for _, it := range items {
		cards[it.score.ScorecardID] = true
	}
	for _, it := range items {
		i, ok := index[weekStart(it.score.CallStarted)]
		if !ok {
			continue
		}
		t.Weeks[i].Scores++
		a := &accs[i]
		sum := it.score.Summary
		if sum.Counted {
			a.totals = append(a.totals, sum.Total)
		}
		for _, sec := range it.card.Sections {
			for _, cr := range sec.Criteria {
				v, ok := sum.Criteria[cr.ID]
				if !ok {
					continue
				}
				key := it.score.ScorecardID + "/" + cr.ID
				a.criteria[key] = append(a.criteria[key], v)
				if !seenCrit[key] {
					seenCrit[key] = true
					label := cr.Name
					if len(cards) > 1 {
						label = it.card.Name + ": " + cr.Name
					}
					t.Criteria = append(t.Criteria, trendSeries{Key: key, Label: label, Unit: "%", Criterion: true})
				}
			}
		}
		for name, v := range sum.Measures {
			a.measures[name] = append(a.measures[name], v)
			if !seenMeas[name] {
				seenMeas[name] = true
				label := policy.MeasureLabel(name)
				if label == "" {
					label = name
				}
				t.Measures = append(t.Measures, trendSeries{Key: name, Label: label, Unit: policy.MeasureUnit(name)})
			}
		}
	}
	for i, a := range accs {
		t.Weeks[i].Average = mean(a.totals)
		for k, v := range a.criteria {
			t.Weeks[i].Criteria[k] = mean(v)
		}
		for k, v := range a.measures {
			t.Weeks[i].Medians[k] = median(v)
		}
	}
	sort.Slice(t.Criteria, func(i, j int) bool { return t.Criteria[i].Label < t.Criteria[j].Label })
	sort.Slice(t.Measures, func(i, j int) bool { return t.Measures[i].Key < t.Measures[j].Key })
	return t
}

func mean(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	var s float64
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	return &m
}

func median(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	v = slices.Clone(v)
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return &m
}

// trendScope is whose trends a request asks for, as the session may see.
type trendScope struct {
	Officer, Team string
	Weeks         int
	// Agents are the officers counted; nil: every officer.
	Agents map[string]bool
	// Officers and Teams are the choices the form offers.
	Officers, Teams []string
}

// scope reads ?officer= or ?team= and &weeks=, checked against what the
// session supervises: another team's officer is not found, a team the
// supervisor is not in is not hers to read.
func (w *Web) trendScope(r *http.Request, s *Session) (trendScope, error) {
	ctx := r.Context()
	q := r.URL.Query()
	sc := trendScope{Officer: q.Get("officer"), Team: q.Get("team"), Weeks: defaultTrendWeeks}
	if v := q.Get("weeks"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTrendWeeks {
			return sc, BadInput(fmt.Sprintf("The number of weeks must be 1 to %d.", maxTrendWeeks))
		}
		sc.Weeks = n
	}
	all, agents, err := w.o.Store.Supervised(ctx, s.Username)
	if err != nil {
		return sc, err
	}
	teams, err := w.o.Store.Teams(ctx)
	if err != nil {
		return sc, err
	}
	var mine []server.Team
	for _, t := range teams {
		if all || slices.Contains(t.Members, s.Username) {
			mine = append(mine, t)
			sc.Teams = append(sc.Teams, t.Name)
		}
	}
	if !all {
		for a := range agents {
			if a != s.Username {
				sc.Officers = append(sc.Officers, a)
			}
		}
		slices.Sort(sc.Officers)
	}
	switch {
	case sc.Officer != "":
		if err := w.mayRead(ctx, s, sc.Officer); err != nil {
			return sc, err
		}
		sc.Agents = map[string]bool{sc.Officer: true}
	case sc.Team != "":
		i := slices.IndexFunc(mine, func(t server.Team) bool { return t.Name == sc.Team })
		if i < 0 {
			return sc, fmt.Errorf("team %q: %w", sc.Team, server.ErrNotFound)
		}
		sc.Agents = map[string]bool{}
		for _, m := range mine[i].Members {
			if m != s.Username {
				sc.Agents[m] = true
			}
		}
	case !all:
		sc.Agents = map[string]bool{}
		for a := range agents {
			if a != s.Username {
				sc.Agents[a] = true
			}
		}
	}
	return sc, nil
}

// loadTrends reads the scores of the scope's weeks, audited as
// score.trends (they are personal data about the officers).
func (w *Web) loadTrends(r *http.Request, s *Session, sc trendScope) (trends, time.Time, error) {
	first := weekStart(w.o.Clock()).AddDate(0, 0, -7*(sc.Weeks-1))
	var items []scored
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		scores, err := w.o.Store.Scores(ctx, server.ScoreFilter{Agents: sc.Agents, Current: true, From: first, SummaryOnly: true})
		if err != nil {
			return Entry{}, err
		}
		cards := map[string]policy.Scorecard{}
		for _, score := range pickScores(scores) {
			key := fmt.Sprintf("%s/%d", score.ScorecardID, score.ScorecardVersion)
			card, ok := cards[key]
			if !ok {
				v, err := w.o.Store.Scorecard(ctx, score.ScorecardID, score.ScorecardVersion)
				if err != nil {
					return Entry{}, err
				}
				if card, err = autoscore.ReadCard(v); err != nil {
					return Entry{}, err
				}
				cards[key] = card
			}
			items = append(items, scored{score: score, card: card})
		}
		target := "officers:" + s.Username
		switch {
		case sc.Officer != "":
			target = "officer:" + sc.Officer
		case sc.Team != "":
			target = "team:" + sc.Team
		}
		return Entry{server.AuditScoreTrends, target, map[string]any{"weeks": sc.Weeks, "scores": len(items)}}, nil
	})
	if err != nil {
		return trends{}, first, err
	}
	return computeTrends(items, first, sc.Weeks), first, nil
}

type trendsPage struct {
	Scope    trendScope
	Whose    string
	Average  chart
	Criteria []chart
	Measures []chart
	Rows     []trendRow
	Series   []trendSeries
	CSV      string
}

type trendRow struct {
	Week    string
	Scores  int
	Average string
	Values  []trendCell
}

// trendCell is one series' value in a week, with its column's name for a
// table that reflows into one block a week (200 % zoom, a narrow window).
type trendCell struct {
	Label, Value string
}

// Heading is the series' column heading.
func (s trendSeries) Heading() string {
	if s.Criterion {
		return s.Label + " (pass rate %)"
	}
	return s.Label + " (median, " + s.Unit + ")"
}

func optional(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

func (w *Web) trendsPage(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	sc, err := w.trendScope(r, s)
	if err != nil {
		return View{}, err
	}
	t, _, err := w.loadTrends(r, s, sc)
	if err != nil {
		return View{}, err
	}
	d := trendsPage{Scope: sc, Whose: "all the officers you supervise"}
	switch {
	case sc.Officer != "":
		d.Whose = "officer " + sc.Officer
	case sc.Team != "":
		d.Whose = "team " + sc.Team
	}
	q := r.URL.Query()
	d.CSV = "/scores/trends.csv?" + q.Encode()
	labels := make([]string, len(t.Weeks))
	avg := make([]*float64, len(t.Weeks))
	for i, wk := range t.Weeks {
		labels[i] = wk.Start.Format("2 Jan")
		avg[i] = wk.Average
	}
	d.Average = chart{Title: "Average score", Labels: labels, Values: avg, Max: 100, Unit: "%"}
	for _, c := range t.Criteria {
		vals := make([]*float64, len(t.Weeks))
		for i, wk := range t.Weeks {
			vals[i] = wk.Criteria[c.Key]
		}
		d.Criteria = append(d.Criteria, chart{Title: c.Label + ": pass rate", Labels: labels, Values: vals, Max: 100, Unit: "%"})
	}
	for _, m := range t.Measures {
		vals := make([]*float64, len(t.Weeks))
		for i, wk := range t.Weeks {
			vals[i] = wk.Medians[m.Key]
		}
		d.Measures = append(d.Measures, chart{Title: m.Label + ": median", Labels: labels, Values: vals, Unit: m.Unit})
	}
	d.Series = append(append(d.Series, t.Criteria...), t.Measures...)
	for _, wk := range t.Weeks {
		row := trendRow{Week: wk.Start.Format("2 Jan 2006"), Scores: wk.Scores, Average: optional(wk.Average)}
		for _, c := range t.Criteria {
			row.Values = append(row.Values, trendCell{c.Heading(), optional(wk.Criteria[c.Key])})
		}
		for _, m := range t.Measures {
			row.Values = append(row.Values, trendCell{m.Heading(), optional(wk.Medians[m.Key])})
		}
		d.Rows = append(d.Rows, row)
	}
	return View{Template: "trends", Title: "Score trends", Data: d}, nil
}

func (w *Web) trendsCSV(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	sc, err := w.trendScope(r, s)
	if err != nil {
		return View{}, err
	}
	t, _, err := w.loadTrends(r, s, sc)
	if err != nil {
		return View{}, err
	}
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="score-trends.csv"`)
	cw := csv.NewWriter(rw)
	// The labels are the scorecards' words (csvSafe); the cells are numbers.
	head := []string{"week", "scores", "average score %"}
	for _, c := range t.Criteria {
		head = append(head, csvSafe(c.Label+" pass rate %"))
	}
	for _, m := range t.Measures {
		head = append(head, csvSafe(m.Label+" median "+m.Unit))
	}
	cw.Write(head)
	for _, wk := range t.Weeks {
		row := []string{wk.Start.Format(time.DateOnly), strconv.Itoa(wk.Scores), optional(wk.Average)}
		for _, c := range t.Criteria {
			row = append(row, optional(wk.Criteria[c.Key]))
		}
		for _, m := range t.Measures {
			row = append(row, optional(wk.Medians[m.Key]))
		}
		cw.Write(row)
	}
	cw.Flush()
	return View{}, cw.Error()
}
