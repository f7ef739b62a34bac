package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// The data-protection routes: review, holds, retention, erasure, playing
// and downloading recordings, and the audit. docs/data-protection.md
// explains them to dpos.

// refused audits a data-protection change that was refused, with why;
// one refused because its audit record could not be written is not
// audited again.
func (a *API) refused(r *http.Request, p server.Principal, action, target string, err error, detail map[string]any) {
	if errors.Is(err, server.ErrAuditFailed) {
		return
	}
	detail["refused"] = err.Error()
	a.auditRefusal(r, p, action, target, detail)
}

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
	if err := a.mayRead(r.Context(), p, id); err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.o.Protect.HasKey() {
		a.auditRefusal(r, p, server.AuditPlay, id, map[string]any{"refused": "no organisation key on the server"})
		a.fail(w, r, server.ErrNoKey)
		return
	}
	// Audited before a byte goes out: a play cut short was still a play.
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		if err := a.mayRead(ctx, p, id); err != nil {
			return entry{}, err
		}
		return entry{server.AuditPlay, id, nil}, a.o.Protect.CheckRedacted(ctx, id)
	})
	if err != nil {
		if errors.Is(err, server.ErrRedactionPending) {
			a.auditRefusal(r, p, server.AuditPlay, id, map[string]any{"refused": "card details not yet silenced"})
		}
		a.fail(w, r, err)
		return
	}
	// The first bytes say what the recording is: Ogg Opus or a WAV.
	started := false
	_, err = a.o.Protect.Play(r.Context(), id, firstWrite(a.streamTo(w), func(head []byte) {
		started = true
		ct, ext := artefact.MediaType(head)
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s%s"`, id, ext))
		w.WriteHeader(http.StatusOK)
	}), nil)
	if err != nil && !started {
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
	if !a.needProtect(w) {
		return
	}
	var rec store.Recording
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		if err := a.mayRead(ctx, p, id); err != nil {
			return entry{}, err
		}
		rec, err = a.o.Store.Recording(ctx, id)
		switch {
		case err != nil:
		case rec.Status == "deleted":
			err = fmt.Errorf("recording %s: %w", id, server.ErrGone)
		case rec.Status != "stored":
			err = fmt.Errorf("recording %s is still uploading: %w", id, server.ErrConflict)
		default:
			// The encrypted file too: whoever holds the key could hear them.
			err = a.o.Protect.CheckRedacted(ctx, id)
		}
		return entry{server.AuditDownload, id, map[string]any{"sha256": rec.SHA256, "bytes": rec.Size}}, err
	})
	if errors.Is(err, server.ErrRedactionPending) {
		a.auditRefusal(r, p, server.AuditDownload, id, map[string]any{"refused": "card details not yet silenced"})
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := a.o.Blobs.Open(id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.wav.age"`, id))
	w.Header().Set("X-Content-SHA256", rec.SHA256)
	if fi, err := f.Stat(); err == nil {
		w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	}
	w.WriteHeader(http.StatusOK)
	io.Copy(a.streamTo(w), f)
}

func (a *API) reviewQueue(w http.ResponseWriter, r *http.Request, p server.Principal) {
	q := r.URL.Query()
	f := store.ReviewFilter{CallID: q.Get("call")}
	switch st := q.Get("state"); st {
	case "", "todo":
	case "all":
		f.States = server.ReviewStates()
	default:
		for _, name := range strings.Split(st, ",") {
			s, err := server.ParseReviewState(name)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			f.States = append(f.States, s)
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "limit must be a number ≥ 0")
			return
		}
		f.Limit = n
	}
	var items []server.ReviewItem
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		items, err = a.o.Store.ReviewQueue(ctx, f)
		return entry{server.AuditReviewList, "review", map[string]any{"state": q.Get("state"), "results": len(items)}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for i := range items {
		items[i] = a.withAllows(items[i])
	}
	writeJSON(w, http.StatusOK, server.ReviewQueue{Items: items, TwoPersonDeletion: a.twoPerson(), ServerHasKey: a.o.Protect != nil && a.o.Protect.HasKey()})
}

// withAllows is it with what a dpo may do with it now; nothing without
// the data-protection service, which every decision needs.
func (a *API) withAllows(it server.ReviewItem) server.ReviewItem {
	it.Allows = nil
	if a.o.Protect != nil {
		it.Allows = a.o.Protect.Allows(it)
	}
	return it
}

func (a *API) twoPerson() bool {
	pol := a.o.Policy
	return pol != nil && pol.Review.TwoPersonDeletion
}

func (a *API) reviewItem(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var it server.ReviewItem
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		it, err = a.o.Store.ReviewItem(ctx, r.PathValue("id"))
		return entry{server.AuditCallRead, it.CallID, map[string]any{"item": it.ID}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.withAllows(it))
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
	// The decision is audited with it, by the service.
	it, err := a.o.Protect.Decide(r.Context(), p, id, d)
	if err != nil {
		a.refused(r, p, server.AuditReviewDecide, callOf(it, id), err, map[string]any{"item": id, "action": d.Action, "from_ms": d.FromMS, "to_ms": d.ToMS})
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.withAllows(it))
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
	if err != nil {
		a.refused(r, p, action, callOf(it, id), err, map[string]any{"item": id})
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.withAllows(it))
}

func (a *API) listHolds(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var holds []server.Hold
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		holds, err = a.o.Store.Holds(ctx, r.URL.Query().Get("all") != "")
		return entry{server.AuditHoldsList, "holds", map[string]any{"results": len(holds)}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"holds": holds, "two_person_lift": a.o.Policy != nil && a.o.Policy.Review.TwoPersonHoldLift})
}

