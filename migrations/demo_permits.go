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

// demoPermitsSeedName marks the permits and BTS part of the demo.
const demoPermitsSeedName = "demo.permits"

// demoShare is how often, per district, a demo BTS of 2023–2026 goes on
// existing infrastructure: the city sees districts above and below 40 %.
var demoShare = map[string]float64{"916": 0.58, "918": 0.47, "919": 0.44, "917": 0.36, "923": 0.31,
	"926": 0.40, "925": 0.24, "927": 0.33, "924": 0.21}

// seedDemoPermits logs BTS stations of the three operators across 2023–2026
// in every district — on others' structures under tenancies, on their own
// older structures, and on new towers — and files permit applications in
// every state, all through the services themselves.
func seedDemoPermits(ctx context.Context, db *database.DB) error {
	clock := infrashare.SystemClock{}
	audit := auth.NewAudit(db, clock)
	settings := auth.NewSettings(db, clock)
	units := registry.NewUnits(db, clock)
	reg := registry.NewService(db, clock, audit, settings, units)
	svc := permits.New(db, clock, audit, settings, reg, units)
	tx := db.Conn(ctx)
	actors := map[string]auth.Actor{}
	for _, code := range []string{"VNPT", "VIETTEL", "MOBIFONE", "UBND-NK", "UBND-CR"} {
		var o auth.Organization
		if err := tx.Where("code = ?", code).First(&o).Error; err != nil {
			return err
		}
		var uid int64
		tx.Table("users").Where("org_id = ?", o.ID).Limit(1).Pluck("id", &uid)
		role := auth.RoleOperator
		if o.Kind == auth.KindAuthority {
			role = auth.RoleOfficer
		}
		actors[code] = auth.Actor{UserID: uid, OrgID: o.ID, OrgCode: o.Code, OrgKind: o.Kind, Roles: []string{role}}
	}
	rng := rand.New(rand.NewSource(216))
	operators := []string{"VNPT", "VIETTEL", "MOBIFONE"}
	type mast struct {
		ID      int64
		OwnerID int64
		Lat     float64
		Lon     float64
	}
	station := 0
	for _, d := range demoDistricts() {
		var masts []mast
		if err := tx.Table("assets").Select("id, owner_id, lat, lon").
			Where("unit_code = ? AND kind IN ('tower','pole') AND status = 'in_service' AND restricted = false", d.code).
			Order("id").Scan(&masts).Error; err != nil {
			return err
		}
		if len(masts) == 0 {
			continue
		}
		for year := 2023; year <= 2026; year++ {
			perYear := 4 + d.masts/15
			if year == 2026 {
				perYear = perYear * 10 / 12 // the year is not over
			}
			for i := 0; i < perYear; i++ {
				station++
				op := operators[rng.Intn(3)]
				me := actors[op]
				onAir := infrashare.MustDate(fmt.Sprintf("%d-%02d-%02d", year, 1+rng.Intn(11), 1+rng.Intn(28)))
				if year == 2026 && onAir.Month > 10 {
					onAir.Month = 10
				}
				code := fmt.Sprintf("%s-BTS-%s-%04d", op, d.code, station)
				in := permits.NewDeployment{StationCode: code, Technologies: []string{[]string{"4G", "4G", "5G"}[rng.Intn(3)]}, OnAirOn: &onAir}
				roll := rng.Float64()
				switch {
				case roll < demoShare[d.code]:
					// On another organisation's structure, under a tenancy
					// agreed a month before going on air.
					m, ok := pickMast(masts, rng, func(m mast) bool { return m.OwnerID != me.OrgID })
					if !ok {
						continue
					}
					owner, err := ownerActor(ctx, db, m.OwnerID)
					if err != nil {
						return err
					}
					since := onAir.AddDays(-30)
					if _, err := reg.Allocate(ctx, owner, m.ID, registry.AllocationInput{Units: 1, Purpose: registry.PurposeExisting,
						Tenant: op, Since: &since, ContractRef: fmt.Sprintf("HĐ-%d/%s-%04d", year, op, station)}); err != nil {
						if infrashare.ErrorCode(err) == infrashare.ECONFLICT {
							continue // the mast is full
						}
						return err
					}
					in.MountedOnAssetID = &m.ID
				case roll < demoShare[d.code]+0.25:
					m, ok := pickMast(masts, rng, func(m mast) bool { return m.OwnerID == me.OrgID })
					if !ok {
						continue
					}
					in.MountedOnAssetID = &m.ID
				default:
					// A new tower, in service a few weeks before going on air.
					built := onAir.AddDays(-20 - rng.Intn(60))
					h, slots := 36.0+float64(rng.Intn(12)), 3
					v, err := reg.Create(ctx, me, registry.AssetInput{Code: fmt.Sprintf("%s-%s-N%04d", op, d.code, station), Kind: "tower",
						Geometry: pointJSON(d.lon+(rng.Float64()*2-1)*d.spreadDeg, d.lat+(rng.Float64()*2-1)*d.spreadDeg),
						UnitCode: d.code, HeightM: &h, Class: "A2b", InServiceOn: &built, Contact: demoContact(op),
						Address: fmt.Sprintf("%d %s, %s", 1+rng.Intn(300), d.streetName, d.name), Capacity: &registry.CapacityInput{Total: &slots}})
					if err != nil {
						return fmt.Errorf("demo new tower: %w", err)
					}
					in.MountedOnAssetID = &v.ID
				}
				if _, err := svc.LogDeployment(ctx, me, in); err != nil {
					return fmt.Errorf("demo BTS %s: %w", code, err)
				}
			}
		}
	}
	return seedDemoApplications(ctx, svc, actors)
}

