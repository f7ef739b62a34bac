// Package testrig finds or starts the real parts tests talk to (PostgreSQL,
// Xvfb, Kamailio, SIPp) and tears them down. Without a part a test skips
// locally with the reason and fails when CI=true: a missing part never passes
// silently. It is imported only by tests.
package testrig
