package recorder

import (
	"fmt"

	"filippo.io/age"
)

// NewIdentity makes a new organisation key pair: the age identity
// ("AGE-SECRET-KEY-1…", a secret for the keyring or the data-protection
// officer's safe) and its public recipient ("age1…") that recordings are
// encrypted to. callguard's embedded demo server uses one when IT has set no
// organisation key.
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
