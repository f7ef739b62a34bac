package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/callguard/callguard/rtpengine"
	"github.com/callguard/callguard/server"
)

// PhoneRecorder starts and stops the phone system's recording of a call on
// its SIP Call-ID, returning once the phone system confirmed.
// *rtpengine.Client implements it.
type PhoneRecorder interface {
	StartRecording(ctx context.Context, sipCallID string) error
	StopRecording(ctx context.Context, sipCallID string) error
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
	writeJSON(w, status, server.PhoneRecorderReply{Confirmed: true, TookMS: took.Milliseconds()})
}
