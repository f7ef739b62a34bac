package policy_test

import (
	"strings"
	"testing"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

// TestPlainHTTPOriginsOnlyForLocalhost: a page served over plain HTTP can
// be changed by anyone between it and the browser, so a policy may allow
// an http:// origin only on this computer (localhost, 127.0.0.1, [::1]);
// anything else is refused with words that say what to do.
func TestPlainHTTPOriginsOnlyForLocalhost(t *testing.T) {
	base, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		origin string
		want   string // "" accepted, else a part of the error
	}{
		{"https://crm.example.org", ""},
		{"https://crm.example.org:8443", ""},
		{"http://localhost:3000", ""},
		{"http://127.0.0.1:8080", ""},
		{"http://[::1]:8080", ""},
		{"http://crm.example.org", "http:// is allowed only for localhost"},
		{"http://10.0.0.7:8080", "http:// is allowed only for localhost"},
		{"http://localhost.evil.example", "http:// is allowed only for localhost"},
		{"https://crm.example.org/app", "an origin has no path"},
		{"https://user@crm.example.org", "an origin has no path"},
		{"ftp://crm.example.org", "must be an origin like https://crm.example.org"},
	} {
		_, err := base.Overlay([]byte(`{"allowed_origins": ["` + tc.origin + `"]}`))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s refused: %v", tc.origin, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error with %q", tc.origin, err, tc.want)
		}
	}
}
