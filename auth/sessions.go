package auth

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"infrashare"
	"infrashare/database"
)

// SessionStore keeps the web sessions (scs) in the database, so that any
// replica serves any session. It stores the SHA-256 of each session token,
// never the token: the stock scs stores keep tokens in clear, which is why
// this one exists.
type SessionStore struct {
	db    *database.DB
	clock infrashare.Clock
}

// NewSessionStore returns the store.
func NewSessionStore(db *database.DB, clock infrashare.Clock) *SessionStore {
	return &SessionStore{db: db, clock: clock}
}

type sessionRow struct {
	TokenHash string `gorm:"primaryKey"`
	Data      []byte
	Expiry    time.Time
}

func (sessionRow) TableName() string { return "sessions" }

// FindCtx returns a live session's data.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row sessionRow
	err := s.db.Conn(ctx).Where("token_hash = ? AND expiry > ?", HashToken(token), s.clock.Now()).First(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return row.Data, true, nil
}

// CommitCtx writes a session.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := sessionRow{TokenHash: HashToken(token), Data: b, Expiry: expiry.UTC().Truncate(time.Microsecond)}
	return s.db.Conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token_hash"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry"}),
	}).Create(&row).Error
}

// DeleteCtx removes a session at once (sign-out).
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.db.Conn(ctx).Where("token_hash = ?", HashToken(token)).Delete(&sessionRow{}).Error
}

// Find, Commit and Delete satisfy scs.Store; scs prefers the Ctx methods.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit writes a session.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete removes a session.
func (s *SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// DeleteExpired removes sessions past their expiry; any replica may run it
// at any time, twice changes nothing.
func (s *SessionStore) DeleteExpired(ctx context.Context) error {
	return s.db.Conn(ctx).Where("expiry <= ?", s.clock.Now()).Delete(&sessionRow{}).Error
}
