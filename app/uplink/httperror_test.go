package uplink_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/server"
)

// A refusal reaches the caller as an *uplink.HTTPError with the status and
// the server's words, and still unwraps to the status's sentinel error.
func TestARefusalIsATypedError(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		w.Write([]byte(`{"error":"review item f1 is done, not open"}`))
	}))
	defer hs.Close()
	c := uplink.New(uplink.Options{BaseURL: hs.URL, Token: static("t"), Logger: quiet()})
	_, err := c.Decide(context.Background(), "f1", server.Decision{Action: "keep"})
	var he *uplink.HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("Decide = %v (%T), want an *uplink.HTTPError", err, err)
	}
	if he.Status != http.StatusConflict || he.Message != "review item f1 is done, not open" {
		t.Fatalf("HTTPError{Status: %d, Message: %q}", he.Status, he.Message)
	}
	if !errors.Is(err, uplink.ErrConflict) {
		t.Fatalf("%v does not unwrap to ErrConflict", err)
	}
}