func pickMast[T any](masts []T, rng *rand.Rand, ok func(T) bool) (T, bool) {
	for tries := 0; tries < 40; tries++ {
		m := masts[rng.Intn(len(masts))]
		if ok(m) {
			return m, true
		}
	}
	var zero T
	return zero, false
}

func ownerActor(ctx context.Context, db *database.DB, orgID int64) (auth.Actor, error) {
	var o auth.Organization
	if err := db.Conn(ctx).Where("id = ?", orgID).First(&o).Error; err != nil {
		return auth.Actor{}, err
	}
	return auth.Actor{OrgID: o.ID, OrgCode: o.Code, OrgKind: o.Kind, Roles: []string{auth.RoleOperator}}, nil
}

// seedDemoApplications files permit applications in every state in the
// two demo jurisdictions, each justifying the candidates its check finds.
func seedDemoApplications(ctx context.Context, svc *permits.Service, actors map[string]auth.Actor) error {
	apps := []struct {
		applicant, officer, unit string
		lat, lon                 float64
		class                    string
		steps                    []permits.PermitAction
	}{
		{"VIETTEL", "UBND-NK", "916", 10.0290, 105.7620, "A2b", nil},
		{"MOBIFONE", "UBND-NK", "916", 10.0410, 105.7560, "A2c", []permits.PermitAction{{Action: "return", Reason: "Thiếu bản sao giấy chứng nhận quyền sử dụng đất"}}},
		{"VNPT", "UBND-NK", "916", 10.0205, 105.7700, "A2b", []permits.PermitAction{{Action: "approve", DossierCode: "000.00.25.H13-251120-0007"}}},
		{"VIETTEL", "UBND-CR", "919", 9.9950, 105.7900, "A2d", []permits.PermitAction{{Action: "reject", Reason: "Vị trí nằm trong hành lang an toàn lưới điện 110 kV"}}},
		{"VNPT", "UBND-CR", "919", 10.0050, 105.7650, "A1a", nil},
		{"MOBIFONE", "UBND-CR", "919", 9.9880, 105.7750, "A2b", []permits.PermitAction{{Action: "withdraw", Reason: "Đã thuê được vị trí trên cột của VNPT"}}},
		{"VIETTEL", "UBND-CR", "919", 9.9920, 105.7620, "A2a", []permits.PermitAction{{Action: "approve"}}},
	}
	for i, a := range apps {
		me := actors[a.applicant]
		loc := &permits.Location{Lat: a.lat, Lon: a.lon}
		check, err := svc.Check(ctx, me, permits.CheckQuery{StructureKind: "tower", HeightM: 40, Location: loc, UnitCode: a.unit})
		if err != nil {
			return fmt.Errorf("demo permit %d: %w", i, err)
		}
		var justs []permits.Justification
		for _, c := range check.Candidates {
			justs = append(justs, permits.Justification{AssetID: c.Asset.ID, ReasonCode: "coverage",
				Text: "Cột hiện hữu không phủ được khu vực cần phủ sóng (đã đo kiểm)"})
		}
		kind := "tower"
		if a.class == "A1a" {
			kind = "pole"
		}
		p, err := svc.Submit(ctx, me, permits.NewPermit{StructureKind: kind, Class: a.class, HeightM: 40, Location: loc, UnitCode: a.unit,
			Address: "Khu dân cư mới", Purpose: "Trạm BTS 4G/5G phủ sóng khu dân cư mới", Justifications: justs})
		if err != nil {
			return fmt.Errorf("demo permit %d: %w", i, err)
		}
		for _, st := range a.steps {
			who := actors[a.officer]
			if st.Action == "withdraw" || st.Action == "resubmit" {
				who = me
			}
			if _, err := svc.Act(ctx, who, p.ID, st); err != nil {
				return fmt.Errorf("demo permit %d %s: %w", i, st.Action, err)
			}
		}
	}
	return nil
}
