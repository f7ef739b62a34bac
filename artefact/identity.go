package artefact

import (
	"fmt"
	"strings"

	"filippo.io/age"
)

// NewIdentity makes a new organisation key pair: the age identity
// ("AGE-SECRET-KEY-1…", a secret for the keyring or the data-protection
// officer's safe) and its public recipient ("age1…") that recordings are
// encrypted to.
func NewIdentity() (identity, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", "", fmt.Errorf("make organisation key: %w", err)
	}
	return id.String(), id.Recipient().String(), nil
}

// RecipientOf returns the public recipient of an age identity string.
func RecipientOf(identity string) (string, error) {
	id, err := age.ParseX25519Identity(identity)
	if err != nil {
		return "", fmt.Errorf("organisation key: %w", err)
	}
	return id.Recipient().String(), nil
}

// ParseRecipients parses age public keys ("age1…").
func ParseRecipients(keys []string) ([]age.Recipient, error) {
	out := make([]age.Recipient, 0, len(keys))
	for _, k := range keys {
		rs, err := age.ParseRecipients(strings.NewReader(k))
		if err != nil {
			return nil, fmt.Errorf("recipient %q: %w", k, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}

// RecipientsOf returns the public recipients of X25519 identities; other
// kinds of identity are skipped.
func RecipientsOf(ids []age.Identity) []age.Recipient {
	var out []age.Recipient
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok {
			out = append(out, x.Recipient())
		}
	}
	return out
}
