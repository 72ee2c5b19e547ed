package migrations

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/registry"
)

// demoDistrict is where demo sites go: a centre, a spread and a count of
// masts, denser in the urban quận.
type demoDistrict struct {
	code       string
	name       string
	lat, lon   float64
	spreadDeg  float64
	masts      int
	streetName string
}

func demoDistricts() []demoDistrict {
	return []demoDistrict{
		{"916", "Ninh Kiều", 10.0320, 105.7700, 0.018, 110, "Đại lộ Hòa Bình"},
		{"918", "Bình Thủy", 10.0700, 105.7420, 0.025, 45, "Đường Cách Mạng Tháng Tám"},
		{"919", "Cái Răng", 9.9990, 105.7800, 0.025, 50, "Đường Trần Hưng Đạo"},
		{"917", "Ô Môn", 10.1100, 105.6250, 0.030, 30, "Quốc lộ 91"},
		{"923", "Thốt Nốt", 10.2700, 105.5300, 0.030, 28, "Quốc lộ 91"},
		{"926", "Phong Điền", 9.9990, 105.6650, 0.035, 22, "Đường Nguyễn Văn Cừ nối dài"},
		{"925", "Cờ Đỏ", 10.0950, 105.4300, 0.040, 18, "Tỉnh lộ 921"},
		{"927", "Thới Lai", 10.0600, 105.5600, 0.040, 18, "Tỉnh lộ 922"},
		{"924", "Vĩnh Thạnh", 10.2100, 105.4000, 0.040, 16, "Tỉnh lộ 919"},
	}
}

// demoRegisterSeedName marks the register part of the demo.
const demoRegisterSeedName = "demo.register"

// extra organisations of the register demo: a tower company and the power
// company, whose poles carry cables.
var demoRegisterOrgs = []demoOrg{
	{code: "CLTOWER", name: "Công ty CP Hạ tầng Tháp Cửu Long", kind: auth.KindOperator,
		contactName: "Phòng Khai thác hạ tầng", contactEmail: "hatang@cltower.demo.infrashare.vn", contactPhone: "0292 3736 888"},
	{code: "PCCT", name: "Công ty Điện lực Cần Thơ", kind: auth.KindOperator, group: "EVN",
		contactName: "Phòng Kỹ thuật", contactEmail: "kythuat@pcct.demo.infrashare.vn", contactPhone: "0292 2210 100"},
}

// seedDemoRegister writes a believable Can Tho register through the
// register service itself, so that every demo asset obeys the same rules as
// real ones: several hundred towers and poles of the operators and a tower
// company across the nine districts, duct routes with manholes along central
// streets of Ninh Kiều, the owners' own use and the existing tenancies of
// the operators' 2020 BTS-sharing agreement. Deterministic.
func seedDemoRegister(ctx context.Context, db *database.DB) error {
	tx := db.Conn(ctx)
	for _, o := range demoRegisterOrgs {
		var n int64
		if err := tx.Model(&auth.Organization{}).Where("code = ?", o.code).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		org := auth.Organization{Code: o.code, Name: o.name, Kind: o.kind, ContactName: o.contactName,
			ContactEmail: o.contactEmail, ContactPhone: o.contactPhone}
		if o.group != "" {
			g := o.group
			org.GroupCode = &g
		}
		if err := tx.Create(&org).Error; err != nil {
			return err
		}
	}
	actors := map[string]auth.Actor{}
	for _, code := range []string{"VNPT", "VIETTEL", "MOBIFONE", "CLTOWER", "PCCT"} {
		var o auth.Organization
		if err := tx.Where("code = ?", code).First(&o).Error; err != nil {
			return err
		}
		actors[code] = auth.Actor{OrgID: o.ID, OrgCode: o.Code, OrgKind: o.Kind, Roles: []string{auth.RoleOperator}}
	}
	clock := infrashare.SystemClock{}
	reg := registry.NewService(db, clock, auth.NewAudit(db, clock), auth.NewSettings(db, clock), registry.NewUnits(db, clock))
	rng := rand.New(rand.NewSource(92))

	type built struct {
		id    int64
		owner string
		free  int
	}
	var masts []built
	owners := []string{"VNPT", "VIETTEL", "MOBIFONE", "CLTOWER", "VNPT", "VIETTEL", "MOBIFONE", "PCCT"}
	classes := []string{"A2a", "A2b", "A2c", "A2d", "A1b"}
	n := 0
	for _, d := range demoDistricts() {
		for i := 0; i < d.masts; i++ {
			n++
			owner := owners[rng.Intn(len(owners))]
			kind, slots, height := "tower", 3, 30+rng.Float64()*30
			class := classes[rng.Intn(4)]
			if owner == "PCCT" || rng.Intn(5) == 0 {
				kind, slots, height, class = "pole", 2, 12+rng.Float64()*8, "A1b"
			}
			if owner == "CLTOWER" {
				slots = 4
			}
			lat := d.lat + (rng.Float64()*2-1)*d.spreadDeg
			lon := d.lon + (rng.Float64()*2-1)*d.spreadDeg
			year := 2008 + rng.Intn(17)
			inService := infrashare.MustDate(fmt.Sprintf("%d-%02d-%02d", year, 1+rng.Intn(12), 1+rng.Intn(28)))
			h := math.Round(height*10) / 10
			rent := int64(24+rng.Intn(30)) * 1_000_000
			status := "in_service"
			if rng.Intn(25) == 0 {
				status = "planned"
			}
			in := registry.AssetInput{
				Code: fmt.Sprintf("%s-%s-%04d", owner, d.code, n), Kind: kind, Status: status,
				Geometry: pointJSON(lon, lat), UnitCode: d.code, HeightM: &h, Class: class,
				Structure:   []string{"cột tự đứng", "cột dây co", "cột thép ống", "cột bê tông ly tâm"}[rng.Intn(4)],
				Address:     fmt.Sprintf("%d %s, %s", 1+rng.Intn(300), d.streetName, d.name),
				InServiceOn: &inService, Restricted: rng.Intn(40) == 0, RentVND: &rent,
				Contact: demoContact(owner), Capacity: &registry.CapacityInput{Total: &slots},
			}
			if in.Restricted {
				in.Address = "Khu vực hạn chế, " + d.name
			}
			v, err := reg.Create(ctx, actors[owner], in)
			if err != nil {
				return fmt.Errorf("demo asset %s: %w", in.Code, err)
			}
			masts = append(masts, built{id: v.ID, owner: owner, free: slots})
		}
	}
	// The owners' own equipment on most masts, and the tenancies of the
	// 2020 BTS-sharing agreement between the three operators.
	operators := []string{"VNPT", "VIETTEL", "MOBIFONE"}
	for i, m := range masts {
		if m.owner != "CLTOWER" && m.owner != "PCCT" && rng.Intn(10) < 8 {
			if _, err := reg.Allocate(ctx, actors[m.owner], m.id, registry.AllocationInput{Units: 1}); err != nil {
				return err
			}
			m.free--
		}
		if m.free > 0 && rng.Intn(100) < 30 {
			tenant := operators[rng.Intn(3)]
			if tenant == m.owner {
				tenant = operators[(i+1)%3]
				if tenant == m.owner {
					tenant = operators[(i+2)%3]
				}
			}
			since := infrashare.MustDate(fmt.Sprintf("2020-%02d-01", 3+rng.Intn(9)))
			rent := int64(36+rng.Intn(24)) * 1_000_000
			if _, err := reg.Allocate(ctx, actors[m.owner], m.id, registry.AllocationInput{Units: 1, Purpose: registry.PurposeExisting,
				Tenant: tenant, Since: &since, ContractRef: fmt.Sprintf("TTCS-2020/%03d", i+1), RentVND: &rent}); err != nil {
				return err
			}
		}
	}
	return seedDemoDucts(ctx, reg, actors, rng)
}

