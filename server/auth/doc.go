// Package auth holds the server's secrets handling: password hashes
// (bcrypt), device tokens (random, stored only as their sha256) and the
// limiter that slows down repeated failed logins. It never logs or returns a
// password or a token except the one it just created.
package auth
