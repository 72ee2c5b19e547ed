package auth

import (
	"context"
	"encoding/json"
	"fmt"

	"infrashare"
	"infrashare/database"
)

// Settings reads the dated settings table: each key has rows valid from a
// date, and the row in force on a day is the latest that began on or
// before it. Values are JSON.
type Settings struct {
	db    *database.DB
	clock infrashare.Clock
}

// NewSettings returns the settings reader.
func NewSettings(db *database.DB, clock infrashare.Clock) *Settings {
	return &Settings{db: db, clock: clock}
}

// Today is the current civil date in Vietnam.
func (s *Settings) Today() infrashare.Date { return Today(s.clock) }

// Today is the civil date in Asia/Ho_Chi_Minh of the clock's now.
func Today(c infrashare.Clock) infrashare.Date {
	return infrashare.DateOf(c.Now().In(Vietnam))
}

// Vietnam is where the users are: civil dates are in this zone.
var Vietnam = mustLoadZone("Asia/Ho_Chi_Minh")

// GetOn decodes the value of key in force on day into dst; found is false
// when the key has no row by then.
func (s *Settings) GetOn(ctx context.Context, key string, day infrashare.Date, dst any) (found bool, err error) {
	var raw []string
	err = s.db.Conn(ctx).Table("settings").Where("key = ? AND valid_from <= ?", key, day.String()).
		Order("valid_from DESC").Limit(1).Pluck("value", &raw).Error
	if err != nil {
		return false, err
	}
	if len(raw) == 0 {
		return false, nil
	}
	if err := json.Unmarshal([]byte(raw[0]), dst); err != nil {
		return false, fmt.Errorf("setting %s: %w", key, err)
	}
	return true, nil
}

// Get decodes the value of key in force today, leaving dst as it is (the
// caller's default) when there is none.
func (s *Settings) Get(ctx context.Context, key string, dst any) error {
	_, err := s.GetOn(ctx, key, s.Today(), dst)
	return err
}
