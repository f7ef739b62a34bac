package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestE164(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"07700 900123", "+447700900123"},
		{"+44 7700 900123", "+447700900123"},
		{"+44 (0)7700 900123", "+447700900123"},
		{"0044 7700 900123", "+447700900123"},
		{"(01632) 960555", "+441632960555"},
		{"01632 960555", "+441632960555"},
		{"01632-960-555", "+441632960555"},
		{"020 7946 0018", "+442079460018"},
		{"+1 (202) 555-0143", "+12025550143"},
		{"00 33 1 23 45 67 89", "+33123456789"},
		{" +447700900123 ", "+447700900123"},
	} {
		got, err := E164(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("E164(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestE164Refuses(t *testing.T) {
	for _, tc := range []struct{ in, says string }{
		{"", "no digits"},
		{"1001", "start a UK number with its 0"},
		{"7700 900123", "start a UK number with its 0"},
		{"077009001", "9 or 10"},
		{"077009001234567", "9 or 10"},
		{"07700 9OO123", "has 'O'"},
		{"+44 7700 900123 ext 2", "has 'e'"},
		{"++447700900123", "has '+'"},
		{"0770+0900123", "has '+'"},
		{"+0 1234 5678", "never starts with 0"},
		{"+1234", "7 to 15"},
		{"+1234567890123456", "7 to 15"},
		{"anonymous", "has 'a'"},
	} {
		got, err := E164(tc.in)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("E164(%q) = %q, %v; want an invalid-input error that says %q", tc.in, got, err, tc.says)
		}
	}
}

// FuzzE164: whatever comes in, the answer is a valid E.164 number or an
// invalid-input error, normalising is idempotent, and the forms people
// write the same number in agree.
func FuzzE164(f *testing.F) {
	for _, s := range []string{"07700 900123", "+44 7700 900123", "(01632) 960555", "0044 1632 960555", "+44 (0)20 7946 0018", "1001", "", "+", "00", "0", "+1 202 555 0143", "ⅷ", "０７７００"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := E164(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("E164(%q): error %v does not wrap ErrInvalid", s, err)
			}
			if !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("E164(%q): message is not valid UTF-8", s)
			}
			return
		}
		if !strings.HasPrefix(n, "+") || len(n) < 8 || len(n) > 16 || n[1] == '0' {
			t.Fatalf("E164(%q) = %q: not E.164", s, n)
		}
		for _, r := range n[1:] {
			if r < '0' || r > '9' {
				t.Fatalf("E164(%q) = %q: not digits", s, n)
			}
		}
		if again, err := E164(n); err != nil || again != n {
			t.Fatalf("E164(E164(%q)) = %q, %v; want %q", s, again, err, n)
		}
		if strings.HasPrefix(n, "+44") {
			national := "0" + n[3:]
			if m, err := E164(national); err != nil || m != n {
				t.Fatalf("E164(%q) = %q, %v; the national form of %q", national, m, err, n)
			}
			if m, err := E164("00" + n[1:]); err != nil || m != n {
				t.Fatalf("E164(00…) = %q, %v; want %q", m, err, n)
			}
		}
	})
}

// TestNumberKeyIsOneKeyPerNumber: every spelling of a whole number keys
// alike, a number that is not whole keys as written without its spacing,
// and a lookup audited before the keys were E.164 (the hash of the number
// without its spacing, as the audit then held it) is still found.
func TestNumberKeyIsOneKeyPerNumber(t *testing.T) {
	for _, n := range []string{"07700 900123", "+44 7700 900123", "0044 7700 900123", "+44 (0)7700 900123", "(07700) 900-123"} {
		if k := NumberKey(n); k != "+447700900123" {
			t.Errorf("NumberKey(%q) = %q, want +447700900123", n, k)
		}
	}
	if k := NumberKey("ext. 2001"); k != "ext2001" {
		t.Errorf("NumberKey of an extension = %q", k)
	}
	secret := []byte("secret")
	old := hmac.New(sha256.New, secret)
	old.Write([]byte("07700900123"))
	legacy := "number:" + hex.EncodeToString(old.Sum(nil))
	got := NumberTargets(secret, "07700 900123")
	if len(got) != 2 || got[0] != NumberTarget(secret, "+447700900123") || got[1] != legacy {
		t.Errorf("NumberTargets = %v, want the E.164 target and %s", got, legacy)
	}
	if got := NumberTargets(secret, "+447700900123"); len(got) != 1 {
		t.Errorf("NumberTargets of a number already in E.164 = %v, want one", got)
	}
}
