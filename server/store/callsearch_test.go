package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// TestSearchCallsByE164AndFilters: a number stored in one form is found by
// its E.164 whatever form the desktop sent it in, and each filter of the
// workspace's calls page keeps the calls it names; pages by keyset cover
// every call once.
func TestSearchCallsByE164AndFilters(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		olive, oscar := agentDevice(t, s, "olive"), agentDevice(t, s, "oscar")
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		// The same caller, sent three ways by three desktops' phone systems.
		forms := []string{"07700 900123", "+44 7700 900123", "0044 (0)7700-900123"}
		for i, n := range forms {
			evs := callEvents(fmt.Sprintf("o%d", i), uint64(1+i*20), start.Add(time.Duration(i)*time.Hour), n)
			if _, err := s.Ingest(ctx, olive, evs); err != nil {
				t.Fatal(err)
			}
		}
		// Oscar's outbound call to someone else, unflagged (the flag event
		// left out).
		evs := callEvents("x1", 1, start.Add(30*time.Minute), "(01632) 960555")
		for i := range evs {
			if evs[i].Call != nil {
				c := *evs[i].Call
				c.Direction = "outbound"
				evs[i].Call = &c
			}
		}
		if _, err := s.Ingest(ctx, oscar, append(evs[:7:7], evs[8])); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateTeam(ctx, "north"); err != nil {
			t.Fatal(err)
		}
		if err := s.AddTeamMember(ctx, "north", "oscar"); err != nil {
			t.Fatal(err)
		}
		ids := func(f server.CallFilter) []string {
			t.Helper()
			calls, err := s.SearchCalls(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range calls {
				out = append(out, c.DesktopID)
			}
			return out
		}
		for name, tc := range map[string]struct {
			f    server.CallFilter
			want string
		}{
			"the number in E.164":           {server.CallFilter{E164: "+447700900123"}, "[o2 o1 o0]"},
			"the other number":              {server.CallFilter{E164: "+441632960555"}, "[x1]"},
			"a number nobody called":        {server.CallFilter{E164: "+447700900999"}, "[]"},
			"the local number (E.164 only)": {server.CallFilter{E164: "+442001"}, "[]"},
			"outbound":                      {server.CallFilter{Direction: "outbound"}, "[x1]"},
			"inbound":                       {server.CallFilter{Direction: "inbound"}, "[o2 o1 o0]"},
			"team north":                    {server.CallFilter{Team: "north"}, "[x1]"},
			"flagged for any reason":        {server.CallFilter{Flag: server.FlagAny}, "[o2 o1 o0]"},
			"flagged for health":            {server.CallFilter{Flag: "health"}, "[o2 o1 o0]"},
			"flagged for something else":    {server.CallFilter{Flag: "payment"}, "[]"},
			"no recording stored":           {server.CallFilter{Recording: server.RecordingNo}, "[o2 o1 x1 o0]"},
			"a recording stored":            {server.CallFilter{Recording: server.RecordingYes}, "[]"},
			"officer and number":            {server.CallFilter{Agent: "oscar", E164: "+447700900123"}, "[]"},
		} {
			if got := fmt.Sprint(ids(tc.f)); got != tc.want {
				t.Errorf("%s: %s, want %s", name, got, tc.want)
			}
		}
		// Keyset pages of one call each walk every call once, newest first.
		var walked []string
		f := server.CallFilter{Limit: 1}
		for range 10 {
			calls, err := s.SearchCalls(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) == 0 {
				break
			}
			walked = append(walked, calls[0].DesktopID)
			f.After = &server.CallCursor{Started: calls[0].Started, ID: calls[0].ID}
		}
		if got := fmt.Sprint(walked); got != "[o2 o1 x1 o0]" {
			t.Errorf("keyset pages: %s", got)
		}
	})
}

// TestPruneWebSessions: sessions and links that ended or expired before
// the cutoff are deleted, live ones stay.
func TestPruneWebSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, "sue", server.RoleSupervisor, "", false)
		if err != nil {
			t.Fatal(err)
		}
		now := clk.Now()
		for _, ws := range []server.WebSession{
			{TokenHash: "live", UserID: u.ID, Created: now, LastSeen: now, Expires: now.Add(12 * time.Hour)},
			{TokenHash: "expired", UserID: u.ID, Created: now.Add(-50 * time.Hour), LastSeen: now.Add(-49 * time.Hour), Expires: now.Add(-38 * time.Hour)},
			{TokenHash: "ended", UserID: u.ID, Created: now.Add(-30 * time.Hour), LastSeen: now.Add(-30 * time.Hour), Expires: now.Add(12 * time.Hour)},
		} {
			if err := s.CreateWebSession(ctx, ws); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.EndWebSession(ctx, "ended", now.Add(-29*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateWebLink(ctx, server.WebLink{TokenHash: "old-link", UserID: u.ID, DeviceID: "d", Created: now.Add(-26 * time.Hour), Expires: now.Add(-26 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.PruneWebSessions(ctx, now.Add(-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WebSession(ctx, "live"); err != nil {
			t.Errorf("the live session was pruned: %v", err)
		}
		for _, h := range []string{"expired", "ended"} {
			if _, err := s.WebSession(ctx, h); err == nil {
				t.Errorf("session %s was kept", h)
			}
		}
		if _, err := s.UseWebLink(ctx, "old-link", now); err == nil {
			t.Error("the old link was kept")
		}
	})
}
