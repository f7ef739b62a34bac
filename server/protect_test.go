package server

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Every review state decodes as itself; any other name, "" too, is refused
// with ErrInvalid, so a review item can never carry a state nobody handles.
func TestReviewStatesAreRefusedUnlessKnown(t *testing.T) {
	for _, s := range ReviewStates() {
		var it ReviewItem
		if err := json.Unmarshal([]byte(`{"state":"`+string(s)+`"}`), &it); err != nil || it.State != s {
			t.Errorf("%s: %q, %v", s, it.State, err)
		}
	}
	for _, name := range []string{"", "Open", "closed", "open "} {
		var it ReviewItem
		err := json.Unmarshal([]byte(`{"state":"`+name+`"}`), &it)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `unknown review state "`+name+`"`) {
			t.Errorf("%q: %v", name, err)
		}
	}
	if len(ReviewStates()) != 6 {
		t.Errorf("%d review states, want 6", len(ReviewStates()))
	}
}
