package migrations

import (
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	"infrashare"
)

// m0003Register adds the register: assets with their capacity counters and
// allocations, and the policies of their routes. Frozen.
func m0003Register() *gormigrate.Migration {
	type asset struct {
		ID      int64  `gorm:"primaryKey"`
		OwnerID int64  `gorm:"not null;uniqueIndex:ux_assets_owner_code,priority:1"`
		Code    string `gorm:"type:varchar(64);not null;uniqueIndex:ux_assets_owner_code,priority:2"`
		Kind    string `gorm:"type:varchar(16);not null"`
		Status  string `gorm:"type:varchar(24);not null"`
		// Geometry is GeoJSON in WGS84, as sent.
		Geometry string `gorm:"type:text;not null"`
		// Points: the position, and the position rounded to 0.01° that
		// other operators see of a restricted site.
		Lat       *float64 `gorm:"type:double precision"`
		Lon       *float64 `gorm:"type:double precision"`
		CoarseLat *float64 `gorm:"type:double precision"`
		CoarseLon *float64 `gorm:"type:double precision"`
		// Every asset: its bounding box (a point's is the point).
		MinLat   float64 `gorm:"type:double precision;not null"`
		MinLon   float64 `gorm:"type:double precision;not null"`
		MaxLat   float64 `gorm:"type:double precision;not null"`
		MaxLon   float64 `gorm:"type:double precision;not null"`
		UnitCode string  `gorm:"type:varchar(16);not null;default:'';index"`
		// Folded (lower case, no diacritics) code and address for search:
		// SQLite's LOWER knows only ASCII.
		SearchCode    string   `gorm:"type:varchar(64);not null;default:''"`
		SearchAddress string   `gorm:"type:varchar(500);not null;default:''"`
		Address       string   `gorm:"type:varchar(500);not null;default:''"`
		InServiceOn   *string  `gorm:"type:date"`
		HeightM       *float64 `gorm:"type:double precision"`
		Class         string   `gorm:"type:varchar(16);not null;default:''"`
		Structure     string   `gorm:"type:varchar(100);not null;default:''"`
		Tubes         *int
		DiameterMM    *float64 `gorm:"column:diameter_mm;type:double precision"`
		LengthM       *float64 `gorm:"type:double precision"`
		Restricted    bool     `gorm:"not null;default:false"`
		RentVND       *int64   `gorm:"column:rent_vnd"`
		Contact       string   `gorm:"type:varchar(300);not null;default:''"`
		CapacityUnit  string   `gorm:"type:varchar(16);not null"`
		// The check holds on both databases whatever a bug in the code
		// might try: capacity never below zero nor beyond the total.
		CapacityTotal int `gorm:"not null;check:ck_assets_capacity,reserved_units >= 0 AND active_units >= 0 AND reserved_units + active_units <= capacity_total"`
		ReservedUnits int `gorm:"not null;default:0"`
		ActiveUnits   int `gorm:"not null;default:0"`
		Version       int `gorm:"not null;default:1"`
		CreatedAt     time.Time
		UpdatedAt     time.Time
	}
	type allocation struct {
		ID                  int64   `gorm:"primaryKey"`
		AssetID             int64   `gorm:"not null;index"`
		TenantOrgID         int64   `gorm:"not null;index"`
		Purpose             string  `gorm:"type:varchar(16);not null"` // owner, colocation, existing
		Units               int     `gorm:"not null;check:ck_allocations_units,units > 0"`
		Status              string  `gorm:"type:varchar(16);not null"` // reserved, active, released
		Since               string  `gorm:"type:date;not null"`
		Until               *string `gorm:"type:date"`
		ContractRef         string  `gorm:"type:varchar(100);not null;default:''"`
		RentVND             *int64  `gorm:"column:rent_vnd"`
		ColocationRequestID *int64  `gorm:"index"`
		Note                string  `gorm:"type:text;not null;default:''"`
		CreatedAt           time.Time
		UpdatedAt           time.Time
	}
	return &gormigrate.Migration{
		ID: "0003_register",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("assets").Migrator().CreateTable(&asset{}); err != nil {
				return err
			}
			if err := tx.Table("allocations").Migrator().CreateTable(&allocation{}); err != nil {
				return err
			}
			for _, q := range []string{
				// Nearby and bounding-box search: points by position, line
				// assets by the south edge of their box (their extent is
				// bounded), restricted sites by their rounded position.
				`CREATE INDEX ix_assets_point ON assets (lat, lon)`,
				`CREATE INDEX ix_assets_line ON assets (min_lat, min_lon) WHERE lat IS NULL`,
				`CREATE INDEX ix_assets_coarse ON assets (coarse_lat, coarse_lon) WHERE restricted = true`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			if dialect(tx) == "postgres" {
				for _, q := range []string{
					`ALTER TABLE assets ADD CONSTRAINT fk_assets_owner FOREIGN KEY (owner_id) REFERENCES organizations(id)`,
					`ALTER TABLE allocations ADD CONSTRAINT fk_allocations_asset FOREIGN KEY (asset_id) REFERENCES assets(id)`,
					`ALTER TABLE allocations ADD CONSTRAINT fk_allocations_tenant FOREIGN KEY (tenant_org_id) REFERENCES organizations(id)`,
				} {
					if err := tx.Exec(q).Error; err != nil {
						return err
					}
				}
			}
			if err := tx.Table("settings").Create(map[string]any{"key": "asset.default_capacity", "valid_from": "2000-01-01",
				"value": `{"tower":3,"pole":2,"cabinet":2,"manhole":4,"tunnel":10}`, "legal_basis": "", "updated_at": time.Now().UTC()}).Error; err != nil {
				return err
			}
			if err := addSearchKeys(tx); err != nil {
				return err
			}
			return insertPolicies(tx, registerPolicies())
		},
	}
}

