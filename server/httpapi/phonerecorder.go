package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// PhoneRecorder starts and stops the phone system's recording of a call on
// its SIP Call-ID, returning once the phone system confirmed, and says
// which party's media arrive where (Query), so a collector can tell the
// officer's packets in the recording from the caller's.
// *rtpengine.Client implements it.
type PhoneRecorder interface {
	StartRecording(ctx context.Context, sipCallID string) error
	StopRecording(ctx context.Context, sipCallID string) error
	Query(ctx context.Context, sipCallID string) (*rtpengine.Call, error)
}

// phoneRecorder gives a desktop's command to the phone system's recorder
// and answers once it confirmed: 200, 504 when it did not answer in time,
// 502 when it refused. Every attempt and its outcome is in the audit
// (action phone-recorder.record or phone-recorder.stop).
func (a *API) phoneRecorder(w http.ResponseWriter, r *http.Request, p server.Principal) {
	var cmd server.PhoneRecorderCommand
	if err := decode(r, &cmd); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := cmd.Validate(); err != nil {
		a.fail(w, r, err)
		return
	}
	if a.o.PhoneRecorder == nil {
		writeError(w, http.StatusNotImplemented, "this server controls no phone system's recorder: start it with --rtpengine-ng")
		return
	}
	timeout := a.o.PhoneRecorderTimeout
	if timeout <= 0 {
		timeout = rtpengine.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	start := time.Now() // the wire's time, not the business clock
	var err error
	if cmd.Command == server.RecorderRecord {
		err = a.o.PhoneRecorder.StartRecording(ctx, cmd.SIPCallID)
	} else {
		err = a.o.PhoneRecorder.StopRecording(ctx, cmd.SIPCallID)
		if errors.Is(err, rtpengine.ErrUnknownCall) {
			err = nil // the call is gone: nothing of it is recorded
		}
	}
	took := time.Since(start)
	status, outcome := http.StatusOK, "confirmed"
	switch {
	case err == nil:
	case errors.Is(err, rtpengine.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		status, outcome = http.StatusGatewayTimeout, "not confirmed in time"
	default:
		status, outcome = http.StatusBadGateway, "refused"
	}
	a.auditRefusal(r, p, "phone-recorder."+cmd.Command, cmd.CallID, map[string]any{
		"sip_call_id": cmd.SIPCallID, "outcome": outcome, "took_ms": took.Milliseconds(),
	})
	if err != nil {
		a.o.Logger.Warn("the phone system's recorder did not confirm", "command", cmd.Command,
			"call", cmd.CallID, "agent", p.Username, "err", err)
		writeError(w, status, "the phone system's recorder did not confirm: "+err.Error())
		return
	}
	reply := server.PhoneRecorderReply{Confirmed: true, TookMS: took.Milliseconds()}
	if cmd.Command != server.RecorderRecord {
		writeJSON(w, status, reply)
		return
	}
	// The officer has the whole answer first (its length is said, so the
	// desktop need not wait for the handler to end): what a collector
	// needs of the call is found after it, within its own timeout.
	b, _ := json.Marshal(reply)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
	http.NewResponseController(w).Flush()
	a.rememberPhoneRecording(r, p, cmd, timeout)
}

// rememberPhoneRecording keeps, at the first record command the phone
// system confirmed for a call, what a collector needs to make its
// recording (GET /api/v1/phone-recordings): the call, where the site
// records, and the addresses at which the recorder receives each party.
// When the recorder cannot say, or the officer's tag is not among the
// call's, the row has no addresses.
func (a *API) rememberPhoneRecording(r *http.Request, p server.Principal, cmd server.PhoneRecorderCommand, timeout time.Duration) {
	ctx := context.WithoutCancel(r.Context())
	if ok, err := a.o.Store.HasPhoneRecording(ctx, p, cmd.CallID); err != nil || ok {
		if err != nil {
			a.o.Logger.Error("cannot read the call's phone recording", "call", cmd.CallID, "agent", p.Username, "err", err)
		}
		return
	}
	row := store.PhoneRecordingRow{SIPCallID: cmd.SIPCallID, Where: cmd.Where}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	call, err := a.o.PhoneRecorder.Query(qctx, cmd.SIPCallID)
	cancel()
	switch {
	case err != nil:
		a.o.Logger.Warn("the phone system's recorder did not say who is where in the call: its recording cannot be collected",
			"call", cmd.CallID, "agent", p.Username, "err", err)
	case cmd.OfficerTag == "" || !slices.Contains(call.TagNames(), cmd.OfficerTag):
		a.o.Logger.Warn("the officer's SIP tag is not among the call's: its recording cannot be collected",
			"call", cmd.CallID, "agent", p.Username, "tag", cmd.OfficerTag, "tags", call.TagNames())
	default:
		row.OfficerAddrs = addrStrings(call.ReceivesFrom(cmd.OfficerTag))
		for _, tag := range call.TagNames() {
			if tag != cmd.OfficerTag {
				row.CallerAddrs = append(row.CallerAddrs, addrStrings(call.ReceivesFrom(tag))...)
			}
		}
	}
	if _, err := a.o.Store.AddPhoneRecording(ctx, p, cmd.CallID, row); err != nil {
		a.o.Logger.Error("cannot keep the call's phone recording", "call", cmd.CallID, "agent", p.Username, "err", err)
	}
}

func addrStrings(addrs []netip.AddrPort) []string {
	out := make([]string, len(addrs))
	for i, ap := range addrs {
		out[i] = ap.String()
	}
	return out
}

// phoneRecording answers a collector's lookup of a call the phone system
// recorded, by the SIP Call-ID of its pcaps: 404 when the server knows of
// none. Nothing personal is in the answer, so only refusals are audited.
func (a *API) phoneRecording(w http.ResponseWriter, r *http.Request, p server.Principal) {
	id := r.URL.Query().Get("sip_call_id")
	if id == "" || len(id) > 256 {
		writeError(w, http.StatusBadRequest, "sip_call_id must be 1 to 256 characters")
		return
	}
	pr, err := a.o.Store.LookUpPhoneRecording(r.Context(), p, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pr)
}
