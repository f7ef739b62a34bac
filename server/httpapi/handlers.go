package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/store"
	"github.com/callguard/callguard/wire"
)

// EnrollRequest is the body of POST /api/v1/enroll.
type EnrollRequest struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	DeviceName string `json:"device_name"`
}

func (a *API) enroll(w http.ResponseWriter, r *http.Request) {
	var req EnrollRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Username == "" || req.Password == "" {
		writeError(w, http.StatusBadRequest, "username and password are required")
		return
	}
	if req.DeviceName == "" {
		req.DeviceName = "desktop"
	}
	if len(req.DeviceName) > 128 || len(req.Username) > 128 {
		writeError(w, http.StatusBadRequest, "username and device_name have at most 128 characters")
		return
	}
	// The attempt is reserved before the password is checked, so guesses
	// sent at once count against each other.
	p := server.Principal{IP: a.clientIP(r)}
	attempt, wait := a.o.Limiter.Reserve(strings.ToLower(req.Username), p.IP)
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed logins: try again in %d s", secs))
		return
	}
	u, hash, err := a.o.Store.UserByName(r.Context(), req.Username)
	switch {
	case errors.Is(err, server.ErrNotFound):
		auth.SpendCheck(req.Password, a.o.BcryptCost)
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		err = auth.CheckPassword(hash, req.Password)
	}
	if err != nil {
		a.auditRefusal(r, p, server.AuditLoginFailed, req.Username, nil)
		writeError(w, http.StatusUnauthorized, "wrong username or password")
		return
	}
	attempt.Succeeded()
	p = server.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, IP: p.IP}
	if u.Disabled {
		a.auditRefusal(r, p, server.AuditLoginFailed, u.Username, map[string]any{"why": "account disabled"})
		writeError(w, http.StatusForbidden, "account disabled")
		return
	}
	tok, th := auth.NewToken()
	p.DeviceID = auth.NewID()
	err = a.audited(r, p, func(ctx context.Context) (entry, error) {
		return entry{server.AuditLogin, u.Username, map[string]any{"device_name": req.DeviceName}},
			a.o.Store.CreateDevice(ctx, p.DeviceID, u.ID, req.DeviceName, th)
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, server.Enrolment{Token: tok, DeviceID: p.DeviceID, Role: u.Role, Agent: u.Username})
}

// Me is the body of GET /api/v1/me.
type Me struct {
	Username string      `json:"username"`
	Role     server.Role `json:"role"`
	DeviceID string      `json:"device_id"`
	// ServerTime and TokenExpires tell a client that sends no heartbeats
	// (a collector) when to rotate its token, by the server's clock.
	ServerTime   time.Time  `json:"server_time"`
	TokenExpires *time.Time `json:"token_expires,omitempty"`
}

func (a *API) me(w http.ResponseWriter, r *http.Request, p server.Principal) {
	m := Me{Username: p.Username, Role: p.Role, DeviceID: p.DeviceID, ServerTime: a.o.Clock().UTC()}
	if !p.TokenExpires.IsZero() {
		exp := p.TokenExpires.UTC()
		m.TokenExpires = &exp
	}
	writeJSON(w, http.StatusOK, m)
}

func (a *API) events(w http.ResponseWriter, r *http.Request, p server.Principal) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items, err := server.DecodeBatch(body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.allowEvents(w, p, len(items)) {
		return
	}
	res, err := a.o.Store.IngestBatch(r.Context(), p, items)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if res.Refused > 0 {
		a.o.Logger.Warn("events refused", "device", p.DeviceID, "agent", p.Username, "refused", res.Refused, "first", firstRefusal(res.Results))
	}
	a.o.Board.Events(r.Context(), p.Username, p.DeviceID, res.Applied)
	if res.Redactions > 0 && a.o.Protect != nil {
		a.o.Protect.Kick() // card details: redact at once
	}
	writeJSON(w, http.StatusOK, res.Reply())
}

// firstRefusal is the reason of the first refused event, for the log.
func firstRefusal(results []wire.EventResult) string {
	for _, r := range results {
		if r.Status == wire.Refused {
			return r.ID + ": " + r.Reason
		}
	}
	return ""
}

