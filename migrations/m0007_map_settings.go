package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0007MapSettings adds the map's tile-server settings, empty: the city
// network may not reach a tile server, so the map draws none until an admin
// names one (DESIGN §5). Settings are edited only where a row exists.
func m0007MapSettings() *gormigrate.Migration {
	type setting struct {
		Key        string `gorm:"primaryKey;type:varchar(100)"`
		ValidFrom  string `gorm:"primaryKey;type:date"`
		Value      string `gorm:"type:text;not null"`
		LegalBasis string `gorm:"type:text;not null;default:''"`
		UpdatedAt  time.Time
	}
	return &gormigrate.Migration{
		ID: "0007_map_settings",
		Migrate: func(tx *gorm.DB) error {
			now := time.Now().UTC().Truncate(time.Microsecond)
			for _, key := range []string{"map.tile_url", "map.tile_attribution"} {
				if err := tx.Table("settings").Create(&setting{Key: key, ValidFrom: "2000-01-01", Value: `""`, UpdatedAt: now}).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}
}
