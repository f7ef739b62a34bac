package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/central"
	"github.com/callguard/callguard/server/store"
)

// newEnvOn is newEnv on the database at db (a SQLite path or a PostgreSQL
// URL) with the organisation's identity on the server.
func newEnvOn(t *testing.T, db string, ids []age.Identity) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	srv, err := central.Open(context.Background(), central.Options{
		DB: db, DataDir: filepath.Join(dir, "data"), Clock: clk.Now, BcryptCost: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Embedded: true, Identities: ids,
		AuditKeyFile: filepath.Join(dir, "audit-ed25519.pem"),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Shutdown()
		hs.Close()
		srv.Close()
	})
	return &env{t: t, srv: srv, url: hs.URL, clk: clk}
}

// breakAudit makes every insert into the audit log fail inside the
// database, as a full disk would; the returned func mends it.
func breakAudit(t *testing.T, st *store.Store) func() {
	t.Helper()
	db := st.DB()
	var create, drop []string
	if st.Dialect() == store.PostgreSQL {
		create = []string{
			`CREATE FUNCTION audit_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER audit_refuse BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_refuse()`,
		}
		drop = []string{`DROP TRIGGER audit_refuse ON audit`, `DROP FUNCTION audit_refuse()`}
	} else {
		create = []string{`CREATE TRIGGER audit_refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`}
		drop = []string{`DROP TRIGGER audit_refuse`}
	}
	for _, q := range create {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		for _, q := range drop {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestNothingIsServedOrChangedWithoutItsAuditRecord: with the audit log
// unwritable (a trigger raises inside the database, as a full disk does)
// no personal data leaves and no change commits, on SQLite and PostgreSQL.
func TestNothingIsServedOrChangedWithoutItsAuditRecord(t *testing.T) {
	for _, d := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "cg.db") }},
		{"postgres", func(t *testing.T) string { return testrig.PostgreSQL(t) }},
	} {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			id, _ := age.GenerateX25519Identity()
			e := newEnvOn(t, d.url(t), []age.Identity{id})
			olive, sue, dee, adam := e.user("olive", server.RoleAgent), e.user("sue", server.RoleSupervisor), e.user("dee", server.RoleDPO), e.user("adam", server.RoleAdmin)
			const number = "+441632960123"
			events := `{"events":[
				{"id":"c1-1","seq":1,"time":"2026-03-02T09:00:00Z","type":"call.answered","call_id":"c1","call":{"direction":"inbound","local":{"number":"2001"},"remote":{"number":"` + number + `","name":"A Caller"},"started":"2026-03-02T09:00:00Z","answered":"2026-03-02T09:00:00Z","recorded":true}},
				{"id":"c1-2","seq":2,"time":"2026-03-02T09:00:03Z","type":"flag","call_id":"c1","reason":"health","note":"diagnosis"}]}`
			e.call(olive, "POST", "/api/v1/events", events, 200, nil)
			audio, manifest, _ := recordingFor(t, "c1", id)
			e.call(olive, "PUT", "/api/v1/recordings/c1/audio?offset=0", string(audio), 200, nil)
			e.call(olive, "PUT", "/api/v1/recordings/c1/manifest", string(manifest), 200, nil)
			var me struct {
				DeviceID string `json:"device_id"`
			}
			e.call(olive, "GET", "/api/v1/me", "", 200, &me)
			before, err := e.srv.Store().AuditLog(t.Context(), 0, 10000)
			if err != nil {
				t.Fatal(err)
			}

			mend := breakAudit(t, e.srv.Store())
			reads := []struct{ who, token, path string }{
				{"supervisor", sue, "/api/v1/calls?number=%2B441632960123"},
				{"agent", olive, "/api/v1/calls"},
				{"supervisor", sue, "/api/v1/calls/c1"},
				{"dpo", dee, "/api/v1/recordings/c1/play"},
				{"supervisor", sue, "/api/v1/recordings/c1/audio"},
				{"dpo", dee, "/api/v1/review"},
				{"dpo", dee, "/api/v1/review/c1-2"},
				{"dpo", dee, "/api/v1/subject-access?number=%2B441632960123"},
				{"dpo", dee, "/api/v1/audit"},
				{"dpo", dee, "/api/v1/holds"},
				{"dpo", dee, "/api/v1/retention/report?days=3000"},
			}
			for _, rd := range reads {
				status, _, body := e.raw(rd.token, "GET", rd.path, "")
				if status != 503 || strings.Contains(string(body), "960123") || strings.Contains(string(body), "RIFF") || len(body) > 512 {
					t.Errorf("%s GET %s with the audit log broken: %d %.200q", rd.who, rd.path, status, body)
				}
			}
			changes := []struct{ token, method, path, body string }{
				{adam, "POST", "/api/v1/users", `{"username":"mallory","role":"dpo","password":"password-5678"}`},
				{adam, "POST", "/api/v1/users/sue/role", `{"role":"dpo"}`},
				{adam, "POST", "/api/v1/users/olive/disable", ""},
				{adam, "POST", "/api/v1/devices/" + me.DeviceID + "/revoke", ""},
				{dee, "POST", "/api/v1/holds", `{"call_id":"c1","reason":"complaint","owner":"complaints"}`},
				{dee, "POST", "/api/v1/review/c1-2/decide", `{"action":"keep","note":"fine"}`},
				{dee, "POST", "/api/v1/erasures", `{"number":"` + number + `"}`},
				{"", "POST", "/api/v1/enroll", `{"username":"sue","password":"password-1234","device_name":"pc2"}`},
			}
			for _, c := range changes {
				status, _, body := e.raw(c.token, c.method, c.path, c.body)
				if status != 503 {
					t.Errorf("%s %s with the audit log broken: %d %s", c.method, c.path, status, body)
				}
			}
			mend()

			// Nothing above changed anything.
			ctx := t.Context()
			st := e.srv.Store()
			if _, _, err := st.UserByName(ctx, "mallory"); err == nil {
				t.Error("a user was added without its audit record")
			}
			if u, _, _ := st.UserByName(ctx, "sue"); u.Role != server.RoleSupervisor {
				t.Errorf("sue's role changed to %s without its audit record", u.Role)
			}
			if u, _, _ := st.UserByName(ctx, "olive"); u.Disabled {
				t.Error("olive was disabled without its audit record")
			}
			devs, _ := st.Devices(ctx)
			for _, dv := range devs {
				if dv.Revoked != nil {
					t.Errorf("device %s was revoked without its audit record", dv.ID)
				}
				if dv.Name == "pc2" {
					t.Error("a device was enrolled without its audit record")
				}
			}
			if hs, _ := st.Holds(ctx, true); len(hs) != 0 {
				t.Errorf("a hold was placed without its audit record: %+v", hs)
			}
			if it, _ := st.ReviewItem(ctx, "c1-2"); it.State != server.ReviewOpen {
				t.Errorf("the review item is %s after a decision without its audit record", it.State)
			}
			if es, _ := st.Erasures(ctx, ""); len(es) != 0 {
				t.Errorf("an erasure was recorded without its audit record: %+v", es)
			}
			if c, err := st.Call(ctx, "c1"); err != nil || c.Recording != server.RecordingStored {
				t.Errorf("call c1 after the refused erasure: %v %v", c.Recording, err)
			}
			after, err := st.AuditLog(ctx, 0, 10000)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Errorf("%d audit records written while the log was broken", len(after)-len(before))
			}
			// And with the log mended the same reads work again.
			e.call(sue, "GET", "/api/v1/calls/c1", "", 200, nil)
			e.call(adam, "POST", "/api/v1/users/sue/role", `{"role":"dpo"}`, 200, nil)
		})
	}
}
