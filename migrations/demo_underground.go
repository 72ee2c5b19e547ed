package migrations

import (
	"context"
	"fmt"
	"math/rand"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/permits"
	"infrashare/registry"
)

// demoUndergroundSeedName marks the undergrounding part of the demo.
const demoUndergroundSeedName = "demo.underground"

// demoStreets are central streets (tuyến đường trung tâm) of the districts,
// with how far along undergrounding is in each district.
var demoStreets = map[string]struct {
	names []string
	done  float64
}{
	"916": {[]string{"Đại lộ Hòa Bình", "Đường 30 Tháng 4", "Đường Trần Hưng Đạo", "Đường Nguyễn Văn Cừ", "Đường Mậu Thân",
		"Đường Nguyễn Trãi", "Đường Hai Bà Trưng", "Đường Phan Đình Phùng", "Đường 3 Tháng 2", "Đường Lý Tự Trọng"}, 0.75},
	"918": {[]string{"Đường Cách Mạng Tháng Tám", "Đường Lê Hồng Phong", "Đường Bùi Hữu Nghĩa", "Đường Huỳnh Phan Hộ"}, 0.5},
	"919": {[]string{"Đường Trần Hưng Đạo", "Đường Võ Nguyên Giáp", "Đường Lê Bình", "Đường Trần Chiên", "Đường Phạm Hùng"}, 0.6},
	"917": {[]string{"Quốc lộ 91", "Đường 26 Tháng 3", "Đường Trần Hưng Đạo"}, 0.34},
	"923": {[]string{"Quốc lộ 91", "Đường Lê Thị Tạo", "Đường Nguyễn Trọng Quyền"}, 0.3},
	"926": {[]string{"Đường Nguyễn Văn Cừ nối dài", "Tỉnh lộ 923"}, 0.5},
	"925": {[]string{"Tỉnh lộ 921", "Đường 30 Tháng 4"}, 0.0},
	"927": {[]string{"Tỉnh lộ 922", "Đường Trường Xuân"}, 0.5},
	"924": {[]string{"Tỉnh lộ 919", "Quốc lộ 80"}, 0.0},
}

// seedDemoUnderground records central streets in segments, some of them
// underground since a date, and residential areas new and handed over.
func seedDemoUnderground(ctx context.Context, db *database.DB) error {
	clock := infrashare.SystemClock{}
	audit := auth.NewAudit(db, clock)
	settings := auth.NewSettings(db, clock)
	units := registry.NewUnits(db, clock)
	svc := permits.New(db, clock, audit, settings, registry.NewService(db, clock, audit, settings, units), units)
	var dept auth.Organization
	if err := db.Conn(ctx).Where("code = ?", "DEPT").First(&dept).Error; err != nil {
		return err
	}
	var uid int64
	db.Conn(ctx).Table("users").Where("org_id = ?", dept.ID).Limit(1).Pluck("id", &uid)
	auditor := auth.Actor{UserID: uid, OrgID: dept.ID, OrgCode: dept.Code, OrgKind: dept.Kind, Roles: []string{auth.RoleAuditor}}
	rng := rand.New(rand.NewSource(70))
	for _, d := range demoDistricts() {
		st := demoStreets[d.code]
		doneStreets := int(float64(len(st.names))*st.done + 0.5)
		for i, name := range st.names {
			segments := 2 + rng.Intn(3)
			for j := 0; j < segments; j++ {
				length := float64(250 + rng.Intn(600))
				in := permits.StreetSegmentInput{StreetName: name, UnitCode: d.code, LengthM: &length, Central: true}
				// Streets undergrounded entirely; one more street partly.
				if i < doneStreets || (i == doneStreets && j == 0) {
					in.Underground, in.Shared = true, true
					in.CompletedOn = infrashare.MustDate(fmt.Sprintf("%d-%02d-15", 2021+rng.Intn(5), 1+rng.Intn(12)))
				}
				if _, err := svc.CreateStreetSegment(ctx, auditor, in); err != nil {
					return fmt.Errorf("demo street %s: %w", name, err)
				}
			}
		}
		// Residential areas: new ones (most with shared underground ducts
		// before handover) and handed-over ones (about half undergrounded).
		for k := 0; k < 2+rng.Intn(3); k++ {
			handover := infrashare.MustDate(fmt.Sprintf("%d-%02d-01", 2022+rng.Intn(4), 1+rng.Intn(12)))
			in := permits.ResidentialAreaInput{Name: fmt.Sprintf("Khu dân cư mới %s %d", d.name, k+1), UnitCode: d.code, Kind: "new", HandoverOn: handover}
			if rng.Intn(10) < 8 {
				in.SharedUnderground, in.CompletedOn = true, handover.AddDays(-60-rng.Intn(120))
			}
			if _, err := svc.CreateResidentialArea(ctx, auditor, in); err != nil {
				return fmt.Errorf("demo area: %w", err)
			}
		}
		for k := 0; k < 2+rng.Intn(3); k++ {
			handover := infrashare.MustDate(fmt.Sprintf("%d-%02d-01", 2005+rng.Intn(15), 1+rng.Intn(12)))
			in := permits.ResidentialAreaInput{Name: fmt.Sprintf("Khu dân cư %s %c", d.name, 'A'+k), UnitCode: d.code, Kind: "handed_over", HandoverOn: handover}
			if rng.Intn(2) == 0 {
				in.SharedUnderground, in.CompletedOn = true, infrashare.MustDate(fmt.Sprintf("%d-06-30", 2021+rng.Intn(5)))
			}
			if _, err := svc.CreateResidentialArea(ctx, auditor, in); err != nil {
				return fmt.Errorf("demo area: %w", err)
			}
		}
	}
	return nil
}
