// Package infrashare holds the vocabulary every other package shares: the
// domain error type, civil dates and the clock. It imports nothing of the
// project, so every package may import it.
package infrashare

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error codes. The web package maps each to one HTTP status; domain code
// never thinks in status codes.
const (
	ENOTFOUND     = "not_found"         // the object does not exist or the caller may not know it exists
	EFORBIDDEN    = "forbidden"         // the caller is known but may not do this
	EUNAUTHORIZED = "unauthorized"      // nobody is signed in, or the sign-in is wrong
	ECONFLICT     = "conflict"          // state, version or capacity conflict
	EINVALID      = "validation_failed" // the input breaks a rule; Fields says which
	EMALFORMED    = "malformed"         // the input could not be read at all
	ETOOLARGE     = "too_large"
	ERATELIMITED  = "rate_limited"
	EUNAVAILABLE  = "unavailable" // a dependency such as the database is down
	EINTERNAL     = "internal"
)

// Error is the one error type that crosses package boundaries with meaning.
// Anything else reaching the web layer is treated as internal and its text is
// never shown to the client.
type Error struct {
	Code    string
	Message string
	// Fields names the offending input fields with a reason each.
	Fields map[string]string
	// Details carries extra, code-specific data for the error body (for
	// example the rows of a failed import, or permit candidates).
	Details map[string]any
	// Err is the cause, kept for logs only.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "; %s: %s", k, e.Fields[k])
		}
	}
	if e.Err != nil {
		b.WriteString(" (")
		b.WriteString(e.Err.Error())
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound says the object is unknown to the caller.
func NotFound(what string) *Error { return Errorf(ENOTFOUND, "%s not found", what) }

// Forbidden says the caller may not do this.
func Forbidden(format string, args ...any) *Error { return Errorf(EFORBIDDEN, format, args...) }

// Conflict says the state of the object does not allow this now.
func Conflict(format string, args ...any) *Error { return Errorf(ECONFLICT, format, args...) }

// Invalid builds a validation error naming one field.
func Invalid(field, reason string) *Error {
	return &Error{Code: EINVALID, Message: "validation failed", Fields: map[string]string{field: reason}}
}

// FieldErrors collects per-field reasons; Err returns nil when none were added.
type FieldErrors map[string]string

// Add records the first reason for a field.
func (f FieldErrors) Add(field, reason string) {
	if _, ok := f[field]; !ok {
		f[field] = reason
	}
}

// Err returns a validation error carrying the collected fields, or nil.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "validation failed", Fields: f}
}

// ErrorCode returns the code of err when it is (or wraps) an *Error, else
// EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}
