package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// The data-protection routes: review, holds, retention, erasure, playing
// and downloading recordings, and the audit. docs/data-protection.md
// explains them to dpos.

func (a *API) needProtect(w http.ResponseWriter) bool {
	if a.o.Protect == nil {
		writeError(w, http.StatusServiceUnavailable, "data-protection service not running")
		return false
	}
	return true
}

func (a *API) myFlags(w http.ResponseWriter, r *http.Request, p server.Principal) {
	since := a.o.Clock().AddDate(0, 0, -30)
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := parseTime("since", v)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		since = t
	}
	flags, err := a.o.Store.MyFlags(r.Context(), p.Username, since, 200)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"flags": flags})
}

func (a *API) play(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id := r.PathValue("id")
	if !server.ValidID(id) {
		writeError(w, http.StatusBadRequest, "bad call id")
		return
	}
	if !a.needProtect(w) {
		return
	}
	if !a.o.Protect.HasKey() {
		a.audit(r, p, server.AuditPlay, id, map[string]any{"refused": "no organisation key on the server"})
		a.fail(w, r, server.ErrNoKey)
		return
	}
	// Audited before a byte goes out: a play cut short was still a play.
	a.audit(r, p, server.AuditPlay, id, nil)
	rep, err := a.o.Protect.Play(r.Context(), id, w, func() {
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.wav"`, id))
		w.WriteHeader(http.StatusOK)
	})
	if err != nil && rep.DataBytes == 0 {
		a.fail(w, r, err)
		return
	}
	if err != nil {
		a.o.Logger.Warn("play cut short", "call", id, "err", err)
	}
}

func (a *API) download(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id := r.PathValue("id")
	if !server.ValidID(id) {
		writeError(w, http.StatusBadRequest, "bad call id")
		return
	}
	rec, err := a.o.Store.Recording(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	switch rec.Status {
	case "deleted":
		a.fail(w, r, fmt.Errorf("recording %s: %w", id, server.ErrGone))
		return
	case "stored":
	default:
		a.fail(w, r, fmt.Errorf("recording %s is still uploading: %w", id, server.ErrConflict))
		return
	}
	f, err := a.o.Blobs.Open(id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	defer f.Close()
	a.audit(r, p, server.AuditDownload, id, map[string]any{"sha256": rec.SHA256, "bytes": rec.Size})
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.wav.age"`, id))
	w.Header().Set("X-Content-SHA256", rec.SHA256)
	if fi, err := f.Stat(); err == nil {
		w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	}
	w.WriteHeader(http.StatusOK)
	io.Copy(w, f)
}

func (a *API) reviewQueue(w http.ResponseWriter, r *http.Request, p server.Principal) {
	q := r.URL.Query()
	f := store.ReviewFilter{CallID: q.Get("call")}
	switch st := q.Get("state"); st {
	case "", "todo":
	case "all":
		f.States = []string{server.ReviewOpen, server.ReviewAwaitingApproval, server.ReviewRedactionPending, server.ReviewAutoRedacted, "approved", server.ReviewDone}
	default:
		f.States = strings.Split(st, ",")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "limit must be a number ≥ 0")
			return
		}
		f.Limit = n
	}
	items, err := a.o.Store.ReviewQueue(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.audit(r, p, server.AuditReviewList, "review", map[string]any{"state": q.Get("state"), "results": len(items)})
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "two_person_deletion": a.twoPerson(), "server_has_key": a.o.Protect != nil && a.o.Protect.HasKey()})
}

func (a *API) twoPerson() bool {
	pol := a.o.Policy
	return pol != nil && pol.Review.TwoPersonDeletion
}

