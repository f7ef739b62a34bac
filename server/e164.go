package server

import (
	"fmt"
	"strings"
)

// E164 returns the phone number s in E.164 ("+447700900123"), from any of
// the forms people write UK and international numbers in: "07700 900123",
// "+44 7700 900123", "+44 (0)7700 900123", "(01632) 960555",
// "0044 1632 960555", "01632-960555". A number without a country code is
// taken as a UK one (it must start with its 0). Spaces, dots, hyphens,
// slashes and brackets are ignored. Anything else (letters, an extension
// such as "1001", too few or too many digits) fails with an error wrapping
// ErrInvalid whose text says what is wrong, in words for the person who
// typed it.
//
// The same function normalises numbers when calls arrive and when they are
// searched for, so the two always agree.
func E164(s string) (string, error) {
	var b strings.Builder
	plus := false
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0 && !plus:
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '/' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", fmt.Errorf("%q is not a phone number: it has %q at character %d (use digits, spaces and an optional + at the start): %w", clip(s), r, i+1, ErrInvalid)
		}
	}
	d := b.String()
	if d == "" {
		return "", fmt.Errorf("%q is not a phone number: it has no digits: %w", clip(s), ErrInvalid)
	}
	switch {
	case plus:
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case strings.HasPrefix(d, "0"):
		d = "44" + d[1:]
	default:
		return "", fmt.Errorf("%q is not a full phone number: start a UK number with its 0 (07700 900123) or give the country code with + (+44 7700 900123): %w", clip(s), ErrInvalid)
	}
	// "+44 (0)1632 960555": the trunk 0 written after the country code.
	if strings.HasPrefix(d, "440") {
		d = "44" + d[3:]
	}
	if strings.HasPrefix(d, "0") {
		return "", fmt.Errorf("%q is not a phone number: a country code never starts with 0: %w", clip(s), ErrInvalid)
	}
	if strings.HasPrefix(d, "44") {
		if strings.HasPrefix(d, "440") {
			return "", fmt.Errorf("%q is not a UK phone number: UK area codes never start with 00: %w", clip(s), ErrInvalid)
		}
		// A UK number has 9 or 10 digits after the country code.
		if n := len(d) - 2; n < 9 || n > 10 {
			return "", fmt.Errorf("%q is not a UK phone number: it has %d digits after the 0, and UK numbers have 9 or 10: %w", clip(s), n, ErrInvalid)
		}
		return "+" + d, nil
	}
	// E.164 allows at most 15 digits; no real number has fewer than 7.
	if len(d) < 7 || len(d) > 15 {
		return "", fmt.Errorf("%q is not a phone number: it has %d digits with its country code, and numbers have 7 to 15: %w", clip(s), len(d), ErrInvalid)
	}
	return "+" + d, nil
}

// E164OrEmpty is E164's number, or "" when s is not a full number (an
// extension, "anonymous"): what is stored beside the number as sent.
func E164OrEmpty(s string) string {
	n, err := E164(s)
	if err != nil {
		return ""
	}
	return n
}

// clip keeps an echoed input short in a message.
func clip(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
