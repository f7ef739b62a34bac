package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/callguard/callguard/server"
)

// denials keeps forbidden requests from flooding the audit: each
// principal's first server.AuditDenialsPerMinute denials in a minute are
// audited one by one, the rest counted, and one record then says how many
// more there were. What an attacker tried stays in the audit; the audit's
// size does not become theirs to choose.
type denials struct {
	now func() time.Time

	mu      sync.Mutex
	windows map[string]*denialWindow
}

type denialWindow struct {
	start      time.Time
	written    int
	suppressed int
	actor      string
	device     string
	actions    map[string]int
}

func newDenials(now func() time.Time) *denials {
	return &denials{now: now, windows: map[string]*denialWindow{}}
}

// admit says whether a denial of key may be audited by itself, and returns
// the summaries of windows that ended meanwhile.
func (d *denials) admit(key, actor, device, action string) (bool, []server.AuditRecord) {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	done := d.expire(now, false)
	w := d.windows[key]
	if w == nil {
		w = &denialWindow{start: now, actor: actor, device: device, actions: map[string]int{}}
		d.windows[key] = w
	}
	if w.written < server.AuditDenialsPerMinute {
		w.written++
		return true, done
	}
	w.suppressed++
	w.actions[action]++
	return false, done
}

// expire removes the windows that ended by now (all of them if all) and
// returns a summary record for each that left denials out.
func (d *denials) expire(now time.Time, all bool) []server.AuditRecord {
	var out []server.AuditRecord
	for key, w := range d.windows {
		if !all && now.Sub(w.start) < time.Minute {
			continue
		}
		delete(d.windows, key)
		if w.suppressed == 0 {
			continue
		}
		b, _ := json.Marshal(map[string]any{"suppressed": w.suppressed, "actions": w.actions,
			"from": w.start.UTC(), "to": w.start.Add(time.Minute).UTC(), "audited": w.written})
		out = append(out, server.AuditRecord{Actor: w.actor, Device: w.device, Action: server.AuditDenialsSuppressed, Target: "audit", Detail: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Detail < out[j].Detail })
	return out
}

// auditDenied audits a refused request (authz.denied, token.denied) within
// the principal's allowance of denial records.
func (a *API) auditDenied(r *http.Request, p server.Principal, action, target string, detail map[string]any) {
	key := p.Username + "/" + p.DeviceID
	if p.Username == "" && p.DeviceID == "" {
		key = "ip:" + a.clientIP(r)
	}
	ok, done := a.denials.admit(key, p.Username, p.DeviceID, action)
	a.writeSummaries(r.Context(), done)
	if ok {
		a.auditRefusal(r, p, action, target, detail)
	}
}

// AuditDenied is auditDenied for the web workspace, whose refusals share
// the API's allowance per principal (the workspace's sessions are
// principals with a "web:" device).
func (a *API) AuditDenied(r *http.Request, p server.Principal, action, target string, detail map[string]any) {
	a.auditDenied(r, p, action, target, detail)
}

// FlushDenials writes the summary of every denial window that ended (all
// of them when all, at shutdown). The server calls it every few seconds.
func (a *API) FlushDenials(ctx context.Context, all bool) {
	a.denials.mu.Lock()
	done := a.denials.expire(a.denials.now(), all)
	a.denials.mu.Unlock()
	a.writeSummaries(ctx, done)
}

func (a *API) writeSummaries(ctx context.Context, recs []server.AuditRecord) {
	for _, rec := range recs {
		if err := a.o.Store.Audit(context.WithoutCancel(ctx), rec); err != nil {
			a.o.Logger.Error("audit write failed", "action", rec.Action, "err", err)
		}
	}
}

// allowEvents takes n events from the device's allowance, or answers 429.
func (a *API) allowEvents(w http.ResponseWriter, p server.Principal, n int) bool {
	if wait := a.eventRate.Take(p.DeviceID, n); wait > 0 {
		tooMany(w, wait, fmt.Sprintf("too many events from this device (%d in this batch)", n))
		return false
	}
	return true
}

// tooMany answers 429 with Retry-After in whole seconds.
func tooMany(w http.ResponseWriter, wait time.Duration, what string) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, fmt.Sprintf("%s: try again in %d s", what, secs))
}
