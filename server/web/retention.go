package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/callguard/callguard/server"
)

// retentionRoutes registers the weekly retention report.
func (w *Web) retentionRoutes() {
	w.handle(Page{Pattern: "GET /retention", Roles: DPOs, Nav: "Retention"}, w.retention)
}

// dueListed is how many of the calls due the page lists (it counts all).
const dueListed = 100

type retentionPage struct {
	Days   int
	Report server.RetentionReport
}

func (w *Web) retention(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	d := retentionPage{Days: 7}
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 3660 {
			return View{}, BadInput("The number of days must be a whole number from 0 to 3660.")
		}
		d.Days = n
	}
	now := w.o.Clock()
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		var err error
		d.Report, err = w.o.Store.RetentionReport(ctx, now, now.AddDate(0, 0, d.Days), dueListed)
		return Entry{server.AuditRetentionReport, "retention", map[string]any{"days": d.Days, "due": d.Report.DueCount}}, err
	})
	if err != nil {
		return View{}, err
	}
	return View{Template: "retention", Title: "Retention", Data: d}, nil
}
