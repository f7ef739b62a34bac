package uplink

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/server"
)

// PhoneRecorder returns the phone system's recorder as the server offers
// it (POST /api/v1/phone-recorder): the server holds rtpengine's address
// and answers once rtpengine confirmed. Each command takes at most its
// context's time.
func (c *Client) PhoneRecorder() app.PhoneRecorder { return serverRecorder{c} }

type serverRecorder struct{ c *Client }

func (s serverRecorder) Record(ctx context.Context, call app.PhoneCall) error {
	return s.command(ctx, server.RecorderRecord, call)
}

func (s serverRecorder) Stop(ctx context.Context, call app.PhoneCall) error {
	return s.command(ctx, server.RecorderStop, call)
}

func (s serverRecorder) command(ctx context.Context, cmd string, call app.PhoneCall) error {
	var reply server.PhoneRecorderReply
	err := s.c.doJSON(ctx, http.MethodPost, "/api/v1/phone-recorder",
		server.PhoneRecorderCommand{CallID: call.ID, SIPCallID: call.SIPCallID, Command: cmd}, &reply, time.Minute)
	if err != nil {
		return err
	}
	if !reply.Confirmed {
		return errors.New("the server answered without the phone system's confirmation")
	}
	return nil
}
