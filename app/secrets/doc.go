// Package secrets keeps callguard's passwords and tokens in the OS keyring
// (Windows Credential Manager, macOS Keychain, the Secret Service on Linux).
// Nothing it holds is ever written to a file or a log; when no keyring is
// reachable it keeps secrets in memory only, and says so.
package secrets
