package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/subjectaccess"
)

// caseRoutes registers the subject-access pages: the list of cases, the
// form that opens one, a case with the calls it finds, its extension and
// status changes, and its bundle. Only dpos: an admin holds no personal
// data, and a subject-access request is the dpo's to answer.
func (w *Web) caseRoutes() {
	w.handle(Page{Pattern: "GET /cases", Roles: DPOs, Nav: "Subject access"}, w.cases)
	w.handle(Page{Pattern: "GET /cases/new", Roles: DPOs}, w.newCase)
	w.handle(Page{Pattern: "POST /cases", Roles: DPOs}, w.openCase)
	w.handle(Page{Pattern: "GET /cases/{id}", Roles: DPOs}, w.showCase)
	w.handle(Page{Pattern: "POST /cases/{id}/extend", Roles: DPOs}, w.extendCase)
	w.handle(Page{Pattern: "POST /cases/{id}/status", Roles: DPOs}, w.caseStatus)
	w.handle(Page{Pattern: "GET /cases/{id}/bundle", Roles: DPOs}, w.caseBundle)
}

// caseRow is one case as the list and the case page show it.
type caseRow struct {
	ID                   int64
	Reference, Requester string
	Received, Deadline   string
	Countdown            string
	// Tone is the tag's colour (bad: overdue, warn: due within a week);
	// the words say the same.
	Tone    string
	Status  string
	Overdue bool
}

func (w *Web) caseRow(c server.SARCase) caseRow {
	today := w.o.SubjectAccess.Today()
	r := caseRow{ID: c.ID, Reference: c.Reference, Requester: c.RequesterName, Received: longDate(c.Received),
		Deadline: longDate(c.Deadline), Countdown: countdown(c, today), Status: c.Status.String(), Overdue: c.Overdue(today)}
	switch left := c.DaysLeft(today); {
	case !c.Status.Active():
		r.Tone = "ok"
	case left < 0:
		r.Tone = "bad"
	case left <= 7:
		r.Tone = "warn"
	}
	return r
}

// longDate is a date as people in the UK write it: "31 January 2026".
func longDate(d time.Time) string {
	if d.IsZero() {
		return "—"
	}
	return d.Format("Mon 2 January 2006")
}

// countdown says where case c stands against its deadline on today, in
// words: "due in 5 days", "due tomorrow", "due today", "3 days overdue";
// for a case no longer running, its status.
func countdown(c server.SARCase, today time.Time) string {
	if !c.Status.Active() {
		return c.Status.String()
	}
	switch d := c.DaysLeft(today); {
	case d < -1:
		return fmt.Sprintf("%d days overdue", -d)
	case d == -1:
		return "1 day overdue"
	case d == 0:
		return "due today"
	case d == 1:
		return "due tomorrow"
	default:
		return fmt.Sprintf("due in %d days", d)
	}
}

func (w *Web) cases(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	cs, err := w.o.SubjectAccess.Cases(r.Context(), s.Principal(w.clientIP(r)))
	if err != nil {
		return View{}, err
	}
	rows := make([]caseRow, len(cs))
	for i, c := range cs {
		rows[i] = w.caseRow(c)
	}
	return View{Template: "cases", Title: "Subject-access requests", Data: map[string]any{"Cases": rows, "Today": longDate(w.o.SubjectAccess.Today())}}, nil
}

// caseForm is the form that opens a case, as typed, with its problems.
type caseForm struct {
	Reference, RequesterName, RequesterContact, IdentityMethod, IdentityCheckedBy string
	Received, Numbers, From, To                                                   string
	Problems                                                                      []string
}

func (w *Web) newCase(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	f := caseForm{Received: w.o.SubjectAccess.Today().Format(server.DateLayout), IdentityCheckedBy: s.Username}
	return View{Template: "case-new", Title: "Open a subject-access request", Data: f}, nil
}

func (w *Web) openCase(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	f := caseForm{Reference: r.PostFormValue("reference"), RequesterName: r.PostFormValue("requester_name"),
		RequesterContact: r.PostFormValue("requester_contact"), IdentityMethod: r.PostFormValue("identity_method"),
		IdentityCheckedBy: r.PostFormValue("identity_checked_by"), Received: r.PostFormValue("received"),
		Numbers: r.PostFormValue("numbers"), From: r.PostFormValue("from"), To: r.PostFormValue("to")}
	req := server.SARRequest{Reference: f.Reference, RequesterName: f.RequesterName, RequesterContact: f.RequesterContact,
		IdentityMethod: f.IdentityMethod, IdentityCheckedBy: f.IdentityCheckedBy}
	date := func(what, v string) time.Time {
		if strings.TrimSpace(v) == "" {
			return time.Time{} // Validate says when it is required
		}
		d, err := server.ParseDate(v)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Sprintf("%s: %q is not a date (use the date picker, or write it like 2026-01-31)", what, v))
		}
		return d
	}
	req.Received = date("Received", f.Received)
	req.From = date("Calls from", f.From)
	req.To = date("Calls to", f.To)
	for _, n := range strings.FieldsFunc(f.Numbers, func(r rune) bool { return r == '\n' || r == ',' || r == ';' }) {
		if n = strings.TrimSpace(n); n != "" {
			req.Numbers = append(req.Numbers, n)
		}
	}
	if len(f.Problems) == 0 {
		c, err := w.o.SubjectAccess.Open(r.Context(), s.Principal(w.clientIP(r)), req)
		if err == nil {
			http.Redirect(rw, r, "/cases/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
			return View{}, nil
		}
		if !errors.Is(err, server.ErrInvalid) {
			return View{}, err
		}
		f.Problems = problems(err)
	}
	return View{Template: "case-new", Title: "Open a subject-access request", Data: f, Status: http.StatusBadRequest}, nil
}

// problems are the lines of a domain error that wraps server.ErrInvalid
// or ErrConflict, without the sentinel's words: what the person reads.
func problems(err error) []string {
	msg := err.Error()
	for _, sentinel := range []error{server.ErrInvalid, server.ErrConflict} {
		msg = strings.ReplaceAll(msg, ": "+sentinel.Error(), "")
	}
	var out []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "open a subject-access case: ")
		if line != "" {
			out = append(out, strings.ToUpper(line[:1])+line[1:]+".")
		}
	}
	return out
}

// casePage is what the case page shows.
type casePage struct {
	caseRow
	Case        server.SARCase
	Numbers     string
	Range       string
	Extensions  []stepRow
	History     []stepRow
	Calls       []caseCallRow
	Recordings  int
	CanExtend   bool
	MaxDeadline string
	// MaxDeadlineWords is MaxDeadline as people write it.
	MaxDeadlineWords string
	// NextDeadline is the extension form's suggestion: a month more,
	// within the limit.
	NextDeadline string
	CanSend      bool
	CanClose     bool
	Problems     []string
}

type stepRow struct{ At, By, What, Note string }

type caseCallRow struct {
	ID, Started, Direction, Duration, Officer, Recording string
	Pauses                                               []string
}

func caseID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, BadInput("There is no such case: the address is not a case's.")
	}
	return id, nil
}

func (w *Web) showCase(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	return w.casePage(r, s, nil, http.StatusOK)
}

func (w *Web) casePage(r *http.Request, s *Session, probs []string, status int) (View, error) {
	id, err := caseID(r)
	if err != nil {
		return View{}, err
	}
	svc := w.o.SubjectAccess
	c, calls, err := svc.Calls(r.Context(), s.Principal(w.clientIP(r)), id)
	if err != nil {
		return View{}, err
	}
	loc := svc.Location()
	p := casePage{caseRow: w.caseRow(c), Case: c, Numbers: strings.Join(c.Numbers, ", "), Problems: probs,
		CanExtend: c.Status.CanBecome(server.SARExtended) && len(c.Extensions) < server.MaxSARExtensions,
		CanSend:   c.Status.CanBecome(server.SARSent), CanClose: c.Status.CanBecome(server.SARClosed),
		MaxDeadline: c.MaxDeadline(svc.Holiday).Format(server.DateLayout), MaxDeadlineWords: longDate(c.MaxDeadline(svc.Holiday))}
	next := server.AddMonths(c.Deadline, 1)
	if max := c.MaxDeadline(svc.Holiday); next.After(max) {
		next = max
	}
	p.NextDeadline = next.Format(server.DateLayout)
	switch {
	case !c.From.IsZero() && !c.To.IsZero():
		p.Range = longDate(c.From) + " to " + longDate(c.To)
	case !c.From.IsZero():
		p.Range = "from " + longDate(c.From)
	case !c.To.IsZero():
		p.Range = "up to " + longDate(c.To)
	default:
		p.Range = "all dates"
	}
	for _, e := range c.Extensions {
		p.Extensions = append(p.Extensions, stepRow{At: e.At.In(loc).Format("2 Jan 2006 15:04"), By: e.By,
			What: longDate(e.From) + " → " + longDate(e.To), Note: e.Reason})
	}
	for _, h := range c.History {
		what := "opened"
		if h.From != "" {
			what = h.From + " → " + h.To
		}
		p.History = append(p.History, stepRow{At: h.At.In(loc).Format("2 Jan 2006 15:04"), By: h.By, What: what, Note: h.Note})
	}
	for _, call := range calls {
		row := caseCallRow{ID: call.ID, Started: call.Started.In(loc).Format("2 Jan 2006 15:04:05"), Direction: callDirection(call.Direction),
			Officer: call.Agent, Recording: caseRecordingWords(call.Recording), Duration: "not ended"}
		if call.Ended != nil {
			row.Duration = duration(call.Ended.Sub(call.Started))
		}
		for _, pz := range call.Pauses {
			label := pz.Reason
			if w.o.Policy != nil {
				if pr := w.o.Policy.PauseReason(pz.Reason); pr != nil {
					label = pr.Label
				}
			}
			span := pz.Start.In(loc).Format("15:04:05")
			if pz.End != nil {
				span += "–" + pz.End.In(loc).Format("15:04:05")
			}
			row.Pauses = append(row.Pauses, span+" "+label)
		}
		if call.Recording == server.RecordingStored {
			p.Recordings++
		}
		p.Calls = append(p.Calls, row)
	}
	title := "Subject-access request " + strconv.FormatInt(c.ID, 10)
	if c.Reference != "" {
		title += " (" + c.Reference + ")"
	}
	return View{Template: "case", Title: title, Data: p, Status: status}, nil
}

