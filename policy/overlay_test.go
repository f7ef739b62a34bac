package policy_test

import (
	"testing"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

// A list in an overlay replaces the list below it whole: an element keeps
// nothing of the element that stood in its place, at any depth.
func TestAnOverlaysListKeepsNothingOfTheListBelow(t *testing.T) {
	p, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if p.PauseReasons[0].Hotkey == "" {
		t.Fatal("the default policy's first pause reason has no hotkey to leak")
	}
	q, err := p.Overlay([]byte(`{"pause_reasons": [{"id": "health", "label": "Health", "remind_after": "1m"}],
	  "notice": {"scripts": [{"direction": "outbound", "text": "Calls are recorded."}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := q.PauseReasons; len(r) != 1 || r[0].Hotkey != "" || r[0].AutoResumeAfter != 0 {
		t.Errorf("the overlay's pause reason took the old one's fields: %+v", r)
	}
	if s := q.Notice.Scripts; len(s) != 1 || s[0].Language != "" {
		t.Errorf("the overlay's notice script took the old one's language: %+v", s)
	}
	if len(p.PauseReasons) < 2 || p.PauseReasons[0].Hotkey == "" {
		t.Error("the overlay changed the policy below it")
	}
	// What the overlay does not give stays.
	if q.Retention.Default != p.Retention.Default || len(q.FlagReasons) != len(p.FlagReasons) {
		t.Error("the overlay dropped what it did not give")
	}
}
