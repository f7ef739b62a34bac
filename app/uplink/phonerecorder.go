package uplink

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/server"
)

// PhoneRecorder returns the phone system's recorder as the server offers
// it (POST /api/v1/phone-recorder): the server holds rtpengine's address
// and answers once rtpengine confirmed. Each command takes at most its
// context's time. where is the site's record.where (server.WherePhoneSystem
// or server.WhereBoth): the server keeps the phone system's recording of a
// call only where the desktop does not record it too.
func (c *Client) PhoneRecorder(where string) app.PhoneRecorder { return serverRecorder{c, where} }

type serverRecorder struct {
	c     *Client
	where string
}

func (s serverRecorder) Record(ctx context.Context, call app.PhoneCall) error {
	return s.command(ctx, server.RecorderRecord, call)
}

func (s serverRecorder) Stop(ctx context.Context, call app.PhoneCall) error {
	return s.command(ctx, server.RecorderStop, call)
}

func (s serverRecorder) command(ctx context.Context, cmd string, call app.PhoneCall) error {
	var reply server.PhoneRecorderReply
	err := s.c.doJSON(ctx, http.MethodPost, "/api/v1/phone-recorder",
		server.PhoneRecorderCommand{CallID: call.ID, SIPCallID: call.SIPCallID, Command: cmd,
			OfficerTag: call.OfficerTag, Where: s.where}, &reply, time.Minute)
	if err != nil {
		return err
	}
	if !reply.Confirmed {
		return errors.New("the server answered without the phone system's confirmation")
	}
	return nil
}

// LookUpPhoneRecording asks the server what a collector (RoleCollector)
// is to do with the phone system's recording of the call sipCallID: its
// server id, where it was recorded and whether this collector uploads it
// (GET /api/v1/phone-recordings). A call the server does not know is an
// *HTTPError with Status 404.
func (c *Client) LookUpPhoneRecording(ctx context.Context, sipCallID string) (server.PhoneRecording, error) {
	var pr server.PhoneRecording
	err := c.do(ctx, http.MethodGet, "/api/v1/phone-recordings?sip_call_id="+url.QueryEscape(sipCallID), nil, &pr, 30*time.Second)
	return pr, err
}
