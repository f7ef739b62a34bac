package main

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/pbxrecorder"
	"github.com/callguard/callguard/rtpengine"
)

// phoneRecorderParts are what records at the phone system, when the policy
// says so (record.where pbx or both).
type phoneRecorderParts struct {
	ng     *rtpengine.Client             // the desktop's own ng client (phone_system.rtpengine_ng), or nil
	uplink atomic.Pointer[uplink.Client] // the server's, once the uplink runs
}

// callRecorder returns what records the calls: the desktop's recorder
// (where desktop), the phone system's (pbx: the desktop captures no audio
// at all), or both. The phone system's recorder is commanded through the
// central server, or straight from the desktop when
// phone_system.rtpengine_ng is set (a site without a central server).
func (d *desktop) callRecorder(desktop app.Recorder) (app.Recorder, error) {
	where := d.policy.Record
	if !where.AtPhoneSystem() {
		return desktop, nil
	}
	var pr app.PhoneRecorder = serverPhoneRecorder{&d.phone, where.Location()}
	if addr := d.cfg.PhoneSystem.RTPEngineNG; addr != "" {
		ng, err := rtpengine.Dial(addr, rtpengine.WithTimeout(where.ConfirmWithinOrDefault()),
			rtpengine.WithLogger(d.log.With("part", "rtpengine")))
		if err != nil {
			return nil, err
		}
		d.phone.ng = ng
		pr = pbxrecorder.NewRTPEngine(ng)
		d.log.Info("recording at the phone system: rtpengine commanded from this desktop", "ng", addr, "where", where.Location())
	} else if d.cfg.Server.Embedded() {
		// The embedded server holds no ng address: every call would fail.
		d.log.Error("the policy records at the phone system, but there is no central server to command it and phone_system.rtpengine_ng is not set: calls will show recording failed", "where", where.Location())
	} else {
		d.log.Info("recording at the phone system: rtpengine commanded through the central server", "where", where.Location())
	}
	phone := app.PhoneSystemRecorder(pr, where.ConfirmWithinOrDefault())
	if where.AtDesktop() {
		return app.BothRecorders(desktop, phone), nil
	}
	return phone, nil
}

func (p *phoneRecorderParts) close() {
	if p.ng != nil {
		p.ng.Close()
	}
}

// serverPhoneRecorder commands the phone system's recorder through the
// central server once the uplink runs; before, every command fails (and a
// pause is the alarm, never paused).
type serverPhoneRecorder struct {
	p     *phoneRecorderParts
	where string // the policy's record.where
}

var errNoUplink = errors.New("not connected to the central server yet")

func (s serverPhoneRecorder) Record(ctx context.Context, call app.PhoneCall) error {
	if u := s.p.uplink.Load(); u != nil {
		return u.PhoneRecorder(s.where).Record(ctx, call)
	}
	return errNoUplink
}

func (s serverPhoneRecorder) Stop(ctx context.Context, call app.PhoneCall) error {
	if u := s.p.uplink.Load(); u != nil {
		return u.PhoneRecorder(s.where).Stop(ctx, call)
	}
	return errNoUplink
}
