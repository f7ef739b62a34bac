package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/store"
)

func TestTokensExpireAndRotate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, "olive", server.RoleAgent, "", false)
		if err != nil {
			t.Fatal(err)
		}
		old, oldHash := auth.NewToken()
		if err := s.CreateDevice(ctx, "d1", u.ID, "pc", oldHash); err != nil {
			t.Fatal(err)
		}
		p, err := s.Authenticate(ctx, auth.HashToken(old))
		if err != nil || !p.TokenExpires.Equal(clk.Now().Add(90*24*time.Hour)) {
			t.Fatalf("new token: %+v %v", p, err)
		}
		clk.Add(60 * 24 * time.Hour)
		_, newHash := auth.NewToken()
		exp, err := s.RotateToken(ctx, "d1", oldHash, newHash)
		if err != nil || !exp.Equal(clk.Now().Add(90*24*time.Hour)) {
			t.Fatalf("rotate: %v %v", exp, err)
		}
		for _, h := range []string{oldHash, newHash} {
			if _, err := s.Authenticate(ctx, h); err != nil {
				t.Fatalf("within the grace: %v", err)
			}
		}
		clk.Add(server.RotationGrace + time.Second)
		if _, err := s.Authenticate(ctx, oldHash); !errors.Is(err, server.ErrUnauthorized) {
			t.Fatalf("the rotated-out token after the grace: %v", err)
		}
		clk.Add(90 * 24 * time.Hour)
		if _, err := s.Authenticate(ctx, newHash); !errors.Is(err, server.ErrTokenExpired) {
			t.Fatalf("an expired token: %v", err)
		}
		if err := s.RevokeDevice(ctx, "d1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RotateToken(ctx, "d1", newHash, oldHash); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("a revoked device rotated: %v", err)
		}
	})
}
