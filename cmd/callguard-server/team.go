package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/callguard/callguard/server"
)

// teamCmd manages teams: a supervisor sees the board, calls and recordings
// of the agents who share a team with her (a server without any team is
// one team). Every change is audited.
func teamCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: callguard-server team add|list|remove|member-add|member-remove [flags]\nRun \"callguard-server team add --help\" for a subcommand's flags.\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("team: no subcommand")
	}
	sub, rest := args[0], args[1:]
	if sub == "-h" || sub == "--help" || sub == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	fs, db := dbFlags("team "+sub, map[string]string{
		"add": "add a team", "list": "list teams and their members", "remove": "remove a team (its members stay)",
		"member-add": "put an account in a team", "member-remove": "take an account out of a team",
	}[sub], stderr)
	name := fs.String("name", "", "the team's name")
	username := fs.String("username", "", "the account (member-add, member-remove)")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	needs := func(flags ...string) error {
		for _, f := range flags {
			if (f == "name" && *name == "") || (f == "username" && *username == "") {
				return fmt.Errorf("team %s: --%s is required", sub, f)
			}
		}
		return nil
	}
	var (
		action string
		change func(ctx context.Context) error
		detail = `{"via":"cli"}`
	)
	switch sub {
	case "list":
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		teams, err := st.Teams(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TEAM\tMEMBERS\tCREATED")
		for _, t := range teams {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, strings.Join(t.Members, ", "), t.Created.Format(time.DateTime))
		}
		if len(teams) == 0 {
			fmt.Fprintln(tw, "(no team: every supervisor sees every agent)")
		}
		return tw.Flush()
	case "add":
		if err := needs("name"); err != nil {
			return err
		}
		action = server.AuditTeamAdd
	case "remove":
		if err := needs("name"); err != nil {
			return err
		}
		action = server.AuditTeamRemove
	case "member-add", "member-remove":
		if err := needs("name", "username"); err != nil {
			return err
		}
		action = server.AuditTeamMemberAdd
		if sub == "member-remove" {
			action = server.AuditTeamMemberRemove
		}
		detail = fmt.Sprintf(`{"username":%q,"via":"cli"}`, *username)
	default:
		return fmt.Errorf("team: unknown subcommand %q (add, list, remove, member-add, member-remove)", sub)
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "add":
		change = func(ctx context.Context) error { _, err := st.CreateTeam(ctx, *name); return err }
	case "remove":
		change = func(ctx context.Context) error { return st.DeleteTeam(ctx, *name) }
	case "member-add":
		change = func(ctx context.Context) error { return st.AddTeamMember(ctx, *name, *username) }
	case "member-remove":
		change = func(ctx context.Context) error { return st.RemoveTeamMember(ctx, *name, *username) }
	}
	err = audited(ctx, st, action, "team:"+*name, func(ctx context.Context) (string, error) { return detail, change(ctx) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: done\n", strings.TrimPrefix(action, "team."))
	return nil
}
