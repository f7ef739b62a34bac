package central_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
)

// benchAuditedRead: a supervisor reads one call, and searches a number,
// over HTTP; each is audited in the read's own transaction, and the
// supervisor's teams (10 teams of 20 agents) decide what she sees.
func benchAuditedRead(b *testing.B, db string) {
	in := start(b, db, filepath.Join(b.TempDir(), "data"))
	ctx := context.Background()
	st := in.srv.Store()
	for i := range 10 {
		if _, err := st.CreateTeam(ctx, fmt.Sprint("team", i)); err != nil {
			b.Fatal(err)
		}
	}
	var agentTok string
	for i := range 200 {
		name := fmt.Sprintf("agent%03d", i)
		tok := token(b, in.srv, name, server.RoleAgent)
		if i == 0 {
			agentTok = tok
		}
		if err := st.AddTeamMember(ctx, fmt.Sprint("team", i%10), name); err != nil {
			b.Fatal(err)
		}
	}
	sup := token(b, in.srv, "sue", server.RoleSupervisor)
	st.AddTeamMember(ctx, "team0", "sue")
	post(b, in.url+"/api/v1/events", agentTok, answeredCall("bc1"))
	get := func(path string) {
		req, _ := http.NewRequest("GET", in.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+sup)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	b.Run("call", func(b *testing.B) {
		for range b.N {
			get("/api/v1/calls/bc1")
		}
	})
	b.Run("search", func(b *testing.B) {
		for range b.N {
			get("/api/v1/calls?number=%2B441632960123")
		}
	})
}

func BenchmarkAuditedReadSQLite(b *testing.B) {
	benchAuditedRead(b, "sqlite:"+filepath.Join(b.TempDir(), "cg.db"))
}

func BenchmarkAuditedReadPostgreSQL(b *testing.B) {
	benchAuditedRead(b, testrig.PostgreSQL(b))
}