func registerPolicies() []policy {
	var out []policy
	for _, r := range []struct{ path, method string }{
		{"/api/v1/admin-units", "GET"},
		{"/api/v1/assets", "GET"},
		{"/api/v1/assets/nearby", "GET"},
		{"/api/v1/assets.geojson", "GET"},
		{"/api/v1/assets/export", "GET"},
		{"/api/v1/assets/:id", "GET"},
		{"/api/v1/assets/:id/allocations", "GET"},
		{"/api/v1/assets/:id/history", "GET"},
	} {
		out = append(out, p("signed_in", r.path, r.method))
	}
	for _, r := range []struct{ path, method string }{
		{"/api/v1/admin-units", "POST"},
		{"/api/v1/admin-units/import", "POST"},
		{"/api/v1/admin-units/:code/retire", "POST"},
	} {
		out = append(out, p("admin", r.path, r.method))
	}
	for _, r := range []struct{ path, method string }{
		{"/api/v1/assets", "POST"},
		{"/api/v1/assets/import", "POST"},
		{"/api/v1/allocations/import", "POST"},
		{"/api/v1/assets/:id", "PATCH"},
		{"/api/v1/assets/:id", "DELETE"},
		{"/api/v1/assets/:id/allocations", "POST"},
		{"/api/v1/assets/:id/allocations/:allocation_id", "DELETE"},
	} {
		out = append(out, p("operator", r.path, r.method))
	}
	return out
}

// addSearchKeys gives users and organisations a folded search key, filled
// for the rows that exist.
func addSearchKeys(tx *gorm.DB) error {
	for _, t := range []struct{ table, cols string }{
		{"users", "email, name"},
		{"organizations", "code, name"},
	} {
		if err := tx.Exec("ALTER TABLE " + t.table + " ADD COLUMN search_key varchar(600) NOT NULL DEFAULT ''").Error; err != nil {
			return err
		}
		var rows []struct {
			ID   int64
			A, B string
		}
		a, b, _ := strings.Cut(t.cols, ", ")
		if err := tx.Table(t.table).Select("id, " + a + " AS a, " + b + " AS b").Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			if err := tx.Table(t.table).Where("id = ?", r.ID).Update("search_key", infrashare.Fold(r.A+" "+r.B)).Error; err != nil {
				return err
			}
		}
	}
	return nil
}
