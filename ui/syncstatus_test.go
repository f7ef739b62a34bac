package ui

import (
	"testing"

	"github.com/callguard/callguard/app/uplink"
)

func TestSyncTextSaysOnlyWhatIsKnown(t *testing.T) {
	tests := []struct {
		st   uplink.Status
		want string
	}{
		{uplink.Status{}, "Connecting to the server…"},
		{uplink.Status{Pending: 3}, "Connecting to the server: 3 events and 0 recordings waiting"},
		{uplink.Status{Online: true}, "All sent to the server"},
		{uplink.Status{Online: true, Pending: 1, Uploads: 1}, "Sending: 1 event and 1 recording waiting"},
		{uplink.Status{LastError: "dial tcp: connection refused", Pending: 2, Uploads: 3}, "Server unreachable: 2 events and 3 recordings waiting (nothing is lost)"},
		{uplink.Status{LastError: "dial tcp: connection refused"}, "Server unreachable: 0 events and 0 recordings waiting (nothing is lost)"},
		{uplink.Status{Online: true, Refused: 1}, "All sent to the server · 1 event refused by the server (kept on this computer)"},
		{uplink.Status{Online: true, Pending: 2, Refused: 3}, "Sending: 2 events and 0 recordings waiting · 3 events refused by the server (kept on this computer)"},
		{uplink.Status{Online: true, Forbidden: true, Pending: 4}, "Calls are not sent: this account is not an officer's (4 events kept on this computer)"},
	}
	for _, tt := range tests {
		if got := SyncText(tt.st); got != tt.want {
			t.Errorf("SyncText(%+v) = %q, want %q", tt.st, got, tt.want)
		}
	}
}
