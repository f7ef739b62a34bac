package uplink_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/central/centraltest"
)

// TestWorkspaceLinkAgainstARealServer: a supervisor's desktop gets a
// one-time link on its own server; an officer's is refused.
func TestWorkspaceLinkAgainstARealServer(t *testing.T) {
	dir := t.TempDir()
	base, enrol := centraltest.Start(t, central.Options{DB: filepath.Join(dir, "server.db"), DataDir: filepath.Join(dir, "data")})
	client := func(tok string) *uplink.Client {
		return uplink.New(uplink.Options{BaseURL: base, Token: func() (string, error) { return tok, nil }, Logger: slog.New(slog.DiscardHandler)})
	}
	sue := client(enrol("sue", server.RoleSupervisor))
	link, err := sue.WorkspaceLink(context.Background())
	if err != nil || !strings.HasPrefix(link, base+"/link/") {
		t.Fatalf("sue's link: %q, %v", link, err)
	}
	olive := client(enrol("olive", server.RoleAgent))
	_, err = olive.WorkspaceLink(context.Background())
	var he *uplink.HTTPError
	if !errors.As(err, &he) || he.Status != 403 {
		t.Fatalf("an officer's link: %v, want the server's 403", err)
	}
}
