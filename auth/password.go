package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"infrashare"
)

// MinPasswordLength is counted in characters, not bytes.
const MinPasswordLength = 10

// bcrypt reads at most 72 bytes; a longer password would be silently cut.
const maxPasswordBytes = 72

// bcryptCost is a variable so that tests can lower it.
var bcryptCost = bcrypt.DefaultCost

// CheckPasswordRules returns a validation error naming the field "password"
// when p is too short or too long.
func CheckPasswordRules(p string) error {
	if utf8.RuneCountInString(p) < MinPasswordLength {
		return infrashare.Invalid("password", "must be at least 10 characters")
	}
	if len(p) > maxPasswordBytes {
		return infrashare.Invalid("password", "must be at most 72 bytes")
	}
	return nil
}

// HashPassword hashes p with bcrypt after checking the rules.
func HashPassword(p string) (string, error) {
	if err := CheckPasswordRules(p); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), bcryptCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// PasswordMatches compares in constant time for a given hash.
func PasswordMatches(hash, p string) bool {
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(p))
	return err == nil
}

// RandomPassword returns a new password of 16 URL-safe characters.
func RandomPassword() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("no randomness: " + err.Error()))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
