package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

// TestDeviceTokensExpire: a token stops working after the policy's
// lifetime (90 days by default); admins see when each expires.
func TestDeviceTokensExpire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	olive, adam := e.user("olive", server.RoleAgent), e.user("adam", server.RoleAdmin)
	var devs struct{ Devices []server.Device }
	e.call(adam, "GET", "/api/v1/devices", "", 200, &devs)
	for _, d := range devs.Devices {
		if d.Expires == nil || !d.Expires.Equal(e.clk.Now().Add(90*24*time.Hour)) {
			t.Fatalf("device %s of %s expires %v", d.ID, d.Username, d.Expires)
		}
	}
	e.clk.Add(89 * 24 * time.Hour)
	e.call(olive, "GET", "/api/v1/me", "", 200, nil)
	e.clk.Add(24*time.Hour + time.Second)
	var eb struct{ Error string }
	e.call(olive, "GET", "/api/v1/me", "", 401, &eb)
	if !strings.Contains(eb.Error, "expired") {
		t.Fatalf("an expired token: %q", eb.Error)
	}
}

// TestADeviceRotatesItsTokenWithoutAPassword: the device swaps its token
// for a new one with the old; the old one keeps working for a few minutes
// (the reply may be lost), then not; the new one has a new lifetime.
func TestADeviceRotatesItsTokenWithoutAPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	olive := e.user("olive", server.RoleAgent)
	e.clk.Add(80 * 24 * time.Hour)
	var rot server.Rotation
	e.call(olive, "POST", "/api/v1/devices/self/rotate", "", 200, &rot)
	if rot.Token == "" || rot.Token == olive || !rot.Expires.Equal(e.clk.Now().Add(90*24*time.Hour)) {
		t.Fatalf("rotation %+v", rot)
	}
	var me struct{ Username string }
	e.call(rot.Token, "GET", "/api/v1/me", "", 200, &me)
	e.call(olive, "GET", "/api/v1/me", "", 200, nil) // the reply could have been lost
	e.clk.Add(11 * time.Minute)
	e.call(olive, "GET", "/api/v1/me", "", 401, nil)
	e.clk.Add(85 * 24 * time.Hour)
	e.call(rot.Token, "GET", "/api/v1/me", "", 200, nil)
	recs, _ := e.srv.Store().SearchAudit(t.Context(), server.AuditFilter{Action: server.AuditDeviceRotate})
	if len(recs) != 1 || recs[0].Actor != "olive" || strings.Contains(recs[0].Detail, rot.Token) {
		t.Fatalf("rotation audited as %+v", recs)
	}
}
