package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0008PointIndex makes the index of point positions partial (lat IS NOT
// NULL). A box search's line part asks for `lat IS NULL`; with the full
// index SQLite could take that for a selective equality on it whenever its
// sampled statistics say lat is nearly unique — as the bounded ANALYZE that
// serve runs at start does say — and read every line asset
// (docs/performance.md). Excluding NULLs leaves the line part one index,
// ix_assets_line_box, whatever the statistics; a range on lat still implies
// the index's condition on both databases.
func m0008PointIndex() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0008_point_index",
		Migrate: func(tx *gorm.DB) error {
			for _, q := range []string{
				`CREATE INDEX ix_assets_point_nn ON assets (lat, lon) WHERE lat IS NOT NULL`,
				`DROP INDEX ix_assets_point`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}
}
