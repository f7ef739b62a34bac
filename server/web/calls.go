package web

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
)

// PageSize is how many calls a page of results shows.
const PageSize = 50

// MaxExport is the most calls one CSV export holds.
const MaxExport = 10000

// callRoutes registers the calls pages (search, one call, its recording).
func (w *Web) callRoutes() {
	w.handle(Page{Pattern: "GET /calls", Roles: Listeners, Nav: "Calls"}, w.calls)
	w.handle(Page{Pattern: "GET /calls/export.csv", Roles: Listeners}, w.exportCalls)
}

// callsQuery is the calls page's form, as typed (shown back in the form)
// and as a filter.
type callsQuery struct {
	Number, From, To, Officer, Team, Direction, Flag, Category, Recording string
	After                                                                 string
}

// callsPage is the data of the calls template.
type callsPage struct {
	Q      callsQuery
	Errors []string
	// Searched is false before the first search (an empty form).
	Searched bool
	Rows     []callRow
	// Next is the link of the next page ("" on the last), FirstPage of the
	// first, Export of the CSV export (built from url.Values.Encode, so
	// safe as links).
	Next, FirstPage, Export template.URL
	First                   bool
	// The form's choices.
	Teams      []string
	FlagOpts   []option
	Categories []option
	// Normalised is the number searched for, in E.164.
	Normalised string
}

type option struct{ Value, Label string }

// callRow is one call in the results.
type callRow struct {
	ID, Started, Officer, Direction, Remote, Duration, Paused string
	Pauses                                                    int
	Flags                                                     []string
	Recording, Retention, Category                            string
	Held                                                      bool
}

// filter reads the form into a filter; what is wrong comes back in words,
// one message a field.
func (w *Web) filter(q url.Values) (callsQuery, server.CallFilter, []string) {
	cq := callsQuery{Number: q.Get("number"), From: q.Get("from"), To: q.Get("to"), Officer: strings.TrimSpace(q.Get("officer")),
		Team: q.Get("team"), Direction: q.Get("direction"), Flag: q.Get("flag"), Category: q.Get("category"),
		Recording: q.Get("recording"), After: q.Get("after")}
	var (
		f    server.CallFilter
		errs []string
	)
	if strings.TrimSpace(cq.Number) != "" {
		n, err := server.E164(cq.Number)
		if err != nil {
			errs = append(errs, "Phone number: "+strings.TrimSuffix(err.Error(), ": "+server.ErrInvalid.Error())+".")
		}
		f.E164 = n
	}
	day := func(label, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", v, time.Local)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %q is not a date; use the date picker or write it as 2026-03-02.", label, v))
		}
		return t
	}
	f.From = day("From", cq.From)
	if to := day("To", cq.To); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1) // the whole of the last day
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		errs = append(errs, fmt.Sprintf("Dates: the start (%s) is after the end (%s). Swap them, or change one.", cq.From, cq.To))
	}
	if len(cq.Officer) > 128 {
		errs = append(errs, "Officer: a username has at most 128 characters.")
	}
	f.Agent = cq.Officer
	switch cq.Direction {
	case "", "inbound", "outbound":
		f.Direction = cq.Direction
	default:
		errs = append(errs, "Direction: choose inbound, outbound or either.")
	}
	if cq.Flag != "" && cq.Flag != server.FlagAny && (w.o.Policy == nil || w.o.Policy.FlagReason(cq.Flag) == nil) {
		errs = append(errs, "Flag: choose one of the reasons in the list.")
	}
	f.Flag = cq.Flag
	if cq.Category != "" && !slices.ContainsFunc(w.categories(), func(o option) bool { return o.Value == cq.Category }) {
		errs = append(errs, "Category: choose one of the categories in the list.")
	}
	f.Category = cq.Category
	switch cq.Recording {
	case "", server.RecordingYes, server.RecordingNo:
		f.Recording = cq.Recording
	default:
		errs = append(errs, "Recording: choose with, without or either.")
	}
	f.Team = cq.Team
	if cq.After != "" {
		c, err := parseCursor(cq.After)
		if err != nil {
			errs = append(errs, "This page link is damaged: start the search again from the form.")
		}
		f.After = c
	}
	return cq, f, errs
}

// categories are the retention categories of the policy, for the form.
func (w *Web) categories() []option {
	out := []option{{"default", "Default"}}
	if w.o.Policy != nil {
		for _, r := range w.o.Policy.Retention.Rules {
			out = append(out, option{r.ID, r.ID})
		}
	}
	return out
}

func (w *Web) flagOptions() []option {
	out := []option{{server.FlagAny, "Any reason"}}
	if w.o.Policy != nil {
		for _, f := range w.o.Policy.FlagReasons {
			out = append(out, option{f.ID, f.Label})
		}
	}
	return out
}

// scope keeps a supervisor to her teams' calls (the API's rule).
func scope(s *Session, f *server.CallFilter) {
	if s.Role == server.RoleSupervisor {
		f.Supervisor = s.Username
	}
}