func (a *API) reviewItem(w http.ResponseWriter, r *http.Request, p server.Principal) {
	it, err := a.o.Store.ReviewItem(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.audit(r, p, server.AuditCallRead, it.CallID, map[string]any{"item": it.ID})
	writeJSON(w, http.StatusOK, it)
}

func (a *API) decide(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var d server.Decision
	if err := decode(r, &d); err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.needProtect(w) {
		return
	}
	id := r.PathValue("id")
	it, err := a.o.Protect.Decide(r.Context(), p, id, d)
	detail := map[string]any{"item": id, "action": d.Action, "from_ms": d.FromMS, "to_ms": d.ToMS}
	if err != nil {
		detail["refused"] = err.Error()
		a.audit(r, p, server.AuditReviewDecide, callOf(it, id), detail)
		a.fail(w, r, err)
		return
	}
	detail["state"] = it.State
	a.audit(r, p, server.AuditReviewDecide, it.CallID, detail)
	writeJSON(w, http.StatusOK, it)
}

// callOf is the call an item is about, for the audit's target, or the
// item's id when it could not be read.
func callOf(it server.ReviewItem, id string) string {
	if it.CallID != "" {
		return it.CallID
	}
	return id
}

// Approval is the body of the approve routes.
type Approval struct {
	Approve bool `json:"approve"`
}

func (a *API) approve(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var ap Approval
	if err := decode(r, &ap); err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.needProtect(w) {
		return
	}
	id := r.PathValue("id")
	it, err := a.o.Protect.Approve(r.Context(), p, id, ap.Approve)
	action := server.AuditReviewApprove
	if !ap.Approve {
		action = server.AuditReviewReject
	}
	detail := map[string]any{"item": id}
	if err != nil {
		detail["refused"] = err.Error()
		a.audit(r, p, action, callOf(it, id), detail)
		a.fail(w, r, err)
		return
	}
	a.audit(r, p, action, it.CallID, detail)
	writeJSON(w, http.StatusOK, it)
}

func (a *API) listHolds(w http.ResponseWriter, r *http.Request, p server.Principal) {
	holds, err := a.o.Store.Holds(r.Context(), r.URL.Query().Get("all") != "")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.audit(r, p, server.AuditHoldsList, "holds", map[string]any{"results": len(holds)})
	writeJSON(w, http.StatusOK, map[string]any{"holds": holds, "two_person_lift": a.o.Policy != nil && a.o.Policy.Review.TwoPersonHoldLift})
}

func (a *API) placeHold(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var h server.Hold
	if err := decode(r, &h); err != nil {
		a.fail(w, r, err)
		return
	}
	h, err := a.o.Store.PlaceHold(r.Context(), h, p.Username)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.audit(r, p, server.AuditHoldPlace, holdTarget(h), map[string]any{"hold": h.ID, "reason": h.Reason, "owner": h.Owner,
		"number": server.MaskNumber(h.Number), "agent": h.Agent, "calls": h.Calls})
	writeJSON(w, http.StatusCreated, h)
}

// holdTarget is the audit target of a hold: its call, or "hold:<id>".
func holdTarget(h server.Hold) string {
	if h.CallID != "" {
		return h.CallID
	}
	return "hold:" + strconv.FormatInt(h.ID, 10)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("id %q is not a number: %w", r.PathValue("id"), server.ErrInvalid)
	}
	return id, nil
}

