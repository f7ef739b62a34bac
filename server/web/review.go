package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// ReviewService is what the review page needs of the data-protection
// service (protect.Service): the same decisions, approvals and rules
// (card details cannot be kept, two dpos for a deletion) as the API and
// the desktop's dpo view.
type ReviewService interface {
	Decide(ctx context.Context, p server.Principal, id string, d server.Decision) (server.ReviewItem, error)
	Approve(ctx context.Context, p server.Principal, id string, approve bool) (server.ReviewItem, error)
}

// DPOStore is what the review, retention and erasure pages read.
type DPOStore interface {
	ReviewQueue(ctx context.Context, f store.ReviewFilter) ([]server.ReviewItem, error)
	RetentionReport(ctx context.Context, now, until time.Time, limit int) (server.RetentionReport, error)
	Erasures(ctx context.Context, state string) ([]server.Erasure, error)
}

// reviewRoutes registers the dpos' review queue and its decisions.
func (w *Web) reviewRoutes() {
	w.handle(Page{Pattern: "GET /review", Roles: DPOs, Nav: "Review"}, w.reviewQueue)
	w.handle(Page{Pattern: "POST /review/{id}/decide", Roles: DPOs}, w.decide)
	w.handle(Page{Pattern: "POST /review/{id}/approve", Roles: DPOs}, w.approve)
}

// reviewListed is how many items the queue shows, oldest first: decided
// ones leave it and the next come.
const reviewListed = 50

type reviewPage struct {
	Items     []server.ReviewItem
	TwoPerson bool
	HasKey    bool
	Me        string
	Notice    string
	Problem   string
	Listed    int
}

func (w *Web) reviewView(r *http.Request, s *Session, d reviewPage, status int) (View, error) {
	d.TwoPerson = w.o.Policy != nil && w.o.Policy.Review.TwoPersonDeletion
	d.HasKey, d.Me, d.Listed = w.o.Protect.HasKey(), s.Username, reviewListed
	if d.Notice == "" {
		switch r.URL.Query().Get("done") {
		case "decided":
			d.Notice = "Your decision is recorded."
			if d.TwoPerson {
				d.Notice += " A deletion waits for a second data-protection officer to approve it."
			}
		case "approved":
			d.Notice = "Approved: the deletion is carried out."
		case "rejected":
			d.Notice = "Rejected: the item is back in the queue."
		}
	}
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		var err error
		d.Items, err = w.o.Store.ReviewQueue(ctx, store.ReviewFilter{Limit: reviewListed})
		return Entry{server.AuditReviewList, "review", map[string]any{"results": len(d.Items)}}, err
	})
	if err != nil {
		return View{}, err
	}
	return View{Template: "review", Title: "Review", Data: d, Status: status}, nil
}

func (w *Web) reviewQueue(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	return w.reviewView(r, s, reviewPage{}, http.StatusOK)
}

// seconds reads a time into the recording ("12.5" seconds) as ms.
func seconds(name, v string) (*int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f > 1e7 {
		return nil, BadInput(fmt.Sprintf("%s (%q) must be a number of seconds into the recording, such as 12.5.", name, v))
	}
	ms := int64(math.Round(f * 1000))
	return &ms, nil
}

func (w *Web) decide(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	if err := r.ParseForm(); err != nil {
		return View{}, BadInput("The form could not be read. Reload the page and send it again.")
	}
	d := server.Decision{Action: r.PostForm.Get("action"), Note: r.PostForm.Get("note")}
	var err error
	if d.FromMS, err = seconds("The start of the part to silence", r.PostForm.Get("from")); err != nil {
		return View{}, err
	}
	if d.ToMS, err = seconds("The end of the part to silence", r.PostForm.Get("to")); err != nil {
		return View{}, err
	}
	_, err = w.o.Protect.Decide(r.Context(), s.Principal(w.clientIP(r)), r.PathValue("id"), d)
	if err == nil {
		http.Redirect(rw, r, "/review?done=decided", http.StatusSeeOther)
		return View{}, nil
	}
	return w.reviewRefused(r, s, err)
}

func (w *Web) approve(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	if err := r.ParseForm(); err != nil {
		return View{}, BadInput("The form could not be read. Reload the page and send it again.")
	}
	yes := r.PostForm.Get("approve") == "yes"
	_, err := w.o.Protect.Approve(r.Context(), s.Principal(w.clientIP(r)), r.PathValue("id"), yes)
	if err == nil {
		done := "rejected"
		if yes {
			done = "approved"
		}
		http.Redirect(rw, r, "/review?"+url.Values{"done": {done}}.Encode(), http.StatusSeeOther)
		return View{}, nil
	}
	return w.reviewRefused(r, s, err)
}

// reviewRefused shows the queue again with why a decision was refused.
func (w *Web) reviewRefused(r *http.Request, s *Session, err error) (View, error) {
	var msg string
	status := http.StatusConflict
	switch {
	case errors.Is(err, store.ErrNotIndependent):
		msg = "You cannot be the second person for this deletion: you and the one who decided it are not independent of each other. Another data-protection officer must approve it."
	case errors.Is(err, store.ErrSecondDPO):
		msg = "You decided this deletion, so you cannot approve it too: a second data-protection officer must."
	case errors.Is(err, server.ErrInvalid):
		msg, status = strings.Join(problemsOf(err), " "), http.StatusBadRequest
	case errors.Is(err, server.ErrNoKey):
		msg, status = "The server has no organisation key, so it cannot silence part of a recording. IT starts it with --identity.", http.StatusServiceUnavailable
	case errors.Is(err, server.ErrConflict):
		msg = "That is not possible for this item now: " + strings.TrimSuffix(err.Error(), ": "+server.ErrConflict.Error()) + "."
	default:
		return View{}, err
	}
	return w.reviewView(r, s, reviewPage{Problem: msg}, status)
}
