package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0006Scale makes the two national-scale queries cheap (docs/performance.md):
//
//   - the line part of a box search checks the whole box inside the index
//     instead of on table rows: ix_assets_line_box replaces ix_assets_line
//     (expand: the old index is dropped only after the new one exists, and no
//     release names either in its queries);
//   - the sharing-ratio report reads monthly counts kept beside the BTS
//     records, in the same transaction as every write, instead of grouping
//     every record of the period.
func m0006Scale() *gormigrate.Migration {
	type btsMonthlyCount struct {
		Year           int    `gorm:"primaryKey;autoIncrement:false"`
		Month          int    `gorm:"primaryKey;autoIncrement:false"`
		UnitCode       string `gorm:"primaryKey;type:varchar(16)"`
		OperatorOrgID  int64  `gorm:"primaryKey;autoIncrement:false"`
		Classification string `gorm:"primaryKey;type:varchar(16)"`
		N              int64  `gorm:"not null"`
	}
	return &gormigrate.Migration{
		ID: "0006_scale",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("bts_monthly_counts").Migrator().CreateTable(&btsMonthlyCount{}); err != nil {
				return err
			}
			for _, q := range []string{
				`CREATE INDEX ix_assets_line_box ON assets (min_lat, min_lon, max_lat, max_lon) WHERE lat IS NULL`,
				`DROP INDEX ix_assets_line`,
				`INSERT INTO bts_monthly_counts (year, month, unit_code, operator_org_id, classification, n)
				 SELECT CAST(substr(CAST(on_air_on AS TEXT), 1, 4) AS INTEGER), CAST(substr(CAST(on_air_on AS TEXT), 6, 2) AS INTEGER),
				        unit_code, operator_org_id, classification, count(*)
				 FROM bts_deployments GROUP BY 1, 2, 3, 4, 5`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}
}