// seedDemoDucts lays duct routes along central streets of Ninh Kiều: a
// manhole every 150–250 m and a duct segment between each pair.
func seedDemoDucts(ctx context.Context, reg *registry.Service, actors map[string]auth.Actor, rng *rand.Rand) error {
	routes := []struct {
		owner, street string
		from, to      [2]float64 // lon, lat
	}{
		{"VNPT", "Đại lộ Hòa Bình", [2]float64{105.7785, 10.0345}, [2]float64{105.7870, 10.0280}},
		{"VIETTEL", "Đường 30 Tháng 4", [2]float64{105.7800, 10.0300}, [2]float64{105.7640, 10.0180}},
		{"VNPT", "Đường Trần Hưng Đạo", [2]float64{105.7810, 10.0290}, [2]float64{105.7700, 10.0390}},
		{"MOBIFONE", "Đường Nguyễn Văn Cừ", [2]float64{105.7600, 10.0420}, [2]float64{105.7450, 10.0300}},
		{"VIETTEL", "Đường Mậu Thân", [2]float64{105.7720, 10.0290}, [2]float64{105.7590, 10.0380}},
	}
	for ri, r := range routes {
		length := math.Hypot((r.to[0]-r.from[0])*109600, (r.to[1]-r.from[1])*110600)
		steps := int(length/200) + 1
		var prev [2]float64
		for s := 0; s <= steps; s++ {
			f := float64(s) / float64(steps)
			p := [2]float64{r.from[0] + f*(r.to[0]-r.from[0]), r.from[1] + f*(r.to[1]-r.from[1])}
			mh, err := reg.Create(ctx, actors[r.owner], registry.AssetInput{
				Code: fmt.Sprintf("%s-HG-%d-%02d", r.owner, ri+1, s), Kind: "manhole", Geometry: pointJSON(p[0], p[1]),
				UnitCode: "916", Address: r.street + ", Ninh Kiều", Contact: demoContact(r.owner)})
			if err != nil {
				return fmt.Errorf("demo manhole: %w", err)
			}
			_ = mh
			if s > 0 {
				tubes := 4 + 2*rng.Intn(3)
				dia := 110.0
				rent := int64(12000 + 1000*rng.Intn(8))
				line := json.RawMessage(fmt.Sprintf(`{"type":"LineString","coordinates":[[%.6f,%.6f],[%.6f,%.6f]]}`, prev[0], prev[1], p[0], p[1]))
				d, err := reg.Create(ctx, actors[r.owner], registry.AssetInput{
					Code: fmt.Sprintf("%s-CB-%d-%02d", r.owner, ri+1, s), Kind: "duct", Geometry: line, UnitCode: "916",
					Tubes: &tubes, DiameterMM: &dia, Address: r.street + ", Ninh Kiều", RentVND: &rent, Contact: demoContact(r.owner)})
				if err != nil {
					return fmt.Errorf("demo duct: %w", err)
				}
				used := 1 + rng.Intn(tubes-1)
				if _, err := reg.Allocate(ctx, actors[r.owner], d.ID, registry.AllocationInput{Units: used}); err != nil {
					return err
				}
			}
			prev = p
		}
	}
	return nil
}

func pointJSON(lon, lat float64) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[%.6f,%.6f]}`, lon, lat))
}

func demoContact(owner string) string {
	for _, o := range append(demoOrgs(), demoRegisterOrgs...) {
		if o.code == owner {
			return o.contactName + " — " + o.contactPhone
		}
	}
	return ""
}
