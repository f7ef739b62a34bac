package httpapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"

	"github.com/callguard/callguard/server"
)

// Teams: admins manage them; a supervisor sees the agents who share a
// team with her (a server without teams is one team).

// TeamRequest is the body of POST /api/v1/teams.
type TeamRequest struct {
	Name string `json:"name"`
}

// MemberRequest is the body of POST /api/v1/teams/{name}/members.
type MemberRequest struct {
	Username string `json:"username"`
}

func (a *API) listTeams(w http.ResponseWriter, r *http.Request, p server.Principal) {
	teams, err := a.o.Store.Teams(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"teams": teams})
}

func (a *API) addTeam(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var req TeamRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	var t server.Team
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		t, err = a.o.Store.CreateTeam(ctx, req.Name)
		return entry{server.AuditTeamAdd, "team:" + req.Name, nil}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (a *API) removeTeam(w http.ResponseWriter, r *http.Request, p server.Principal) {
	name := r.PathValue("name")
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		return entry{server.AuditTeamRemove, "team:" + name, nil}, a.o.Store.DeleteTeam(ctx, name)
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "removed": true})
}

func (a *API) addMember(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var req MemberRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	name := r.PathValue("name")
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		return entry{server.AuditTeamMemberAdd, "team:" + name, map[string]any{"username": req.Username}}, a.o.Store.AddTeamMember(ctx, name, req.Username)
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"team": name, "username": req.Username})
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request, p server.Principal) {
	name, user := r.PathValue("name"), r.PathValue("username")
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		return entry{server.AuditTeamMemberRemove, "team:" + name, map[string]any{"username": user}}, a.o.Store.RemoveTeamMember(ctx, name, user)
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"team": name, "username": user, "removed": true})
}

// mayRead fails as a missing call would when p is a supervisor outside the
// teams of the call's agent; others pass (the routes' roles decide).
func (a *API) mayRead(ctx context.Context, p server.Principal, callID string) error {
	if p.Role != server.RoleSupervisor {
		return nil
	}
	agent, err := a.agentOf(ctx, callID)
	if err != nil {
		return err
	}
	if agent == p.Username {
		return nil // her own call, from her own desktop
	}
	ok, err := a.o.Store.Supervises(ctx, p.Username, agent)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("call %s: %w", callID, server.ErrNotFound)
	}
	return nil
}

// agentOf is whose call callID is: the call's agent, or, for a recording
// whose call's events have not come, the account that uploads it.
func (a *API) agentOf(ctx context.Context, callID string) (string, error) {
	c, err := a.o.Store.Call(ctx, callID)
	if err == nil || !errors.Is(err, server.ErrNotFound) {
		return c.Agent, err
	}
	rec, rerr := a.o.Store.Recording(ctx, callID)
	if rerr != nil {
		return "", err
	}
	d, derr := a.o.Store.Device(ctx, rec.Device)
	if derr != nil {
		return "", err
	}
	return d.Username, nil
}

// numberTarget is the audit target of a lookup of a phone number.
func (a *API) numberTarget(number string) string {
	return server.NumberTarget(a.o.NumberSecret, number)
}

func randomSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func (a *API) whoLookedUp(w http.ResponseWriter, r *http.Request, p server.Principal) {
	number := r.URL.Query().Get("number")
	if server.NumberKey(number) == "" || len(number) > 128 {
		writeError(w, http.StatusBadRequest, "number is required")
		return
	}
	target := a.numberTarget(number)
	var recs []server.AuditRecord
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		recs, err = a.o.Store.SearchAudit(ctx, server.AuditFilter{Targets: server.NumberTargets(a.o.NumberSecret, number), Limit: 1000})
		return entry{server.AuditNumberLookups, target, map[string]any{"number": server.MaskNumber(server.NumberKey(number)), "results": len(recs)}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": recs})
}
