package app

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/callguard/callguard/wire"
)

// TestEveryEventFitsTheContract: whatever the phone system or a caller of
// the core hands it, no event the core emits carries a field past the
// server's limits, and what was cut is still whole characters.
func TestEveryEventFitsTheContract(t *testing.T) {
	r := newRig(t, defaultPolicy(t), false)
	long := strings.Repeat("Ž", 300) // 600 bytes
	r.link(LinkUp, "")
	r.m.HandleCall(CallEvent{Kind: CallAnswered, DialogID: "d1", CallID: strings.Repeat("c", 700), Direction: DirectionInbound,
		Local: Party{Number: strings.Repeat("1", 200), Name: long, URI: "sip:" + long}, Remote: Party{Number: strings.Repeat("2", 200), Name: long, URI: "sip:" + long},
		At: r.now}, r.now)
	r.link(LinkLost, "the phone system said: "+long)
	if len(r.sink.events) < 3 {
		t.Fatalf("events %v", r.sink.types())
	}
	for _, e := range r.sink.events {
		fields := map[string]struct {
			v     string
			limit int
		}{"agent": {e.Agent, wire.MaxNameLen}, "reason": {e.Reason, wire.MaxReasonLen}, "note": {e.Note, wire.MaxNoteLen}}
		if c := e.Call; c != nil {
			for k, v := range map[string]struct {
				v     string
				limit int
			}{
				"local.number": {c.Local.Number, wire.MaxNumberLen}, "local.name": {c.Local.Name, wire.MaxNameLen}, "local.uri": {c.Local.URI, wire.MaxURILen},
				"remote.number": {c.Remote.Number, wire.MaxNumberLen}, "remote.name": {c.Remote.Name, wire.MaxNameLen}, "remote.uri": {c.Remote.URI, wire.MaxURILen},
				"sip_call_id": {c.SIPCallID, wire.MaxURILen},
			} {
				fields[k] = v
			}
			if c.Remote.Name == "" || len(c.Remote.Name) < wire.MaxNameLen-1 {
				t.Errorf("%s: the remote name was cut too far: %d bytes", e.Type, len(c.Remote.Name))
			}
		}
		for name, f := range fields {
			if len(f.v) > f.limit || !utf8.ValidString(f.v) {
				t.Errorf("%s: %s is %d bytes (limit %d), valid UTF-8 %v", e.Type, name, len(f.v), f.limit, utf8.ValidString(f.v))
			}
		}
	}
}
