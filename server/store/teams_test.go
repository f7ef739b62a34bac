package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

func TestTeams(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		olive, pat := agentDevice(t, s, "olive"), agentDevice(t, s, "pat")
		for _, name := range []string{"sue", "sam"} {
			if _, err := s.CreateUser(ctx, name, server.RoleSupervisor, "", false); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Ingest(ctx, olive, callEvents("oc", 1, clk.Now(), "+441632960001")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, pat, callEvents("pc", 1, clk.Now(), "+441632960002")); err != nil {
			t.Fatal(err)
		}
		seen := func(sup string) int {
			t.Helper()
			calls, err := s.SearchCalls(ctx, server.CallFilter{Supervisor: sup})
			if err != nil {
				t.Fatal(err)
			}
			return len(calls)
		}
		// No team yet: one team of everyone.
		if ok, err := s.Supervises(ctx, "sue", "pat"); err != nil || !ok || seen("sue") != 2 {
			t.Fatalf("without teams: %v %v %d", ok, err, seen("sue"))
		}
		if _, err := s.CreateTeam(ctx, "north"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateTeam(ctx, "north"); !errors.Is(err, server.ErrExists) {
			t.Fatalf("a second north: %v", err)
		}
		for _, u := range []string{"sue", "olive"} {
			if err := s.AddTeamMember(ctx, "north", u); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddTeamMember(ctx, "north", "nobody"); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("an unknown user joined: %v", err)
		}
		if ok, _ := s.Supervises(ctx, "sue", "pat"); ok || seen("sue") != 1 || seen("sam") != 0 {
			t.Fatalf("with teams: sue supervises pat %v, sees %d, sam sees %d", ok, seen("sue"), seen("sam"))
		}
		all, agents, err := s.Supervised(ctx, "sue")
		if err != nil || all || !agents["olive"] || agents["pat"] {
			t.Fatalf("Supervised = %v %v %v", all, agents, err)
		}
		if err := s.RemoveTeamMember(ctx, "north", "olive"); err != nil {
			t.Fatal(err)
		}
		if seen("sue") != 0 {
			t.Fatal("sue still sees olive's call")
		}
		teams, err := s.Teams(ctx)
		if err != nil || len(teams) != 1 || len(teams[0].Members) != 1 || teams[0].Members[0] != "sue" {
			t.Fatalf("Teams = %+v %v", teams, err)
		}
		if err := s.DeleteTeam(ctx, "north"); err != nil {
			t.Fatal(err)
		}
		if seen("sue") != 2 {
			t.Fatal("after the last team went, sue does not see everyone")
		}
	})
}
