package artefact_test

import (
	"strings"
	"testing"

	"github.com/callguard/callguard/artefact"
)

func TestNewIdentityRoundTrips(t *testing.T) {
	id, rcpt, err := artefact.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "AGE-SECRET-KEY-1") || !strings.HasPrefix(rcpt, "age1") {
		t.Fatalf("identity %.16s… recipient %s", id, rcpt)
	}
	got, err := artefact.RecipientOf(id)
	if err != nil || got != rcpt {
		t.Fatalf("RecipientOf = %s, %v; want %s", got, err, rcpt)
	}
	if _, err := artefact.RecipientOf("not a key"); err == nil {
		t.Fatal("garbage accepted as an identity")
	}
}
