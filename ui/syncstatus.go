package ui

import (
	"fmt"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/wire"
)

// SyncText says in words what st means for the officer: whether what
// happened on this computer is reaching the server, and what waits.
func SyncText(st uplink.Status) string {
	text := syncState(st)
	if st.Refused > 0 {
		// Kept on this computer and in no one's way, but someone should look.
		text += " · " + wire.RefusedText(st.Refused) + " (kept on this computer)"
	}
	return text
}

func syncState(st uplink.Status) string {
	waiting := plural(st.Pending, "event") + " and " + plural(st.Uploads, "recording") + " waiting"
	switch {
	case st.Forbidden:
		return "Calls are not sent: this account is not an officer's (" + plural(st.Pending, "event") + " kept on this computer)"
	case st.Online && st.Pending == 0 && st.Uploads == 0:
		return "All sent to the server"
	case st.Online:
		return "Sending: " + waiting
	case st.LastError == "": // no answer yet, and no failure either
		if st.Pending == 0 && st.Uploads == 0 {
			return "Connecting to the server…"
		}
		return "Connecting to the server: " + waiting
	}
	return "Server unreachable: " + waiting + " (nothing is lost)"
}

// plural writes n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
