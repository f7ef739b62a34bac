// Package localapi serves the local HTTP API that CRM and payment pages use
// to pause and resume recording, on 127.0.0.1 only. Every request needs the
// bearer token from the keyring; browsers are accepted only from the policy's
// allowed origins. It turns requests into the core's intents and decides
// nothing itself.
package localapi
