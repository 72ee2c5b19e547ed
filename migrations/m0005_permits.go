package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0005Permits adds permit applications with their attachments, the
// holiday calendar, the BTS log, street segments and residential areas for
// undergrounding, and frozen annual reports. Frozen.
func m0005Permits() *gormigrate.Migration {
	type permit struct {
		ID             int64     `gorm:"primaryKey"`
		Number         string    `gorm:"type:varchar(32);not null;uniqueIndex"`
		ApplicantOrgID int64     `gorm:"not null;index"`
		AuthorityOrgID int64     `gorm:"not null;index"`
		State          string    `gorm:"type:varchar(16);not null;index"`
		StructureKind  string    `gorm:"type:varchar(16);not null"`
		Class          string    `gorm:"type:varchar(16);not null;default:''"`
		HeightM        float64   `gorm:"type:double precision;not null"`
		Lat            float64   `gorm:"type:double precision;not null"`
		Lon            float64   `gorm:"type:double precision;not null"`
		UnitCode       string    `gorm:"type:varchar(16);not null;index"`
		Address        string    `gorm:"type:varchar(500);not null;default:''"`
		Purpose        string    `gorm:"type:text;not null;default:''"`
		FiledOn        string    `gorm:"type:date;not null"`
		SubmittedAt    time.Time `gorm:"not null"`
		// DecisionDeadline counts working days on the holiday calendar;
		// RemainingDays holds what was left while the application is
		// returned (the clock pauses).
		DecisionDeadline *string `gorm:"type:date"`
		RemainingDays    *int
		ReturnedAt       *time.Time
		SharingCheck     string `gorm:"type:text;not null"` // JSON, frozen at submission
		Justifications   string `gorm:"type:text;not null"` // JSON
		PermitNo         string `gorm:"type:varchar(64);not null;default:''"`
		DossierCode      string `gorm:"type:varchar(64);not null;default:''"`
		Reason           string `gorm:"type:text;not null;default:''"`
		DecidedAt        *time.Time
		// AssetID is the structure once registered in the register.
		AssetID   *int64
		Version   int `gorm:"not null;default:1"`
		CreatedAt time.Time
		UpdatedAt time.Time
	}
	type attachment struct {
		ID          int64     `gorm:"primaryKey"`
		PermitID    int64     `gorm:"not null;index"`
		Filename    string    `gorm:"type:varchar(255);not null"`
		ContentType string    `gorm:"type:varchar(100);not null"`
		Size        int64     `gorm:"not null"`
		SHA256      string    `gorm:"column:sha256;type:varchar(64);not null"`
		Data        []byte    `gorm:"not null"`
		UploadedBy  int64     `gorm:"not null"`
		CreatedAt   time.Time `gorm:"not null"`
	}
	type holiday struct {
		Day  string `gorm:"primaryKey;type:date"`
		Name string `gorm:"type:varchar(200);not null"`
	}
	type btsDeployment struct {
		ID                  int64   `gorm:"primaryKey"`
		OperatorOrgID       int64   `gorm:"not null;uniqueIndex:ux_bts_operator_station,priority:1"`
		StationCode         string  `gorm:"type:varchar(64);not null;uniqueIndex:ux_bts_operator_station,priority:2"`
		Technologies        string  `gorm:"type:varchar(32);not null"`
		Lat                 float64 `gorm:"type:double precision;not null"`
		Lon                 float64 `gorm:"type:double precision;not null"`
		UnitCode            string  `gorm:"type:varchar(16);not null;index"`
		OnAirOn             string  `gorm:"type:date;not null;index"`
		MountedOnAssetID    *int64  `gorm:"index"`
		PermitID            *int64
		ColocationRequestID *int64
		// Classification is frozen when logged, with its evidence; only the
		// department reclassifies, with a reason.
		Classification string `gorm:"type:varchar(16);not null;index"`
		Evidence       string `gorm:"type:text;not null"` // JSON
		Reclassified   bool   `gorm:"not null;default:false"`
		CreatedAt      time.Time
		UpdatedAt      time.Time
	}
	type streetSegment struct {
		ID          int64   `gorm:"primaryKey"`
		StreetName  string  `gorm:"type:varchar(200);not null;index"`
		UnitCode    string  `gorm:"type:varchar(16);not null;index"`
		LengthM     float64 `gorm:"type:double precision;not null"`
		Central     bool    `gorm:"not null;default:false"`
		Underground bool    `gorm:"not null;default:false"`
		Shared      bool    `gorm:"not null;default:false"`
		CompletedOn *string `gorm:"type:date"`
		CreatedAt   time.Time
		UpdatedAt   time.Time
	}
	type residentialArea struct {
		ID                int64   `gorm:"primaryKey"`
		Name              string  `gorm:"type:varchar(200);not null"`
		UnitCode          string  `gorm:"type:varchar(16);not null;index"`
		Kind              string  `gorm:"type:varchar(16);not null"` // new or handed_over
		HandoverOn        *string `gorm:"type:date"`
		SharedUnderground bool    `gorm:"not null;default:false"`
		CompletedOn       *string `gorm:"type:date"`
		CreatedAt         time.Time
		UpdatedAt         time.Time
	}
	type reportSnapshot struct {
		Year     int       `gorm:"primaryKey;autoIncrement:false"`
		FrozenAt time.Time `gorm:"not null"`
		FrozenBy int64     `gorm:"not null"`
		SHA256   string    `gorm:"column:sha256;type:varchar(64);not null"`
		Content  string    `gorm:"type:text;not null"` // canonical JSON
	}
	return &gormigrate.Migration{
		ID: "0005_permits",
		Migrate: func(tx *gorm.DB) error {
			for _, t := range []struct {
				name  string
				model any
			}{
				{"permits", &permit{}},
				{"permit_attachments", &attachment{}},
				{"holidays", &holiday{}},
				{"bts_deployments", &btsDeployment{}},
				{"street_segments", &streetSegment{}},
				{"residential_areas", &residentialArea{}},
				{"report_snapshots", &reportSnapshot{}},
			} {
				if err := tx.Table(t.name).Migrator().CreateTable(t.model); err != nil {
					return err
				}
			}
			if dialect(tx) == "postgres" {
				for _, q := range []string{
					`ALTER TABLE permits ADD CONSTRAINT fk_permits_applicant FOREIGN KEY (applicant_org_id) REFERENCES organizations(id)`,
					`ALTER TABLE permits ADD CONSTRAINT fk_permits_authority FOREIGN KEY (authority_org_id) REFERENCES organizations(id)`,
					`ALTER TABLE permit_attachments ADD CONSTRAINT fk_attachments_permit FOREIGN KEY (permit_id) REFERENCES permits(id)`,
					`ALTER TABLE bts_deployments ADD CONSTRAINT fk_bts_operator FOREIGN KEY (operator_org_id) REFERENCES organizations(id)`,
				} {
					if err := tx.Exec(q).Error; err != nil {
						return err
					}
				}
			}
			// Vietnam's public holidays of 2025 and 2026 (Labour Code art.
			// 112; Tết and the Hùng Kings' day by the lunar calendar), as
			// announced; admins maintain the calendar from here.
			for _, h := range []struct{ day, name string }{
				{"2025-01-01", "Tết Dương lịch"},
				{"2025-01-27", "Tết Nguyên đán"}, {"2025-01-28", "Tết Nguyên đán"}, {"2025-01-29", "Tết Nguyên đán"},
				{"2025-01-30", "Tết Nguyên đán"}, {"2025-01-31", "Tết Nguyên đán"},
				{"2025-04-07", "Giỗ Tổ Hùng Vương"}, {"2025-04-30", "Ngày Giải phóng miền Nam"}, {"2025-05-01", "Ngày Quốc tế Lao động"},
				{"2025-05-02", "Nghỉ bù"}, {"2025-09-01", "Quốc khánh"}, {"2025-09-02", "Quốc khánh"},
				{"2026-01-01", "Tết Dương lịch"},
				{"2026-02-16", "Tết Nguyên đán"}, {"2026-02-17", "Tết Nguyên đán"}, {"2026-02-18", "Tết Nguyên đán"},
				{"2026-02-19", "Tết Nguyên đán"}, {"2026-02-20", "Tết Nguyên đán"},
				{"2026-04-27", "Giỗ Tổ Hùng Vương"}, {"2026-04-30", "Ngày Giải phóng miền Nam"}, {"2026-05-01", "Ngày Quốc tế Lao động"},
				{"2026-09-01", "Quốc khánh"}, {"2026-09-02", "Quốc khánh"},
			} {
				if err := tx.Table("holidays").Create(&holiday{Day: h.day, Name: h.name}).Error; err != nil {
					return err
				}
			}
			var ps []policy
			for _, path := range []string{"/api/v1/targets", "/api/v1/holidays"} {
				ps = append(ps, p("signed_in", path, "GET"), p("admin", path, "PUT"))
			}
			// Settings carry the SMTP credentials: auditors and admins read
			// them (secrets masked), admins write.
			ps = append(ps, p("auditor", "/api/v1/settings", "GET"), p("admin", "/api/v1/settings", "GET"),
				p("admin", "/api/v1/settings", "PUT"))
			for _, path := range []string{"/api/v1/permits", "/api/v1/permits/:id", "/api/v1/permits/:id/attachments/:attachment_id"} {
				for _, role := range []string{"operator", "officer", "auditor", "admin"} {
					ps = append(ps, p(role, path, "GET"))
				}
			}
			ps = append(ps, p("operator", "/api/v1/permits", "POST"), p("operator", "/api/v1/permits/check", "POST"),
				p("operator", "/api/v1/permits/:id/attachments", "POST"),
				p("operator", "/api/v1/permits/:id/actions", "POST"), p("officer", "/api/v1/permits/:id/actions", "POST"))
			for _, path := range []string{"/api/v1/bts", "/api/v1/bts/:id"} {
				for _, role := range []string{"operator", "officer", "auditor", "admin"} {
					ps = append(ps, p(role, path, "GET"))
				}
			}
			ps = append(ps, p("operator", "/api/v1/bts", "POST"), p("auditor", "/api/v1/bts/:id/reclassify", "POST"))
			for _, kind := range []string{"street-segments", "residential-areas"} {
				base := "/api/v1/" + kind
				for _, role := range []string{"operator", "officer", "auditor", "admin"} {
					ps = append(ps, p(role, base, "GET"), p(role, base+"/:id", "GET"))
				}
				for _, role := range []string{"auditor", "admin"} {
					ps = append(ps, p(role, base, "POST"), p(role, base+"/:id", "PATCH"), p(role, base+"/:id", "DELETE"),
						p(role, base+"/import", "POST"))
				}
			}
			for _, role := range []string{"operator", "auditor", "admin"} {
				ps = append(ps, p(role, "/api/v1/reports/sharing-ratio", "GET"))
			}
			for _, role := range []string{"auditor", "admin"} {
				ps = append(ps, p(role, "/api/v1/reports/undergrounding", "GET"), p(role, "/api/v1/reports/annual", "GET"))
			}
			ps = append(ps, p("auditor", "/api/v1/reports/annual/:year/freeze", "POST"))
			return insertPolicies(tx, ps)
		},
	}
}