func (a *API) placeHold(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var h server.Hold
	if err := decode(r, &h); err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.needProtect(w) {
		return
	}
	// The hold and its audit record, by the service.
	h, err := a.o.Protect.PlaceHold(r.Context(), p, h)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, h)
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
		a.refused(r, p, server.AuditHoldLiftRequest, "hold:"+strconv.FormatInt(id, 10), err, map[string]any{"hold": id})
		a.fail(w, r, err)
		return
	}
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
	var rep server.RetentionReport
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		rep, err = a.o.Store.RetentionReport(ctx, now, now.AddDate(0, 0, days), 1000)
		return entry{server.AuditRetentionReport, "retention", map[string]any{"days": days, "due": rep.DueCount}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
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
	if err != nil && e.ID == 0 {
		a.refused(r, p, server.AuditErasureRequest, "erasure", err, map[string]any{"number": server.MaskNumber(server.NumberKey(req.Number)), "reference": req.Reference})
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
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
	if err != nil {
		a.refused(r, p, action, server.ErasureTarget(id), err, map[string]any{"erasure": id, "approve": ap.Approve})
		a.fail(w, r, err)
		return
	}
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
	var recs []server.AuditRecord
	err = a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		// The search is audited after it ran, so it never finds itself.
		recs, err = a.o.Store.SearchAudit(ctx, f)
		return entry{server.AuditSearch, "audit", map[string]any{"call": f.Target, "user": f.Actor, "action": f.Action,
			"from": q.Get("from"), "to": q.Get("to"), "results": len(recs)}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": recs})
}

func (a *API) checkpoint(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var cp server.AuditCheckpoint
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		cp, err = a.o.Store.Checkpoint(ctx)
		return entry{server.AuditCheckpointed, "audit", map[string]any{"seq": cp.Seq}}, err
	})
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
	var old server.Role
	err = a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		old, err = a.o.Store.SetRole(ctx, name, role)
		return entry{server.AuditRoleChange, name, map[string]any{"from": old, "to": role}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"username": name, "role": role, "previous": old})
}

// firstWrite calls first with the first bytes written to w, before they
// are written.
func firstWrite(w io.Writer, first func(head []byte)) io.Writer {
	return &firstWriter{w: w, first: first}
}

type firstWriter struct {
	w     io.Writer
	first func([]byte)
}

func (f *firstWriter) Write(p []byte) (int, error) {
	if f.first != nil && len(p) > 0 {
		f.first(p)
		f.first = nil
	}
	return f.w.Write(p)
}
