package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// ErasureService is what the erasure page needs of the data-protection
// service (protect.Service): erasure by number with its two-person rule
// and holds respected, as the API does it.
type ErasureService interface {
	RequestErasure(ctx context.Context, p server.Principal, number, reference string) (server.Erasure, error)
	ApproveErasure(ctx context.Context, p server.Principal, id int64, approve bool) (server.Erasure, error)
}

// erasureRoutes registers erasure by number.
func (w *Web) erasureRoutes() {
	w.handle(Page{Pattern: "GET /erasures", Roles: DPOs, Nav: "Erasure"}, w.erasures)
	w.handle(Page{Pattern: "POST /erasures", Roles: DPOs}, w.requestErasure)
	w.handle(Page{Pattern: "POST /erasures/{id}/approve", Roles: DPOs}, w.approveErasure)
}

type erasuresPage struct {
	Erasures  []server.Erasure
	TwoPerson bool
	Me        string
	Result    *server.Erasure
	Problem   string
	Number    string
	Reference string
}

func (w *Web) erasuresView(r *http.Request, s *Session, d erasuresPage, status int) (View, error) {
	d.TwoPerson = w.o.Policy != nil && w.o.Policy.Review.TwoPersonDeletion
	d.Me = s.Username
	var err error
	if d.Erasures, err = w.o.Store.Erasures(r.Context(), ""); err != nil {
		return View{}, err
	}
	return View{Template: "erasures", Title: "Erasure by number", Data: d, Status: status}, nil
}

func (w *Web) erasures(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	return w.erasuresView(r, s, erasuresPage{}, http.StatusOK)
}

func (w *Web) requestErasure(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	if err := r.ParseForm(); err != nil {
		return View{}, BadInput("The form could not be read. Reload the page and send it again.")
	}
	d := erasuresPage{Number: strings.TrimSpace(r.PostForm.Get("number")), Reference: strings.TrimSpace(r.PostForm.Get("reference"))}
	if r.PostForm.Get("confirm") != "yes" {
		d.Problem = "Tick the box to confirm: an erasure deletes every recording and the personal data of every call of the number that no hold keeps, and cannot be undone."
		return w.erasuresView(r, s, d, http.StatusBadRequest)
	}
	e, err := w.o.Protect.RequestErasure(r.Context(), s.Principal(w.clientIP(r)), d.Number, d.Reference)
	switch {
	case err == nil:
		d.Result, d.Number, d.Reference = &e, "", ""
		return w.erasuresView(r, s, d, http.StatusOK)
	case errors.Is(err, server.ErrInvalid):
		d.Problem = strings.Join(problemsOf(err), " ")
		return w.erasuresView(r, s, d, http.StatusBadRequest)
	}
	return View{}, err
}

func (w *Web) approveErasure(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return View{}, problem(http.StatusNotFound, "There is no erasure with that number.")
	}
	if err := r.ParseForm(); err != nil {
		return View{}, BadInput("The form could not be read. Reload the page and send it again.")
	}
	e, err := w.o.Protect.ApproveErasure(r.Context(), s.Principal(w.clientIP(r)), id, r.PostForm.Get("approve") == "yes")
	switch {
	case err == nil:
		return w.erasuresView(r, s, erasuresPage{Result: &e}, http.StatusOK)
	case errors.Is(err, store.ErrNotIndependent):
		return w.erasuresView(r, s, erasuresPage{Problem: "You cannot be the second person for this erasure: you and the one who asked for it are not independent of each other. Another data-protection officer must approve it."}, http.StatusConflict)
	case errors.Is(err, store.ErrSecondDPO):
		return w.erasuresView(r, s, erasuresPage{Problem: "You asked for this erasure, so you cannot approve it too: a second data-protection officer must."}, http.StatusConflict)
	case errors.Is(err, server.ErrConflict):
		return w.erasuresView(r, s, erasuresPage{Problem: "That erasure is not waiting for approval any more. The list below shows where it stands."}, http.StatusConflict)
	}
	return View{}, err
}
