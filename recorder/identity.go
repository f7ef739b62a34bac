package recorder

import "github.com/callguard/callguard/artefact"

// NewIdentity makes a new organisation key pair: the age identity
// ("AGE-SECRET-KEY-1…", a secret for the keyring or the data-protection
// officer's safe) and its public recipient ("age1…") that recordings are
// encrypted to. callguard's embedded demo server uses one when IT has set no
// organisation key.
func NewIdentity() (identity, recipient string, err error) { return artefact.NewIdentity() }

// RecipientOf returns the public recipient of an age identity string.
func RecipientOf(identity string) (string, error) { return artefact.RecipientOf(identity) }
