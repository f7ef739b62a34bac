package pbxrecorder

import (
	"context"
	"errors"
	"fmt"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/rtpengine"
)

// RTPEngine is the recorder of a phone system that puts rtpengine in the
// media path (Kamailio with its rtpengine module): "start recording" and
// "stop recording" over ng, which rtpengine applies to the RTP packet.
type RTPEngine struct {
	ng *rtpengine.Client
}

// NewRTPEngine returns the backend that commands rtpengine through ng. The
// caller keeps ng and closes it.
func NewRTPEngine(ng *rtpengine.Client) *RTPEngine { return &RTPEngine{ng: ng} }

// Record makes rtpengine record the call from its next packet on.
func (r *RTPEngine) Record(ctx context.Context, call app.PhoneCall) error {
	if err := r.ng.StartRecording(ctx, call.SIPCallID); err != nil {
		return fmt.Errorf("rtpengine: record call %s: %w", call.ID, err)
	}
	return nil
}

// Stop makes rtpengine stop recording the call from its next packet on. A
// call rtpengine no longer knows (it ended) is recorded no more: that is a
// confirmation too.
func (r *RTPEngine) Stop(ctx context.Context, call app.PhoneCall) error {
	err := r.ng.StopRecording(ctx, call.SIPCallID)
	if err != nil && !errors.Is(err, rtpengine.ErrUnknownCall) {
		return fmt.Errorf("rtpengine: stop recording call %s: %w", call.ID, err)
	}
	return nil
}
