package database

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"infrashare"
)

// IsRetryable reports a PostgreSQL serialization failure (40001) or deadlock
// (40P01), or SQLite's busy answer: the whole transaction may be tried again.
func IsRetryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40001" || pg.Code == "40P01"
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

func retryExhausted(err error) error {
	return &infrashare.Error{Code: infrashare.ECONFLICT,
		Message: "the database was busy with concurrent changes; try again", Err: err}
}

// IsUniqueViolation reports a broken unique constraint on either database.
func IsUniqueViolation(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// IsNotFound reports GORM's record-not-found.
func IsNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }
