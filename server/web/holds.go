package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// HoldService is what the holds page needs of the data-protection service
// (protect.Service): the same placing and two-person lifting the API and
// the desktop's dpo view use.
type HoldService interface {
	PlaceHold(ctx context.Context, p server.Principal, h server.Hold) (server.Hold, error)
	LiftHold(ctx context.Context, p server.Principal, id int64, reason string) (server.Hold, bool, error)
}

// holdRoutes registers the holds page and its forms.
func (w *Web) holdRoutes() {
	w.handle(Page{Pattern: "GET /holds", Roles: DPOs, Nav: "Holds"}, w.holds)
	w.handle(Page{Pattern: "POST /holds", Roles: DPOs}, w.placeHold)
	w.handle(Page{Pattern: "POST /holds/{id}/lift", Roles: DPOs}, w.liftHold)
}

type holdsPage struct {
	Holds     []server.Hold
	All       bool
	TwoPerson bool
	Reasons   []string
	Notice    string
	Problems  []string
	Form      holdForm
	Me        string
}

// holdForm is the place-a-hold form as typed.
type holdForm struct {
	Kind, Value, From, To, Reason, Owner, ReviewAt, Note string
}

func (w *Web) holdsView(r *http.Request, s *Session, d holdsPage, status int) (View, error) {
	d.All = r.URL.Query().Get("all") != ""
	d.TwoPerson = w.o.Policy != nil && w.o.Policy.Review.TwoPersonHoldLift
	d.Reasons, d.Me = server.HoldReasons, s.Username
	if d.Form.Kind == "" {
		d.Form.Kind = "call"
	}
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		var err error
		d.Holds, err = w.o.Store.Holds(ctx, d.All)
		return Entry{server.AuditHoldsList, "holds", map[string]any{"results": len(d.Holds)}}, err
	})
	if err != nil {
		return View{}, err
	}
	return View{Template: "holds", Title: "Holds", Data: d, Status: status}, nil
}

func (w *Web) holds(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	d := holdsPage{Form: holdForm{Kind: r.URL.Query().Get("kind"), Value: r.URL.Query().Get("value")}}
	switch q := r.URL.Query(); {
	case q.Get("placed") != "":
		d.Notice = "Hold " + q.Get("placed") + " is placed: the calls it covers are kept until it is lifted."
	case q.Get("asked") != "":
		d.Notice = "You asked to lift hold " + q.Get("asked") + ". A second data-protection officer must now lift it."
	case q.Get("lifted") != "":
		d.Notice = "Hold " + q.Get("lifted") + " is lifted. Calls it kept past their date are deleted by the next retention run, unless another hold keeps them."
	}
	return w.holdsView(r, s, d, http.StatusOK)
}

func (w *Web) placeHold(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	if err := r.ParseForm(); err != nil {
		return View{}, BadInput("The form could not be read. Reload the page and send it again.")
	}
	pf := r.PostForm
	f := holdForm{Kind: pf.Get("kind"), Value: strings.TrimSpace(pf.Get("value")), From: pf.Get("from"), To: pf.Get("to"), Reason: pf.Get("reason"),
		Owner: pf.Get("owner"), ReviewAt: pf.Get("review_at"), Note: pf.Get("note")}
	h := server.Hold{Reason: f.Reason, Owner: strings.TrimSpace(f.Owner), Note: f.Note}
	var problems []string
	switch f.Kind {
	case "call":
		h.CallID = f.Value
	case "number":
		h.Number = f.Value
	case "agent":
		h.Agent = f.Value
	default:
		problems = append(problems, "Choose what the hold covers: one call, a phone number or an officer.")
	}
	if f.Value == "" {
		problems = append(problems, "Say which call, number or officer the hold covers.")
	}
	day := func(name, v string) *time.Time {
		if v == "" {
			return nil
		}
		t, err := time.ParseInLocation(time.DateOnly, v, time.Local)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s (%q) is not a date: use the date picker or write it as 2026-01-31.", name, v))
			return nil
		}
		return &t
	}
	h.From, h.To, h.ReviewAt = day("The first date", f.From), day("The last date", f.To), day("The review date", f.ReviewAt)
	if h.To != nil {
		end := h.To.AddDate(0, 0, 1) // the last day counts
		h.To = &end
	}
	if h.ReviewAt != nil && h.ReviewAt.Before(w.o.Clock()) {
		problems = append(problems, "The review date is in the past: choose when the hold should next be looked at.")
	}
	if len(problems) == 0 {
		got, err := w.o.Protect.PlaceHold(r.Context(), s.Principal(w.clientIP(r)), h)
		switch {
		case err == nil:
			http.Redirect(rw, r, "/holds?placed="+strconv.FormatInt(got.ID, 10), http.StatusSeeOther)
			return View{}, nil
		case errors.Is(err, server.ErrInvalid):
			problems = problemsOf(err)
		case errors.Is(err, server.ErrNotFound):
			problems = []string{"There is no call " + f.Value + "."}
		case errors.Is(err, server.ErrGone):
			problems = []string{"Call " + f.Value + " was deleted already; see its tombstone."}
		default:
			return View{}, err
		}
	}
	return w.holdsView(r, s, holdsPage{Form: f, Problems: problems}, http.StatusBadRequest)
}

func (w *Web) liftHold(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return View{}, problem(http.StatusNotFound, "There is no hold with that number.")
	}
	if err := r.ParseForm(); err != nil {
		return View{}, BadInput("The form could not be read. Reload the page and send it again.")
	}
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if reason == "" || len(reason) > 4096 {
		return w.holdsView(r, s, holdsPage{Problems: []string{"Say why the hold can be lifted (the case closed, the claim settled…)."}}, http.StatusBadRequest)
	}
	_, lifted, err := w.o.Protect.LiftHold(r.Context(), s.Principal(w.clientIP(r)), id, reason)
	switch {
	case err == nil && lifted:
		http.Redirect(rw, r, "/holds?lifted="+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return View{}, nil
	case err == nil:
		http.Redirect(rw, r, "/holds?asked="+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return View{}, nil
	case errors.Is(err, store.ErrNotIndependent):
		return w.holdsView(r, s, holdsPage{Problems: []string{"You cannot be the second person for this hold: you and the one who asked to lift it are not independent of each other (one set up the other's account, or one person set up both recently). Another data-protection officer must lift it."}}, http.StatusConflict)
	case errors.Is(err, store.ErrSecondDPO):
		return w.holdsView(r, s, holdsPage{Problems: []string{"You asked to lift this hold, so you cannot lift it too: a second data-protection officer must."}}, http.StatusConflict)
	case errors.Is(err, server.ErrConflict):
		return w.holdsView(r, s, holdsPage{Problems: []string{"That hold is lifted already."}}, http.StatusConflict)
	}
	return View{}, err
}
