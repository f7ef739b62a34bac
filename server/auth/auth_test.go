package auth

import (
	"testing"
	"time"
)

func TestPasswords(t *testing.T) {
	if _, err := HashPassword("short", 4); err == nil {
		t.Fatal("short password accepted")
	}
	h, err := HashPassword("a good long password", 4)
	if err != nil {
		t.Fatal(err)
	}
	if CheckPassword(h, "a good long password") != nil || CheckPassword(h, "a good long passworD") != ErrBadPassword {
		t.Fatal("password check")
	}
	if CheckPassword("", "") != ErrBadPassword {
		t.Fatal("an account without a password must never log in")
	}
}

func TestTokens(t *testing.T) {
	a, ha := NewToken()
	b, _ := NewToken()
	if a == b || !LooksLikeToken(a) || LooksLikeToken("cgd_short") || HashToken(a) != ha || len(ha) != 64 {
		t.Fatalf("tokens %q %q hash %q", a, b, ha)
	}
}

func TestLimiterBacksOffAndForgives(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := NewLimiter(func() time.Time { return now })
	for range 3 {
		l.Fail("u:olive", "ip:1")
	}
	if w := l.Wait("u:olive"); w != 0 {
		t.Fatalf("three failures cost %v", w)
	}
	l.Fail("u:olive", "ip:1")
	if w := l.Wait("u:olive"); w != time.Second {
		t.Fatalf("fourth failure: wait %v", w)
	}
	l.Fail("u:olive", "ip:1")
	if w := l.Wait("u:other", "ip:1"); w != 2*time.Second {
		t.Fatalf("fifth failure, same address: wait %v", w)
	}
	for range 30 {
		l.Fail("u:olive")
	}
	if w := l.Wait("u:olive"); w != 5*time.Minute {
		t.Fatalf("cap: %v", w)
	}
	l.Succeed("u:olive", "ip:1")
	if w := l.Wait("u:olive", "ip:1"); w != 0 {
		t.Fatalf("after success: %v", w)
	}
}
