package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the keyring service name callguard's secrets are filed under.
const Service = "callguard"

// Keys of the secrets callguard keeps.
const (
	SIPPassword   = "sip-password"    // digest password for the phone system
	DeviceToken   = "device-token"    // this desktop's token for the central server
	LocalAPIToken = "local-api-token" // bearer token CRM and payment pages present
)

// ErrNotFound is returned for a secret that was never stored.
var ErrNotFound = errors.New("secret not found")

// Store reads and writes secrets in the OS keyring.
type Store struct {
	service string

	mu         sync.Mutex
	persistent bool
	memory     map[string]string // used only when the keyring is unreachable
	why        error
}

// Open returns a store for service. It checks once that the OS keyring
// answers; if it does not, the store keeps secrets in memory for this run
// only (Persistent reports false and Unavailable says why).
func Open(service string) *Store {
	s := &Store{service: service, persistent: true}
	if err := probe(service); err != nil {
		s.persistent = false
		s.memory = map[string]string{}
		s.why = err
	}
	return s
}

// probeTimeout bounds the check that the keyring answers: a locked keyring
// that waits for a password prompt nobody sees must not hang the app.
const probeTimeout = 5 * time.Second

func probe(service string) error {
	if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		// Without a session bus, D-Bus would try to launch one and its
		// keyring would prompt on the display: treat it as absent instead.
		return errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
	}
	done := make(chan error, 1)
	go func() {
		_, err := keyring.Get(service, "callguard-probe")
		if errors.Is(err, keyring.ErrNotFound) {
			err = nil
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(probeTimeout):
		return fmt.Errorf("the keyring did not answer within %v (is it locked?)", probeTimeout)
	}
}

// Persistent reports whether secrets survive a restart (the OS keyring works).
func (s *Store) Persistent() bool { return s.persistent }

// Unavailable says why the keyring could not be used, or nil.
func (s *Store) Unavailable() error { return s.why }

// Get returns the secret stored under key.
func (s *Store) Get(key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.persistent {
		v, ok := s.memory[key]
		if !ok {
			return "", fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		return v, nil
	}
	v, err := keyring.Get(s.service, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read %s from the keyring: %w", key, err)
	}
	return v, nil
}

// Set stores value under key, replacing any earlier value.
func (s *Store) Set(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.persistent {
		s.memory[key] = value
		return nil
	}
	if err := keyring.Set(s.service, key, value); err != nil {
		return fmt.Errorf("store %s in the keyring: %w", key, err)
	}
	return nil
}

// Delete removes key; deleting a secret that is not there is not an error.
func (s *Store) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.persistent {
		delete(s.memory, key)
		return nil
	}
	if err := keyring.Delete(s.service, key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("delete %s from the keyring: %w", key, err)
	}
	return nil
}

// Token returns the secret under key, creating a random one (256 bits,
// URL-safe base64) on first use.
func (s *Store) Token(key string) (string, error) {
	v, err := s.Get(key)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", err
	}
	v, err = NewToken()
	if err != nil {
		return "", err
	}
	if err := s.Set(key, v); err != nil {
		return "", err
	}
	return v, nil
}

// NewToken returns a random 256-bit token in URL-safe base64.
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
