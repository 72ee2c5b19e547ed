package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0001Foundation creates administrative units, organisations and users,
// settings and targets, and the seed-run marker, with plan 216's reference
// data for Can Tho. Frozen.
func m0001Foundation() *gormigrate.Migration {
	type adminUnit struct {
		ID         int64   `gorm:"primaryKey"`
		Code       string  `gorm:"type:varchar(16);not null;uniqueIndex:ux_admin_units_code_from,priority:1"`
		ValidFrom  string  `gorm:"type:date;not null;uniqueIndex:ux_admin_units_code_from,priority:2"`
		ValidTo    *string `gorm:"type:date"`
		Name       string  `gorm:"type:varchar(200);not null"`
		Level      string  `gorm:"type:varchar(16);not null"`
		ParentCode *string `gorm:"type:varchar(16);index"`
		Urban      bool    `gorm:"not null;default:false"`
		Boundary   *string `gorm:"type:text"`
		MinLat     *float64
		MinLon     *float64
		MaxLat     *float64
		MaxLon     *float64
		CreatedAt  time.Time `gorm:"not null"`
	}
	type organization struct {
		ID           int64   `gorm:"primaryKey"`
		Code         string  `gorm:"type:varchar(32);not null;uniqueIndex"`
		Name         string  `gorm:"type:varchar(300);not null"`
		Kind         string  `gorm:"type:varchar(16);not null"`
		GroupCode    *string `gorm:"type:varchar(32);index"`
		ContactName  string  `gorm:"type:varchar(200);not null;default:''"`
		ContactEmail string  `gorm:"type:varchar(320);not null;default:''"`
		ContactPhone string  `gorm:"type:varchar(40);not null;default:''"`
		CreatedAt    time.Time
		UpdatedAt    time.Time
	}
	type orgJurisdiction struct {
		OrgID    int64  `gorm:"primaryKey;autoIncrement:false"`
		UnitCode string `gorm:"primaryKey;type:varchar(16)"`
	}
	type user struct {
		ID           int64  `gorm:"primaryKey"`
		OrgID        int64  `gorm:"not null;index"`
		Email        string `gorm:"type:varchar(320);not null;uniqueIndex"`
		Name         string `gorm:"type:varchar(200);not null;default:''"`
		PasswordHash string `gorm:"type:varchar(200);not null"`
		Roles        string `gorm:"type:varchar(100);not null"`
		Disabled     bool   `gorm:"not null;default:false"`
		Demo         bool   `gorm:"not null;default:false"`
		CreatedAt    time.Time
		UpdatedAt    time.Time
	}
	type setting struct {
		Key        string `gorm:"primaryKey;type:varchar(100)"`
		ValidFrom  string `gorm:"primaryKey;type:date"`
		Value      string `gorm:"type:text;not null"` // JSON
		LegalBasis string `gorm:"type:text;not null;default:''"`
		UpdatedAt  time.Time
		UpdatedBy  *int64
	}
	type target struct {
		Plan     string  `gorm:"primaryKey;type:varchar(64)"`
		Metric   string  `gorm:"primaryKey;type:varchar(64)"`
		UnitCode string  `gorm:"primaryKey;type:varchar(16)"`
		Year     int     `gorm:"primaryKey;autoIncrement:false"`
		Value    float64 `gorm:"not null"`
		Note     string  `gorm:"type:text;not null;default:''"`
	}
	type counter struct {
		Name  string `gorm:"primaryKey;type:varchar(100)"`
		Value int64  `gorm:"not null;default:0"`
	}
	type seedRun struct {
		Name string    `gorm:"primaryKey;type:varchar(64)"`
		At   time.Time `gorm:"not null"`
	}
	tables := []struct {
		name  string
		model any
	}{
		{"admin_units", &adminUnit{}},
		{"organizations", &organization{}},
		{"org_jurisdictions", &orgJurisdiction{}},
		{"users", &user{}},
		{"settings", &setting{}},
		{"targets", &target{}},
		{"counters", &counter{}},
		{"seed_runs", &seedRun{}},
	}
	return &gormigrate.Migration{
		ID: "0001_foundation",
		Migrate: func(tx *gorm.DB) error {
			for _, t := range tables {
				if err := tx.Table(t.name).Migrator().CreateTable(t.model); err != nil {
					return err
				}
			}
			if dialect(tx) == "postgres" {
				if err := tx.Exec(`ALTER TABLE users ADD CONSTRAINT fk_users_org FOREIGN KEY (org_id) REFERENCES organizations(id)`).Error; err != nil {
					return err
				}
				if err := tx.Exec(`ALTER TABLE org_jurisdictions ADD CONSTRAINT fk_jurisdictions_org FOREIGN KEY (org_id) REFERENCES organizations(id)`).Error; err != nil {
					return err
				}
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			for _, u := range canThoUnits() {
				row := adminUnit{Code: u.code, ValidFrom: u.validFrom, Name: u.name, Level: u.level,
					ParentCode: u.parent, Urban: u.urban, CreatedAt: now}
				if err := tx.Table("admin_units").Create(&row).Error; err != nil {
					return err
				}
			}
			for _, t := range plan216Targets() {
				row := target{Plan: t.plan, Metric: t.metric, UnitCode: t.unit, Year: t.year, Value: t.value, Note: t.note}
				if err := tx.Table("targets").Create(&row).Error; err != nil {
					return err
				}
			}
			for _, s := range defaultSettings() {
				row := setting{Key: s.key, ValidFrom: s.validFrom, Value: s.value, LegalBasis: s.legalBasis, UpdatedAt: now}
				if err := tx.Table("settings").Create(&row).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}
}

type unitRow struct {
	code, name, level, validFrom string
	parent                       *string
	urban                        bool
}

// canThoUnits is Can Tho (GSO 92) and its nine pre-2025 districts, open
// ended: the permitting jurisdictions. 2004-01-01 is when Can Tho became a
// centrally governed city; it stands as the nominal start of every row. The
// 2025 communes and the districts' retirement arrive by import.
func canThoUnits() []unitRow {
	city := "92"
	d := func(code, name string, urban bool) unitRow {
		return unitRow{code: code, name: name, level: "district", validFrom: "2004-01-01", parent: &city, urban: urban}
	}
	return []unitRow{
		{code: "92", name: "Thành phố Cần Thơ", level: "province", validFrom: "2004-01-01", urban: true},
		d("916", "Quận Ninh Kiều", true),
		d("917", "Quận Ô Môn", true),
		d("918", "Quận Bình Thủy", true),
		d("919", "Quận Cái Răng", true),
		d("923", "Quận Thốt Nốt", true),
		d("924", "Huyện Vĩnh Thạnh", false),
		d("925", "Huyện Cờ Đỏ", false),
		d("926", "Huyện Phong Điền", false),
		d("927", "Huyện Thới Lai", false),
	}
}

type targetRow struct {
	plan, metric, unit string
	year               int
	value              float64
	note               string
}

// Metric names of the targets table.
const (
	MetricBTSSharing        = "bts_sharing_ratio"
	MetricNewAreaUnderg     = "new_area_underground"
	MetricHandedOverUnderg  = "handed_over_area_underground"
	MetricCentralStreetUndg = "central_street_underground"
	Plan216                 = "216/KH-UBND"
)

// plan216Targets are the milestones of Plan 216/KH-UBND (Can Tho, 21 Oct
// 2022) for the city; districts inherit them.
func plan216Targets() []targetRow {
	t := func(metric string, year int, v float64, note string) targetRow {
		return targetRow{plan: Plan216, metric: metric, unit: "92", year: year, value: v, note: note}
	}
	return []targetRow{
		t(MetricBTSSharing, 2025, 0.40, "Tỷ lệ trạm BTS phát triển mới sử dụng chung cơ sở hạ tầng"),
		t(MetricBTSSharing, 2030, 0.50, "Tỷ lệ trạm BTS phát triển mới sử dụng chung cơ sở hạ tầng"),
		t(MetricNewAreaUnderg, 2025, 1.00, "Khu dân cư, đô thị mới có hạ tầng ngầm dùng chung trước khi bàn giao"),
		t(MetricNewAreaUnderg, 2030, 1.00, "Khu dân cư, đô thị mới có hạ tầng ngầm dùng chung trước khi bàn giao"),
		t(MetricHandedOverUnderg, 2025, 0.50, "Khu dân cư đã bàn giao được ngầm hoá dùng chung"),
		t(MetricHandedOverUnderg, 2030, 1.00, "Khu dân cư đã bàn giao được ngầm hoá dùng chung"),
		t(MetricCentralStreetUndg, 2030, 0.70, "Tuyến đường trung tâm có cáp viễn thông đi ngầm"),
	}
}

type settingRow struct{ key, validFrom, value, legalBasis string }

// defaultSettings are the defaults DESIGN §2 names. The deadlines have no
// verified legal source; admins set them on the department's decision.
func defaultSettings() []settingRow {
	s := func(key, value string) settingRow { return settingRow{key: key, validFrom: "2000-01-01", value: value} }
	return []settingRow{
		s("service_area", `{"min_lat":8.0,"max_lat":23.5,"min_lon":102.0,"max_lon":110.0}`),
		s("asset.classes", `["A1a","A1b","A1c","A1d","A2a","A2b","A2c","A2d"]`),
		s("colocation.reply_days", `15`),
		s("colocation.accept_days", `30`),
		s("permits.decision_working_days", `20`),
		s("permits.sharing_radius_urban_m", `100`),
		s("permits.sharing_radius_rural_m", `500`),
		s("permits.height_tolerance_m", `5`),
		s("permits.mast_capable_kinds", `["tower","pole"]`),
		{key: "permits.exempt_classes", validFrom: "2000-01-01", value: `["A1a","A1b"]`,
			legalBasis: "Cột ăng ten không cồng kềnh (loại A1) được miễn giấy phép xây dựng theo Luật Xây dựng và TTLT 15/2016/TTLT-BTTTT-BXD; danh sách do Sở xác nhận"},
		s("bts.new_structure_window_days", `180`),
		s("reports.official_ratio", `"strict"`),
	}
}
