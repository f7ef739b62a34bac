package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// TokenPrefix starts every device token, so a leaked one is easy to
// recognise in a secret scanner.
const TokenPrefix = "cgd_"

// ErrBadPassword is returned by CheckPassword for a wrong password.
var ErrBadPassword = errors.New("wrong password")

// MinPasswordLen is the shortest password HashPassword accepts.
const MinPasswordLen = 10

// HashPassword returns the bcrypt hash of password at cost (0 means
// bcrypt.DefaultCost). Tests pass bcrypt.MinCost to stay fast.
func HashPassword(password string, cost int) (string, error) {
	if len(password) < MinPasswordLen {
		return "", fmt.Errorf("password must have at least %d characters", MinPasswordLen)
	}
	if len(password) > 72 {
		return "", errors.New("password must have at most 72 bytes (bcrypt)")
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword compares password with a hash from HashPassword.
func CheckPassword(hash, password string) error {
	if hash == "" {
		// Accounts without a password (the embedded local agent) never log in,
		// but spend the same time as a real check.
		SpendCheck(password, 0)
		return ErrBadPassword
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)); err != nil {
		return ErrBadPassword
	}
	return nil
}

// SpendCheck costs what checking a password hashed at cost (0: bcrypt's
// default) costs, for logins of unknown users, so timing does not tell
// which usernames exist.
func SpendCheck(password string, cost int) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, ok := dummyHashes.Load(cost)
	if !ok {
		b, _ := bcrypt.GenerateFromPassword([]byte("callguard-dummy-password"), cost)
		h, _ = dummyHashes.LoadOrStore(cost, b)
	}
	bcrypt.CompareHashAndPassword(h.([]byte), []byte(password))
}

// dummyHashes are the hashes SpendCheck compares with, by cost.
var dummyHashes sync.Map

// NewToken returns a new random device token and its hash for storage.
func NewToken() (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the hex sha256 of a token: what the store keeps.
// Tokens carry 256 random bits, so a fast hash is enough.
func HashToken(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// LooksLikeToken reports whether s has the shape of a device token.
func LooksLikeToken(s string) bool {
	return strings.HasPrefix(s, TokenPrefix) && len(s) == len(TokenPrefix)+43
}

// NewID returns a random 128-bit id in hex, for devices.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