func (w *Web) calls(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	q := r.URL.Query()
	cq, f, errs := w.filter(q)
	p := callsPage{Q: cq, Errors: errs, FlagOpts: w.flagOptions(), Categories: w.categories(), Normalised: f.E164, First: cq.After == ""}
	teams, err := w.o.Store.Teams(r.Context())
	if err != nil {
		return View{}, err
	}
	for _, t := range teams {
		p.Teams = append(p.Teams, t.Name)
	}
	if cq.Team != "" && !slices.Contains(p.Teams, cq.Team) {
		p.Errors = append(p.Errors, "Team: choose one of the teams in the list.")
	}
	view := View{Template: "calls", Title: "Calls", Data: &p}
	if len(p.Errors) > 0 {
		view.Status = http.StatusBadRequest
		return view, nil
	}
	if len(q) == 0 {
		return view, nil // the empty form: nothing read yet
	}
	p.Searched = true
	scope(s, &f)
	f.Limit = PageSize + 1
	var calls []server.Call
	err = w.audited(r, s, func(ctx context.Context) (Entry, error) {
		var err error
		calls, err = w.o.Store.SearchCalls(ctx, f)
		return w.searchEntry(server.AuditCallsSearch, cq, f, len(calls)), err
	})
	if err != nil {
		return View{}, err
	}
	if len(calls) > PageSize {
		calls = calls[:PageSize]
		last := calls[len(calls)-1]
		next := withoutEmpty(q)
		next.Set("after", cursor(last))
		p.Next = template.URL("/calls?" + next.Encode())
	}
	exp := withoutEmpty(q)
	exp.Del("after")
	p.FirstPage = template.URL("/calls?" + exp.Encode())
	p.Export = template.URL("/calls/export.csv?" + exp.Encode())
	for _, c := range calls {
		p.Rows = append(p.Rows, w.row(c))
	}
	return view, nil
}

// searchEntry is the audit record of a search: a number searched for is
// recorded under its keyed hash (as the API does), so a dpo can find who
// looked it up, and the audit never holds the whole number.
func (w *Web) searchEntry(action string, cq callsQuery, f server.CallFilter, results int) Entry {
	target := "calls"
	if f.E164 != "" {
		target = server.NumberTarget(w.o.NumberSecret, f.E164)
	}
	return Entry{action, target, map[string]any{"number": server.MaskNumber(f.E164), "agent": f.Agent, "team": f.Team,
		"from": cq.From, "to": cq.To, "direction": f.Direction, "flag": f.Flag, "category": f.Category,
		"recording": f.Recording, "results": results}}
}

func (w *Web) row(c server.Call) callRow {
	row := callRow{ID: c.ID, Started: when(c.Started), Officer: c.Agent, Direction: c.Direction, Remote: c.Remote.Number,
		Pauses: len(c.Pauses), Paused: duration(time.Duration(c.PausedMS) * time.Millisecond), Recording: recordingWords(c.Recording),
		Retention: when(c.DeleteAfter), Category: c.RetentionRule, Held: c.Held}
	if c.Erased != nil {
		row.Remote = "(erased)"
	}
	if c.Answered != nil && c.Ended != nil {
		row.Duration = duration(c.Ended.Sub(*c.Answered))
	} else if c.Ended != nil {
		row.Duration = "not answered"
	} else {
		row.Duration = "in progress"
	}
	for _, f := range c.Flags {
		row.Flags = append(row.Flags, w.flagLabel(f.Reason))
	}
	return row
}

func (w *Web) flagLabel(id string) string {
	if w.o.Policy != nil {
		if f := w.o.Policy.FlagReason(id); f != nil {
			return f.Label
		}
	}
	return id
}

func recordingWords(status string) string {
	switch status {
	case server.RecordingStored:
		return "stored"
	case server.RecordingUploading:
		return "uploading"
	case server.RecordingDeleted:
		return "deleted"
	}
	return "none"
}

// exportCalls answers the search as CSV, up to MaxExport calls, audited
// as an export (calls.export) in the same transaction as the read.
func (w *Web) exportCalls(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	q := r.URL.Query()
	cq, f, errs := w.filter(q)
	if len(errs) > 0 {
		return View{}, BadInput(strings.Join(errs, " "))
	}
	scope(s, &f)
	f.Limit = 1000
	f.After = nil
	var calls []server.Call
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		calls = calls[:0]
		g := f
		for len(calls) < MaxExport {
			page, err := w.o.Store.SearchCalls(ctx, g)
			if err != nil {
				return Entry{}, err
			}
			calls = append(calls, page...)
			if len(page) < g.Limit {
				break
			}
			last := page[len(page)-1]
			g.After = &server.CallCursor{Started: last.Started, ID: last.ID}
		}
		if len(calls) > MaxExport {
			calls = calls[:MaxExport]
		}
		return w.searchEntry(server.AuditCallsExport, cq, f, len(calls)), nil
	})
	if err != nil {
		return View{}, err
	}
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="calls.csv"`)
	cw := csv.NewWriter(rw)
	cw.Write([]string{"call", "started", "officer", "direction", "number", "duration", "pauses", "paused", "flags", "recording", "category", "delete after", "held"})
	for _, c := range calls {
		row := w.row(c)
		held := "no"
		if row.Held {
			held = "yes"
		}
		cw.Write([]string{row.ID, c.Started.UTC().Format(time.RFC3339), row.Officer, row.Direction, csvSafe(row.Remote), row.Duration,
			strconv.Itoa(row.Pauses), row.Paused, csvSafe(strings.Join(row.Flags, "; ")), row.Recording, csvSafe(row.Category), row.Retention, held})
	}
	cw.Flush()
	return View{}, cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (a number
// such as "+44…" is one such cell: it is quoted with a leading ').
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// cursor and parseCursor write and read the keyset of a page ("ms.id").
func cursor(c server.Call) string {
	return strconv.FormatInt(c.Started.UnixMilli(), 10) + "." + c.ID
}

func parseCursor(v string) (*server.CallCursor, error) {
	ms, id, ok := strings.Cut(v, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || !server.ValidID(id) {
		return nil, errors.New("bad cursor")
	}
	return &server.CallCursor{Started: time.UnixMilli(n).UTC(), ID: id}, nil
}

// withoutEmpty is q without its empty fields (shorter links).
func withoutEmpty(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		if len(vs) > 0 && vs[0] != "" {
			out.Set(k, vs[0])
		}
	}
	return out
}