func (a *API) getHold(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	h, err := a.o.Store.Hold(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// LiftRequest is the body of POST /api/v1/holds/{id}/lift.
type LiftRequest struct {
	Reason string `json:"reason"`
}

func (a *API) liftHold(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var req LiftRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if strings.TrimSpace(req.Reason) == "" || len(req.Reason) > 4096 {
		writeError(w, http.StatusBadRequest, "a reason for lifting the hold is required")
		return
	}
	if !a.needProtect(w) {
		return
	}
	h, lifted, err := a.o.Protect.LiftHold(r.Context(), p, id, req.Reason)
	if err != nil {
		a.audit(r, p, server.AuditHoldLiftRequest, "hold:"+strconv.FormatInt(id, 10), map[string]any{"hold": id, "refused": err.Error()})
		a.fail(w, r, err)
		return
	}
	action := server.AuditHoldLiftRequest
	if lifted {
		action = server.AuditHoldLift
	}
	a.audit(r, p, action, holdTarget(h), map[string]any{"hold": id, "reason": req.Reason, "calls": h.Calls})
	writeJSON(w, http.StatusOK, map[string]any{"hold": h, "lifted": lifted})
}

func (a *API) retentionReport(w http.ResponseWriter, r *http.Request, p server.Principal) {
	days := 7
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 3660 {
			writeError(w, http.StatusBadRequest, "days must be a number from 0 to 3660")
			return
		}
		days = n
	}
	now := a.o.Clock()
	rep, err := a.o.Store.RetentionReport(r.Context(), now, now.AddDate(0, 0, days), 1000)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.audit(r, p, server.AuditRetentionReport, "retention", map[string]any{"days": days, "due": rep.DueCount})
	writeJSON(w, http.StatusOK, rep)
}

func (a *API) listTombstones(w http.ResponseWriter, r *http.Request, p server.Principal) {
	q := r.URL.Query()
	from, err := parseTime("from", q.Get("from"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	to, err := parseTime("to", q.Get("to"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ts, err := a.o.Store.Tombstones(r.Context(), from, to, 1000)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tombstones": ts})
}

func (a *API) getTombstone(w http.ResponseWriter, r *http.Request, p server.Principal) {
	t, err := a.o.Store.Tombstone(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// ErasureRequest is the body of POST /api/v1/erasures.
type ErasureRequest struct {
	Number    string `json:"number"`
	Reference string `json:"reference"`
}

func (a *API) listErasures(w http.ResponseWriter, r *http.Request, p server.Principal) {
	es, err := a.o.Store.Erasures(r.Context(), r.URL.Query().Get("state"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"erasures": es})
}

func (a *API) requestErasure(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var req ErasureRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.needProtect(w) {
		return
	}
	e, err := a.o.Protect.RequestErasure(r.Context(), p, req.Number, req.Reference)
	detail := map[string]any{"number": server.MaskNumber(server.NumberKey(req.Number)), "reference": req.Reference}
	if err != nil {
		detail["refused"] = err.Error()
		a.audit(r, p, server.AuditErasureRequest, "erasure", detail)
		a.fail(w, r, err)
		return
	}
	detail["erasure"], detail["state"], detail["erased"], detail["held"] = e.ID, e.State, e.Erased, len(e.Held)
	a.audit(r, p, server.AuditErasureRequest, "erasure:"+strconv.FormatInt(e.ID, 10), detail)
	status := http.StatusOK
	if e.State == server.ErasureAwaitingApproval {
		status = http.StatusAccepted
	}
	writeJSON(w, status, e)
}

func (a *API) approveErasure(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var ap Approval
	if err := decode(r, &ap); err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.needProtect(w) {
		return
	}
	e, err := a.o.Protect.ApproveErasure(r.Context(), p, id, ap.Approve)
	action := server.AuditErasureApprove
	if !ap.Approve {
		action = server.AuditErasureReject
	}
	target := "erasure:" + strconv.FormatInt(id, 10)
	if err != nil {
		a.audit(r, p, action, target, map[string]any{"erasure": id, "approve": ap.Approve, "refused": err.Error()})
		a.fail(w, r, err)
		return
	}
	a.audit(r, p, action, target, map[string]any{"erasure": id, "approve": ap.Approve, "state": e.State, "erased": e.Erased, "held": len(e.Held)})
	writeJSON(w, http.StatusOK, e)
}

func (a *API) searchAudit(w http.ResponseWriter, r *http.Request, p server.Principal) {
	q := r.URL.Query()
	f := server.AuditFilter{Target: q.Get("call"), Actor: q.Get("user"), Action: q.Get("action")}
	if f.Target == "" {
		f.Target = q.Get("target")
	}
	var err error
	if f.From, err = parseTime("from", q.Get("from")); err != nil {
		a.fail(w, r, err)
		return
	}
	if f.To, err = parseTime("to", q.Get("to")); err != nil {
		a.fail(w, r, err)
		return
	}
	for name, dst := range map[string]*int64{"after": &f.AfterSeq, "limit": new(int64)} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s=%q must be a number ≥ 0", name, v))
				return
			}
			*dst = n
			if name == "limit" {
				f.Limit = int(n)
			}
		}
	}
	recs, err := a.o.Store.SearchAudit(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The search is audited after it ran, so it never finds itself.
	a.audit(r, p, server.AuditSearch, "audit", map[string]any{"call": f.Target, "user": f.Actor, "action": f.Action,
		"from": q.Get("from"), "to": q.Get("to"), "results": len(recs)})
	writeJSON(w, http.StatusOK, map[string]any{"records": recs})
}

func (a *API) checkpoint(w http.ResponseWriter, r *http.Request, p server.Principal) {
	cp, err := a.o.Store.Checkpoint(r.Context())
	switch {
	case errors.Is(err, store.ErrNoAuditKey):
		a.fail(w, r, fmt.Errorf("%v: %w", err, server.ErrNoKey))
		return
	case errors.Is(err, store.ErrAuditEmpty):
		// Nothing has been audited yet: no checkpoint is needed.
		a.fail(w, r, fmt.Errorf("%v: %w", err, server.ErrConflict))
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	a.audit(r, p, server.AuditCheckpointed, "audit", map[string]any{"seq": cp.Seq})
	writeJSON(w, http.StatusOK, cp)
}

// RoleChange is the body of POST /api/v1/users/{username}/role.
type RoleChange struct {
	Role server.Role `json:"role"`
}

func (a *API) setRole(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var req RoleChange
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	role, err := server.ParseRole(string(req.Role))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	name := r.PathValue("username")
	old, err := a.o.Store.SetRole(r.Context(), name, role)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.audit(r, p, server.AuditRoleChange, name, map[string]any{"from": old, "to": role})
	writeJSON(w, http.StatusOK, map[string]any{"username": name, "role": role, "previous": old})
}
