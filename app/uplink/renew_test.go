package uplink_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callguard/callguard/app/uplink"
)

// TestRenewTokenIfDue: a client that sends no heartbeats (a collector)
// renews its token by /api/v1/me's expiry, on the server's clock, only when
// it is due; the new token works and is the one kept.
func TestRenewTokenIfDue(t *testing.T) {
	r := newRig(t, "")
	tok, _ := r.agent("olive")
	var saved []string
	current := tok
	client := func(before time.Duration) *uplink.Client {
		return uplink.New(uplink.Options{BaseURL: r.url, Logger: quiet(), RotateBefore: before,
			Token:     func() (string, error) { return current, nil },
			SaveToken: func(s string) error { saved = append(saved, s); current = s; return nil }})
	}
	ctx := context.Background()
	if renewed, err := client(time.Hour).RenewTokenIfDue(ctx); err != nil || renewed || len(saved) != 0 {
		t.Fatalf("not due: renewed %v, err %v, saved %d", renewed, err, len(saved))
	}
	// Due: every token expires within ten years.
	if renewed, err := client(10 * 365 * 24 * time.Hour).RenewTokenIfDue(ctx); err != nil || !renewed || len(saved) != 1 || saved[0] == tok {
		t.Fatalf("due: renewed %v, err %v, saved %d", renewed, err, len(saved))
	}
	fresh := uplink.New(uplink.Options{BaseURL: r.url, Logger: quiet(), Token: static(saved[0])})
	if _, err := fresh.Me(ctx); err != nil {
		t.Fatalf("the renewed token: %v", err)
	}
	me, err := fresh.Me(ctx)
	if err != nil || me.TokenExpires == nil || !me.TokenExpires.After(me.ServerTime) {
		t.Fatalf("me: %+v %v", me, err)
	}
	// Without a place to keep the new token it never rotates.
	nosave := uplink.New(uplink.Options{BaseURL: r.url, Logger: quiet(), RotateBefore: 10 * 365 * 24 * time.Hour, Token: static(saved[0])})
	if renewed, err := nosave.RenewTokenIfDue(ctx); renewed || err != nil {
		t.Fatalf("without SaveToken: renewed %v, err %v", renewed, err)
	}
	bad := uplink.New(uplink.Options{BaseURL: r.url, Logger: quiet(), Token: static("nonsense"), SaveToken: func(string) error { return nil }})
	if _, err := bad.RenewTokenIfDue(ctx); !errors.Is(err, uplink.ErrUnauthorized) {
		t.Fatalf("a bad token: %v", err)
	}
}
