package ui

import (
	"testing"

	"github.com/callguard/callguard/app"
)

func TestOtherCallsSayWhatWaits(t *testing.T) {
	first := app.CallView{ID: "a"}
	tests := []struct {
		calls []app.CallView
		want  string
	}{
		{[]app.CallView{first}, ""},
		{[]app.CallView{first, {ID: "b", Waiting: true}}, " · 1 call waiting, not recorded"},
		{[]app.CallView{first, {ID: "b", OnHold: true}}, " · 1 other call"},
		{[]app.CallView{first, {ID: "b", Waiting: true}, {ID: "c", Waiting: true}, {ID: "d"}}, " · 2 calls waiting, not recorded · 1 other call"},
	}
	for _, tt := range tests {
		if got := otherCalls(tt.calls, "a"); got != tt.want {
			t.Errorf("otherCalls(%+v) = %q, want %q", tt.calls, got, tt.want)
		}
	}
}
