package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0009ReportIndexes serves the sharing-ratio report under load
// (docs/performance.md, national scale over HTTP):
//   - the days of a partial month are counted from the records; with the
//     grouping columns in the index of on_air_on, PostgreSQL and SQLite
//     count them from the index alone instead of visiting one scattered
//     table page per record. It replaces the plain index of on_air_on.
//   - the whole months are summed from bts_monthly_counts by
//     year * 100 + month; an index of that expression gives PostgreSQL
//     statistics of it, without which it guessed a few dozen rows of
//     thousands, sorted them by unit text and took most of the report's
//     time.
func m0009ReportIndexes() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0009_report_indexes",
		Migrate: func(tx *gorm.DB) error {
			for _, q := range []string{
				`CREATE INDEX ix_bts_on_air_cover ON bts_deployments (on_air_on, operator_org_id, unit_code, classification)`,
				`DROP INDEX idx_bts_deployments_on_air_on`,
				`CREATE INDEX ix_bts_counts_month ON bts_monthly_counts ((year * 100 + month))`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}
}
