package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Every contract name decodes to a value that encodes as the same name,
// byte for byte, as text and inside JSON.
func TestEveryNameRoundTrips(t *testing.T) {
	check := func(kind, name string, decode func() error, encode func() ([]byte, error)) {
		t.Helper()
		if err := decode(); err != nil {
			t.Errorf("%s %q: %v", kind, name, err)
			return
		}
		b, err := encode()
		if err != nil || string(b) != `"`+name+`"` {
			t.Errorf("%s %q encodes as %s, %v", kind, name, b, err)
		}
	}
	for _, n := range RecordingStateNames() {
		var v RecordingState
		check("recording state", n, func() error { return json.Unmarshal([]byte(`"`+n+`"`), &v) }, func() ([]byte, error) { return json.Marshal(v) })
	}
	for _, n := range DirectionNames() {
		var v Direction
		check("direction", n, func() error { return json.Unmarshal([]byte(`"`+n+`"`), &v) }, func() ([]byte, error) { return json.Marshal(v) })
	}
	for _, n := range NoticeOutcomeNames() {
		var v NoticeOutcome
		check("notice outcome", n, func() error { return json.Unmarshal([]byte(`"`+n+`"`), &v) }, func() ([]byte, error) { return json.Marshal(v) })
	}
	for _, l := range LinkStatuses() {
		var v LinkStatus
		check("link status", string(l), func() error { return json.Unmarshal([]byte(`"`+string(l)+`"`), &v) }, func() ([]byte, error) { return json.Marshal(v) })
	}
	for _, e := range EventTypes() {
		var v EventType
		check("event type", string(e), func() error { return json.Unmarshal([]byte(`"`+string(e)+`"`), &v) }, func() ([]byte, error) { return json.Marshal(v) })
	}
	if len(RecordingStateNames()) != 10 || len(DirectionNames()) != 3 || len(NoticeOutcomeNames()) != 5 || len(LinkStatuses()) != 3 || len(EventTypes()) != 8 {
		t.Error("a list of names lost or gained one")
	}
}

// A name that is not one is refused when read, whatever the type, and the
// error says which kind and which name; "" is not a name either.
func TestUnknownNamesAreRefused(t *testing.T) {
	var ev struct {
		State     RecordingState `json:"state"`
		Direction Direction      `json:"direction"`
		Outcome   NoticeOutcome  `json:"outcome"`
		Link      LinkStatus     `json:"link"`
		Type      EventType      `json:"type"`
	}
	for _, tc := range []struct{ body, want string }{
		{`{"state":"recordin"}`, `unknown recording state "recordin"`},
		{`{"state":"Recording"}`, `unknown recording state "Recording"`},
		{`{"state":""}`, `unknown recording state ""`},
		{`{"direction":"sideways"}`, `unknown direction "sideways"`},
		{`{"direction":""}`, `unknown direction ""`},
		{`{"outcome":"ignored"}`, `unknown notice outcome "ignored"`},
		{`{"link":"down"}`, `unknown link status "down"`},
		{`{"type":"call.teleported"}`, `unknown event type "call.teleported"`},
	} {
		err := json.Unmarshal([]byte(tc.body), &ev)
		if !errors.Is(err, ErrUnknownName) || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q wrapping ErrUnknownName", tc.body, err, tc.want)
		}
	}
	if _, err := ParseRecordingState("paused "); !errors.Is(err, ErrUnknownName) {
		t.Errorf("a name with a space: %v", err)
	}
}

// A value that is none of the names is refused when written, so the
// desktop can never send what the server would not read.
func TestValuesWithoutANameAreNotWritten(t *testing.T) {
	for _, v := range []any{RecordingState(10), RecordingState(-1), Direction(3), NoticeOutcome(5)} {
		if b, err := json.Marshal(v); err == nil {
			t.Errorf("%#v was written as %s", v, b)
		}
	}
	if got := RecordingState(42).String(); got != "RecordingState(42)" {
		t.Errorf("String of a value without a name: %q", got)
	}
	if got := Direction(7).String(); got != "unknown" {
		t.Errorf("Direction(7) reads %q, want unknown", got)
	}
}

// The zero values mean "cannot tell", never a state that claims something.
func TestZeroValuesSayNothing(t *testing.T) {
	var s RecordingState
	var d Direction
	var o NoticeOutcome
	if s != StateUnknown || s.String() != "unknown" || d.String() != "unknown" || o.String() != "pending" {
		t.Errorf("zero values read %s, %s, %s", s, d, o)
	}
}
