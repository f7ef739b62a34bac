package auth

import (
	"fmt"
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
	try := func(user, addr string) time.Duration {
		t.Helper()
		_, wait := l.Reserve(user, addr)
		return wait
	}
	for range 4 {
		if w := try("olive", "1"); w != 0 {
			t.Fatalf("the first four attempts wait %v", w)
		}
	}
	if w := try("olive", "2"); w != time.Second {
		t.Fatalf("after four failures: wait %v", w)
	}
	if w := try("other", "1"); w != 0 {
		t.Fatalf("another account from the same address: wait %v", w)
	}
	now = now.Add(time.Second)
	try("olive", "1")
	if w := try("olive", "3"); w != 2*time.Second {
		t.Fatalf("after five failures: wait %v", w)
	}
	for range 30 {
		now = now.Add(10 * time.Minute)
		try("olive", "x")
	}
	if w := try("olive", "y"); w != 5*time.Minute {
		t.Fatalf("cap: %v", w)
	}
	// A success clears the account, but not the address's failures.
	now = now.Add(5 * time.Minute)
	a, w := l.Reserve("olive", "1")
	if w != 0 {
		t.Fatal(w)
	}
	a.Succeeded()
	if w := try("olive", "z"); w != 0 {
		t.Fatalf("after a success: %v", w)
	}
	// An address spraying many accounts: 10 free, the 11th starts the delay.
	for i := range 11 {
		if w := try(fmt.Sprint("spray", i), "9"); w != 0 {
			t.Fatalf("spray %d: %v", i, w)
		}
	}
	if w := try("spray", "9"); w == 0 {
		t.Fatal("an address after 11 failures is not slowed")
	}
	// An hour later its failures are forgotten.
	now = now.Add(61 * time.Minute)
	for i := range 10 {
		if w := try(fmt.Sprint("later", i), "9"); w != 0 {
			t.Fatalf("an hour later, attempt %d waits %v", i, w)
		}
	}
}
