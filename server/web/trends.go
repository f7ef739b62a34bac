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
	"github.com/callguard/callguard/server/trend"
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

// cardVersion names a scorecard version.
type cardVersion struct {
	ID      string
	Version int
}

// computeTrends makes the trends of buckets, one a week from first, with
// the criteria's names from cards (each version a bucket counts): a
// criterion's pass rate counts it across the versions that have it, and
// is named by the latest of them.
func computeTrends(buckets []trend.Bucket, first time.Time, cards map[cardVersion]policy.Scorecard) trends {
	var t trends
	type named struct {
		label   string
		version int
	}
	labels := map[string]named{}
	ids := map[string]bool{}
	for _, b := range buckets {
		for k := range b.Criteria {
			ids[k.Scorecard] = true
		}
	}
	seenMeas := map[string]bool{}
	for i, b := range buckets {
		wk := trendWeek{Start: first.AddDate(0, 0, 7*i), Scores: int(b.Scores), Average: b.Totals.Mean(),
			Criteria: map[string]*float64{}, Medians: map[string]*float64{}}
		sums := map[string]trend.Sum{}
		for k, v := range b.Criteria {
			card, ok := cards[cardVersion{k.Scorecard, k.Version}]
			if !ok {
				continue
			}
			cr := card.Criterion(k.ID)
			if cr == nil {
				continue
			}
			key := k.Scorecard + "/" + k.ID
			s := sums[key]
			s.N += v.N
			s.Sum += v.Sum
			sums[key] = s
			if cur, ok := labels[key]; !ok || k.Version > cur.version {
				label := cr.Name
				if len(ids) > 1 {
					label = card.Name + ": " + cr.Name
				}
				labels[key] = named{label, k.Version}
			}
		}
		for key, s := range sums {
			wk.Criteria[key] = s.Mean()
		}
		for name, h := range b.Measures {
			if m := h.Median(); m != nil {
				wk.Medians[name] = m
				seenMeas[name] = true
			}
		}
		t.Weeks = append(t.Weeks, wk)
	}
	for key, n := range labels {
		t.Criteria = append(t.Criteria, trendSeries{Key: key, Label: n.label, Unit: "%", Criterion: true})
	}
	for name := range seenMeas {
		label := policy.MeasureLabel(name)
		if label == "" {
			label = name
		}
		t.Measures = append(t.Measures, trendSeries{Key: name, Label: label, Unit: policy.MeasureUnit(name)})
	}
	sort.Slice(t.Criteria, func(i, j int) bool { return t.Criteria[i].Label < t.Criteria[j].Label })
	sort.Slice(t.Measures, func(i, j int) bool { return t.Measures[i].Key < t.Measures[j].Key })
	return t
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

// loadTrends reads the scope's weeks of scores (the store's buckets of
// each officer's weeks, and this week's days), audited as score.trends: they are personal data
// about the officers.
func (w *Web) loadTrends(r *http.Request, s *Session, sc trendScope) (trends, time.Time, error) {
	first := weekStart(w.o.Clock()).AddDate(0, 0, -7*(sc.Weeks-1))
	// The store keeps a bucket per officer and span asked for. This week,
	// whose calls are still being scored, is asked for by day, so that a
	// new score makes a day stale, not the week; the weeks before it by
	// week.
	var bounds []time.Time
	for i := range sc.Weeks - 1 {
		bounds = append(bounds, first.AddDate(0, 0, 7*i))
	}
	this := first.AddDate(0, 0, 7*(sc.Weeks-1))
	for d := range 8 {
		bounds = append(bounds, this.AddDate(0, 0, d))
	}
	var t trends
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		spans, err := w.o.Store.ScoreWeeks(ctx, sc.Agents, bounds)
		if err != nil {
			return Entry{}, err
		}
		buckets := spans[:sc.Weeks-1]
		var week trend.Bucket
		for i := range spans[sc.Weeks-1:] {
			week.Merge(&spans[sc.Weeks-1+i])
		}
		buckets = append(buckets, week)
		cards := map[cardVersion]policy.Scorecard{}
		scores := 0
		for _, b := range buckets {
			scores += int(b.Scores)
			for k := range b.Criteria {
				key := cardVersion{k.Scorecard, k.Version}
				if _, ok := cards[key]; ok {
					continue
				}
				v, err := w.o.Store.Scorecard(ctx, k.Scorecard, k.Version)
				if err != nil {
					return Entry{}, err
				}
				if cards[key], err = autoscore.ReadCard(v); err != nil {
					return Entry{}, err
				}
			}
		}
		t = computeTrends(buckets, first, cards)
		target := "officers:" + s.Username
		switch {
		case sc.Officer != "":
			target = "officer:" + sc.Officer
		case sc.Team != "":
			target = "team:" + sc.Team
		}
		return Entry{server.AuditScoreTrends, target, map[string]any{"weeks": sc.Weeks, "scores": scores}}, nil
	})
	if err != nil {
		return trends{}, first, err
	}
	return t, first, nil
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