// HeartbeatReply is the body answering POST /api/v1/heartbeat.
type HeartbeatReply struct {
	ServerTime time.Time `json:"server_time"`
	// TokenExpires is when the device's token stops working: the desktop
	// rotates it before then (POST /api/v1/devices/self/rotate).
	TokenExpires *time.Time `json:"token_expires,omitempty"`
}

func (a *API) heartbeat(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var hb server.Heartbeat
	if err := decode(r, &hb); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := hb.Validate(); err != nil {
		a.fail(w, r, err)
		return
	}
	a.o.Board.Heartbeat(r.Context(), p.Username, p.DeviceID, hb)
	a.touch(r, p)
	reply := HeartbeatReply{ServerTime: a.o.Clock().UTC()}
	if !p.TokenExpires.IsZero() {
		exp := p.TokenExpires.UTC()
		reply.TokenExpires = &exp
	}
	writeJSON(w, http.StatusOK, reply)
}

// parseTime reads an RFC 3339 time or a date (YYYY-MM-DD, UTC midnight).
func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s=%q: want RFC 3339 (2026-03-02T09:00:00Z) or a date (2026-03-02): %w", name, v, server.ErrInvalid)
}

func (a *API) searchCalls(w http.ResponseWriter, r *http.Request, p server.Principal) {
	q := r.URL.Query()
	f := server.CallFilter{Number: q.Get("number"), Agent: q.Get("agent")}
	var err error
	if f.From, err = parseTime("from", q.Get("from")); err != nil {
		a.fail(w, r, err)
		return
	}
	if f.To, err = parseTime("to", q.Get("to")); err != nil {
		a.fail(w, r, err)
		return
	}
	for name, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s=%q must be a number ≥ 0", name, v))
				return
			}
			*dst = n
		}
	}
	if p.Role == server.RoleAgent {
		if f.Agent != "" && f.Agent != p.Username {
			a.auditDenied(r, p, server.AuditAuthzDenied, "calls", map[string]any{"agent": f.Agent})
			writeError(w, http.StatusForbidden, "agents may read only their own calls")
			return
		}
		f.Agent = p.Username
	}
	if p.Role == server.RoleSupervisor {
		f.Supervisor = p.Username
	}
	// A number search is audited under a keyed hash of the number, so a dpo
	// can find who looked it up; the audit never holds a whole number, so
	// erasing a number never has to rewrite it.
	target := "calls"
	if f.Number != "" {
		target = a.numberTarget(f.Number)
	}
	var calls []server.Call
	err = a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		calls, err = a.o.Store.SearchCalls(ctx, f)
		return entry{server.AuditCallsSearch, target, map[string]any{"number": server.MaskNumber(f.Number), "agent": f.Agent,
			"from": q.Get("from"), "to": q.Get("to"), "results": len(calls)}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": calls})
}

// errOthersCall: an agent asked for another agent's call.
var errOthersCall = errors.New("another agent's call")

