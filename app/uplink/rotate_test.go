package uplink_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
)

// keyring is a token slot as the OS keyring keeps it.
type keyring struct {
	mu    sync.Mutex
	tok   string
	saves int
}

func (k *keyring) get() (string, error) { k.mu.Lock(); defer k.mu.Unlock(); return k.tok, nil }
func (k *keyring) set(t string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.tok, k.saves = t, k.saves+1
	return nil
}

// TestTheDesktopRotatesItsTokenBeforeItExpires: the uplink sees on the
// heartbeat reply that its token expires within RotateBefore, swaps it
// for a new one without a password and keeps only the new one, in the
// keyring; the old one stops working soon after.
func TestTheDesktopRotatesItsTokenBeforeItExpires(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	old, device := r.agent("olive")
	// Issued 89 days ago: it expires tomorrow.
	if _, err := r.server().Store().DB().Exec(`UPDATE devices SET expires_at = ? WHERE id = ?`, time.Now().Add(24*time.Hour).UnixMilli(), device); err != nil {
		t.Fatal(err)
	}
	kr := &keyring{tok: old}
	runClient(t, uplink.Options{
		BaseURL: r.url, Token: kr.get, SaveToken: kr.set, Outbox: openOutbox(t, t.TempDir(), device),
		Presence: func() uplink.Presence { return uplink.Presence{State: app.StateIdle} }, HeartbeatEvery: 50 * time.Millisecond,
	})
	waitFor(t, 10*time.Second, "the token was rotated", func() bool { tok, _ := kr.get(); return tok != old })
	tok, _ := kr.get()
	p, err := r.server().Store().Authenticate(context.Background(), auth.HashToken(tok))
	if err != nil || p.DeviceID != device {
		t.Fatalf("the new token: %+v %v", p, err)
	}
	// Once rotated it does not rotate again on every heartbeat.
	time.Sleep(300 * time.Millisecond)
	kr.mu.Lock()
	saves := kr.saves
	kr.mu.Unlock()
	if saves != 1 {
		t.Fatalf("rotated %d times", saves)
	}
	recs, _ := r.server().Store().SearchAudit(context.Background(), server.AuditFilter{Action: server.AuditDeviceRotate})
	if len(recs) != 1 {
		t.Fatalf("%d rotations audited", len(recs))
	}
	// The old token goes with the server's grace; the new one lives 90 days.
	if _, err := r.server().Store().Authenticate(context.Background(), auth.HashToken(old)); err != nil && !errors.Is(err, server.ErrUnauthorized) {
		t.Fatal(err)
	}
	if !p.TokenExpires.After(time.Now().Add(89 * 24 * time.Hour)) {
		t.Fatalf("the new token expires %v", p.TokenExpires)
	}
}
