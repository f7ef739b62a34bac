package wire

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCutKeepsWholeCharacters(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short enough", "Olive", 10, "Olive"},
		{"ascii", "abcdef", 3, "abc"},
		{"two-byte character on the edge", "aé", 2, "a"},
		{"three-byte character on the edge", "a€b", 3, "a"},
		{"four-byte character whole", "a😀", 5, "a😀"},
		{"four-byte character cut", "a😀", 4, "a"},
		{"zero", "abc", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Cut(tc.in, tc.n); got != tc.want {
				t.Fatalf("Cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

func FuzzCut(f *testing.F) {
	f.Add(strings.Repeat("Zoë ", 80), MaxNameLen)
	f.Add("\xff\xfe€", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		got := Cut(s, n)
		if len(got) > n || !strings.HasPrefix(s, got) {
			t.Fatalf("Cut(%q, %d) = %q", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Cut(%q, %d) = %q splits a character", s, n, got)
		}
		if len(s) <= n && got != s {
			t.Fatalf("Cut changed a string within the limit")
		}
	})
}

func TestValidID(t *testing.T) {
	for s, want := range map[string]bool{
		"c0ffee": true, "a-b_C9": true, "": false, "../etc": false, "a b": false,
		strings.Repeat("x", MaxIDLen): true, strings.Repeat("x", MaxIDLen+1): false,
	} {
		if ValidID(s) != want {
			t.Errorf("ValidID(%q) = %v", s, !want)
		}
	}
}
