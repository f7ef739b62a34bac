package server

import (
	"strings"
	"testing"
	"time"
)

// keypad.masked events are taken with their interval only, refused
// without one or with anything else a key could hide in, and counted on
// the call as "keypad tones masked".
func TestKeypadMaskedEvents(t *testing.T) {
	body := `{"events":[
		{"id":"k1","seq":1,"time":"2026-03-02T10:00:01Z","type":"keypad.masked","agent":"a","call_id":"c1","from_ms":1200,"to_ms":1420},
		{"id":"k2","seq":2,"time":"2026-03-02T10:00:02Z","type":"keypad.masked","agent":"a","call_id":"c1"},
		{"id":"k3","seq":3,"time":"2026-03-02T10:00:03Z","type":"keypad.masked","agent":"a","call_id":"c1","from_ms":1600,"to_ms":1820,"reason":"5"},
		{"id":"k4","seq":4,"time":"2026-03-02T10:00:04Z","type":"keypad.masked","agent":"a","from_ms":1,"to_ms":2},
		{"id":"k5","seq":5,"time":"2026-03-02T10:00:05Z","type":"keypad.masked","agent":"a","call_id":"c1","from_ms":2000,"to_ms":2240}
	]}`
	items, err := DecodeBatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"", "needs from_ms and to_ms", "carries its interval only", "needs call_id", ""} {
		got := ""
		if items[i].Err != nil {
			got = items[i].Err.Error()
		}
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("event %d: error %q, want %q", i+1, got, want)
		}
	}
	c := FoldCall("c1", valid(items))
	if c.KeypadMasked != 2 || len(c.KeypadMasks) != 2 || c.KeypadMasks[1].FromMS != 2000 || c.Updated != time.Date(2026, 3, 2, 10, 0, 5, 0, time.UTC) {
		t.Fatalf("folded call: keypad_masked %d, updated %v", c.KeypadMasked, c.Updated)
	}
}