// callDirection and caseRecordingWords say a call's facts so that each reads
// alone, as a cell does at 200 % zoom where the table's headings go.
func callDirection(d string) string {
	switch d {
	case "inbound":
		return "incoming call"
	case "outbound":
		return "outgoing call"
	}
	return "call"
}

func caseRecordingWords(r string) string {
	switch r {
	case server.RecordingStored:
		return "recording kept"
	case server.RecordingUploading:
		return "recording still uploading"
	case server.RecordingDeleted:
		return "recording deleted"
	}
	return "not recorded"
}

// version is the case version the form was made from.
func version(r *http.Request) (int64, error) {
	v, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || v <= 0 {
		return 0, BadInput("The form is missing the case's version. Reload the case and try again.")
	}
	return v, nil
}

// afterChange redirects to the case after a change, or shows it again
// with what was refused.
func (w *Web) afterChange(rw http.ResponseWriter, r *http.Request, s *Session, id int64, err error) (View, error) {
	switch {
	case err == nil:
		http.Redirect(rw, r, "/cases/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return View{}, nil
	case errors.Is(err, server.ErrConflict):
		return w.casePage(r, s, problems(err), http.StatusConflict)
	case errors.Is(err, server.ErrInvalid):
		return w.casePage(r, s, problems(err), http.StatusBadRequest)
	}
	return View{}, err
}

func (w *Web) extendCase(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	id, err := caseID(r)
	if err != nil {
		return View{}, err
	}
	v, err := version(r)
	if err != nil {
		return View{}, err
	}
	to, err := server.ParseDate(r.PostFormValue("deadline"))
	if err != nil {
		return w.casePage(r, s, []string{fmt.Sprintf("The new deadline %q is not a date (use the date picker, or write it like 2026-01-31).", r.PostFormValue("deadline"))}, http.StatusBadRequest)
	}
	_, err = w.o.SubjectAccess.Extend(r.Context(), s.Principal(w.clientIP(r)), id, v, to, r.PostFormValue("reason"))
	return w.afterChange(rw, r, s, id, err)
}

func (w *Web) caseStatus(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	id, err := caseID(r)
	if err != nil {
		return View{}, err
	}
	v, err := version(r)
	if err != nil {
		return View{}, err
	}
	to, err := server.ParseSARStatus(r.PostFormValue("status"))
	if err != nil {
		return View{}, BadInput("A case can be marked sent or closed.")
	}
	_, err = w.o.SubjectAccess.SetStatus(r.Context(), s.Principal(w.clientIP(r)), id, v, to, r.PostFormValue("note"))
	return w.afterChange(rw, r, s, id, err)
}

func (w *Web) caseBundle(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	id, err := caseID(r)
	if err != nil {
		return View{}, err
	}
	err = w.o.SubjectAccess.Bundle(r.Context(), s.Principal(w.clientIP(r)), id, rw, func() {
		rw.Header().Set("Content-Type", "application/zip")
		rw.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="subject-access-%d.zip"`, id))
		rw.WriteHeader(http.StatusOK)
	})
	if err == nil {
		return View{}, nil
	}
	if errors.Is(err, subjectaccess.ErrNoRecordings) {
		return View{}, &Problem{Status: http.StatusServiceUnavailable, Message: "The server has no organisation key, so it cannot decrypt the recordings for the bundle. IT starts it with --identity.", Err: err}
	}
	if rw.Header().Get("Content-Disposition") != "" {
		// The zip had started: the download is cut short, and the browser
		// says it failed; the log says why.
		w.o.Logger.Error("subject-access bundle cut short", "case", id, "err", err)
		panic(http.ErrAbortHandler)
	}
	return View{}, err
}