func (a *API) call(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id := r.PathValue("id")
	var c server.Call
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		c, err = a.o.Store.Call(ctx, id)
		if err == nil && p.Role == server.RoleAgent && c.Agent != p.Username {
			err = errOthersCall
		}
		if err == nil {
			err = a.mayRead(ctx, p, id)
		}
		return entry{server.AuditCallRead, id, nil}, err
	})
	if errors.Is(err, errOthersCall) {
		// Another agent's call answers as a missing one: an agent learns
		// nothing of calls that are not theirs, not even that they exist.
		a.auditDenied(r, p, server.AuditAuthzDenied, id, map[string]any{"why": "another agent's call"})
		a.fail(w, r, fmt.Errorf("call %s: %w", id, server.ErrNotFound))
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// RecordingStatus is the body of GET /api/v1/recordings/{id} and of the
// upload replies.
type RecordingStatus struct {
	CallID string `json:"call_id"`
	// Status is "none" (nothing uploaded), "uploading", "stored" or
	// "deleted" (by retention, review or erasure, or its deletion has
	// begun: the desktop deletes its copy).
	Status string `json:"status"`
	// Size is the bytes safely stored: the offset the next chunk starts at.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	// UploadedSHA256 is the file as uploaded; SHA256 differs from it once
	// an interval was redacted.
	UploadedSHA256 string `json:"uploaded_sha256,omitempty"`
	// Redactions are the stored manifest's: the stretches silenced, of kind
	// "dtmf" (keypad tones, by the recorder) or "review" (by the server).
	// Times only; never what was silenced.
	Redactions []artefact.Redaction `json:"redactions,omitempty"`
}

// status is the recording status of the call with the server's id
// callID; the reply names the call as the caller did (ref).
func (a *API) status(r *http.Request, ref, callID string) (RecordingStatus, error) {
	st := RecordingStatus{CallID: ref, Status: "none"}
	if callID == "" {
		return st, nil // nothing sent for it yet
	}
	rec, err := a.o.Store.Recording(r.Context(), callID)
	if err != nil && !errors.Is(err, server.ErrNotFound) {
		return st, err
	}
	if err == nil {
		st.Status, st.SHA256, st.UploadedSHA256 = rec.Status, rec.SHA256, rec.UploadedSHA256
		if m, err := artefact.ParseManifest(rec.Manifest); err == nil && len(rec.Manifest) > 0 {
			st.Redactions = m.Redactions
		}
	}
	// A deletion under way is final: the desktop may drop its copy now,
	// and would only be refused its uploads.
	switch err := a.o.Store.UploadOpen(r.Context(), callID); {
	case errors.Is(err, server.ErrGone):
		st.Status = "deleted"
	case err != nil:
		return st, err
	}
	size, _, err := a.o.Blobs.Size(callID)
	if err != nil {
		return st, err
	}
	st.Size = size
	return st, nil
}

// uploadCall returns the server's id of the call whose recording the
// agent's desktop calls ref ("" when it sent nothing for it yet): the
// upload routes speak the desktop's ids, and an agent has no way to name
// another account's call.
//
// A collector names the call by the server's id (its lookup's call_id),
// and only a call the phone system alone recorded whose recording is not
// another account's (Store.CollectorRecording).
func (a *API) uploadCall(r *http.Request, p server.Principal, ref string) (string, error) {
	if p.Role == server.RoleCollector {
		rec, err := a.o.Store.CollectorRecording(r.Context(), p, ref)
		return rec.CallID, err
	}
	return a.o.Store.RecordingCall(r.Context(), p, ref)
}

// mayUpload answers the refusal when a collector may not upload ref at
// all, before anything of the request is looked at: to a collector, a call
// the phone system did not record is as good as none.
func (a *API) mayUpload(w http.ResponseWriter, r *http.Request, p server.Principal, ref string) bool {
	if p.Role != server.RoleCollector {
		return true
	}
	if _, err := a.uploadCall(r, p, ref); err != nil {
		a.fail(w, r, err)
		return false
	}
	return true
}

// claim returns the recording row the upload of ref writes into, made on
// the first chunk: a desktop's of its own call, a collector's of a call
// the phone system recorded.
func (a *API) claim(r *http.Request, p server.Principal, ref string) (store.Recording, error) {
	if p.Role == server.RoleCollector {
		return a.o.Store.ClaimPhoneRecording(r.Context(), p, ref)
	}
	return a.o.Store.ClaimRecording(r.Context(), p, ref)
}

func (a *API) recordingStatus(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id := r.PathValue("id")
	if !server.ValidID(id) {
		writeError(w, http.StatusBadRequest, "bad call id")
		return
	}
	callID := id
	if p.Role.In(server.RoleAgent, server.RoleCollector) {
		var err error
		if callID, err = a.uploadCall(r, p, id); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	if p.Role == server.RoleSupervisor {
		// A call of her teams only.
		if err := a.mayRead(r.Context(), p, callID); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	st, err := a.status(r, id, callID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *API) audioSize(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id := r.PathValue("id")
	if !server.ValidID(id) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	callID, err := a.uploadCall(r, p, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	st, err := a.status(r, id, callID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(st.Size, 10))
	w.Header().Set("Upload-Complete", strconv.FormatBool(st.Status == "stored"))
	w.WriteHeader(http.StatusOK)
}

func (a *API) audioChunk(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id := r.PathValue("id")
	if !server.ValidID(id) {
		writeError(w, http.StatusBadRequest, "bad call id")
		return
	}
	if !a.mayUpload(w, r, p, id) {
		return
	}
	v := r.URL.Query().Get("offset")
	if v == "" {
		v = r.Header.Get("Upload-Offset")
	}
	offset, err := strconv.ParseInt(v, 10, 64)
	if err != nil || offset < 0 {
		writeError(w, http.StatusBadRequest, "offset query parameter (bytes already uploaded) is required")
		return
	}
	rec, err := a.claim(r, p, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// A chunk may take longer than the server's read timeout, as long as
	// it keeps coming.
	size, err := a.o.Blobs.Append(rec.CallID, offset, a.slowBody(w, r))
	w.Header().Set("Upload-Offset", strconv.FormatInt(size, 10))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, RecordingStatus{CallID: id, Status: "uploading", Size: size})
}

// manifestFields are the manifest fields the server checks; the rest is
// kept as it came.
type manifestFields struct {
	CallID          string `json:"call_id"`
	Complete        bool   `json:"complete"`
	SHA256Encrypted string `json:"sha256_encrypted"`
}

func (a *API) manifest(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id := r.PathValue("id")
	if !server.ValidID(id) {
		writeError(w, http.StatusBadRequest, "bad call id")
		return
	}
	if !a.mayUpload(w, r, p, id) {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var m manifestFields
	if err := json.Unmarshal(body, &m); err != nil {
		writeError(w, http.StatusBadRequest, "malformed manifest JSON: "+err.Error())
		return
	}
	if m.CallID != id {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("manifest is for call %q, not %q", m.CallID, id))
		return
	}
	// The sha256 of the encrypted file: from the manifest when the recorder
	// finished it, else (a recording cut short by a crash) from the client,
	// which hashed the file it uploaded.
	sum, header := strings.ToLower(m.SHA256Encrypted), strings.ToLower(r.Header.Get("Upload-SHA256"))
	switch {
	case m.Complete && sum == "":
		writeError(w, http.StatusBadRequest, "a complete manifest needs sha256_encrypted")
		return
	case sum != "" && header != "" && sum != header:
		writeError(w, http.StatusConflict, "the manifest's sha256_encrypted and the Upload-SHA256 header differ")
		return
	case sum == "":
		sum = header
	}
	if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 {
		writeError(w, http.StatusBadRequest, "sha256 must be 64 hex digits (manifest sha256_encrypted or Upload-SHA256 header)")
		return
	}
	rec, err := a.claim(r, p, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if rec.Status == "stored" && strings.EqualFold(rec.UploadedSHA256, sum) {
		// A resend of a recording stored before (and maybe redacted since).
		writeJSON(w, http.StatusOK, RecordingStatus{CallID: id, Status: "stored", Size: rec.Size, SHA256: rec.SHA256, UploadedSHA256: rec.UploadedSHA256})
		return
	}
	size, err := a.o.Blobs.Finish(rec.CallID, sum, body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// Who stored it, and from which device, is in the audit: a recording
	// need not come from the call's own desktop (a collector's does not).
	err = a.audited(r, p, func(ctx context.Context) (entry, error) {
		return entry{server.AuditRecordingStore, rec.CallID, map[string]any{"role": p.Role, "sha256": sum, "bytes": size}},
			a.o.Store.StoreRecording(ctx, rec.CallID, size, sum, body)
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if a.o.Protect != nil {
		a.o.Protect.Kick() // a card-detail redaction may have waited for it
	}
	if a.o.Scoring != nil {
		a.o.Scoring.Wake()
	}
	writeJSON(w, http.StatusOK, RecordingStatus{CallID: id, Status: "stored", Size: size, SHA256: sum, UploadedSHA256: sum})
}

func (a *API) live(w http.ResponseWriter, r *http.Request, p server.Principal) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{}) // the stream outlives the read timeout; each write has its own deadline
	// A supervisor sees her teams' agents; who they are is read again now
	// and then, so a team change reaches an open board.
	visible := func(string) bool { return true }
	load := func() error {
		all, agents, err := a.o.Store.Supervised(r.Context(), p.Username)
		if err == nil {
			visible = func(agent string) bool { return all || agents[agent] }
		}
		return err
	}
	var reload <-chan time.Time
	if p.Role == server.RoleSupervisor {
		if err := load(); err != nil {
			a.fail(w, r, err)
			return
		}
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		reload = t.C
	}
	sub := a.o.Board.Subscribe()
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	agents := make([]server.AgentState, 0, len(sub.Snapshot))
	for _, st := range sub.Snapshot {
		if visible(st.Agent) {
			agents = append(agents, st)
		}
	}
	snap, _ := json.Marshal(map[string]any{"now": sub.Now.UTC(), "agents": agents})
	fmt.Fprintf(w, "retry: 2000\nevent: snapshot\ndata: %s\n\n", snap)
	fl.Flush()
	keep := time.NewTicker(a.o.Keepalive)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-reload:
			if err := load(); err != nil {
				return // the board reconnects
			}
		case <-keep.C:
			rc.SetWriteDeadline(time.Now().Add(a.o.Timeouts.Stall))
			if _, err := io.WriteString(w, ": keepalive\n\n"); err != nil {
				return
			}
			fl.Flush()
		case m, ok := <-sub.C:
			if !ok {
				return // too slow or the server stops: the client reconnects
			}
			rc.SetWriteDeadline(time.Now().Add(a.o.Timeouts.Stall))
			if visible(m.Agent) {
				if _, err := fmt.Fprintf(w, "event: agent\ndata: %s\n\n", m.Data); err != nil {
					return
				}
			}
			// Send what queued up meanwhile in the same flush.
			for n := len(sub.C); n > 0; n-- {
				m, ok := <-sub.C
				if !ok {
					break
				}
				if visible(m.Agent) {
					fmt.Fprintf(w, "event: agent\ndata: %s\n\n", m.Data)
				}
			}
			fl.Flush()
		}
	}
}

// NewUser is the body of POST /api/v1/users.
type NewUser struct {
	Username string      `json:"username"`
	Role     server.Role `json:"role"`
	Password string      `json:"password"`
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, p server.Principal) {
	users, err := a.o.Store.Users(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if users == nil {
		users = []server.User{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

func (a *API) addUser(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var req NewUser
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := server.ParseRole(string(req.Role)); err != nil {
		a.fail(w, r, err)
		return
	}
	hash, err := auth.HashPassword(req.Password, a.o.BcryptCost)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var u server.User
	err = a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		u, err = a.o.Store.CreateUser(ctx, req.Username, req.Role, hash, false)
		return entry{server.AuditUserAdd, u.Username, map[string]any{"role": u.Role}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (a *API) disableUser(w http.ResponseWriter, r *http.Request, p server.Principal) {
	name := r.PathValue("username")
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		return entry{server.AuditUserDisable, name, nil}, a.o.Store.SetUserDisabled(ctx, name, true)
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"username": name, "disabled": true})
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request, p server.Principal) {
	devs, err := a.o.Store.Devices(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if devs == nil {
		devs = []server.Device{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"devices": devs})
}

// rotateToken gives the calling device a new token, without a password;
// the old one works for server.RotationGrace more.
func (a *API) rotateToken(w http.ResponseWriter, r *http.Request, p server.Principal) {
	old, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok, th := auth.NewToken()
	var exp time.Time
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		exp, err = a.o.Store.RotateToken(ctx, p.DeviceID, auth.HashToken(old), th)
		return entry{server.AuditDeviceRotate, p.DeviceID, map[string]any{"expires": exp}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, server.Rotation{Token: tok, DeviceID: p.DeviceID, Expires: exp.UTC()})
}

func (a *API) revokeDevice(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id := r.PathValue("id")
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		return entry{server.AuditDeviceRevoke, id, nil}, a.o.Store.RevokeDevice(ctx, id)
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "revoked": true})
}
