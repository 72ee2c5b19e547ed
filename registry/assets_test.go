package registry_test

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"testing"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
	"infrashare/registry"
)

// fixture is a seeded demo database with the register on it.
type fixture struct {
	t   *testing.T
	db  *database.DB
	reg *registry.Service
	// actors by name: vnpt, viettel, mobifone (operators), auditor, officer.
	actors map[string]auth.Actor
}

func newFixture(t *testing.T, db *database.DB) *fixture {
	return newFixtureAt(t, db, infrashare.SystemClock{})
}

// newFixtureAt is a fixture whose services tell time by clock.
func newFixtureAt(t *testing.T, db *database.DB, clock infrashare.Clock) *fixture {
	t.Helper()
	ctx := dbtest.Context(t)
	if _, err := migrations.SeedDemoAccounts(ctx, db, "demo-password-1"); err != nil {
		t.Fatal(err)
	}
	audit := auth.NewAudit(db, clock)
	f := &fixture{t: t, db: db, reg: registry.NewService(db, clock, audit, auth.NewSettings(db, clock), registry.NewUnits(db, clock)),
		actors: map[string]auth.Actor{}}
	for name, c := range map[string]struct{ org, role string }{
		"vnpt": {"VNPT", auth.RoleOperator}, "viettel": {"VIETTEL", auth.RoleOperator}, "mobifone": {"MOBIFONE", auth.RoleOperator},
		"auditor": {"DEPT", auth.RoleAuditor}, "officer": {"UBND-NK", auth.RoleOfficer}, "admin": {"ADMIN", auth.RoleAdmin},
	} {
		var o auth.Organization
		if err := db.Root().Where("code = ?", c.org).First(&o).Error; err != nil {
			t.Fatal(err)
		}
		var u auth.User
		db.Root().Where("org_id = ?", o.ID).First(&u)
		f.actors[name] = auth.Actor{UserID: u.ID, OrgID: o.ID, OrgCode: o.Code, OrgKind: o.Kind, Roles: []string{c.role}}
	}
	return f
}

func point(lon, lat float64) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, lon, lat))
}

func intp(n int) *int                 { return &n }
func floatp(v float64) *float64       { return &v }
func strp(s string) *string           { return &s }
func boolp(b bool) *bool              { return &b }
func int64p(v int64) *int64           { return &v }
func datep(s string) *infrashare.Date { d := infrashare.MustDate(s); return &d }

// tower registers a tower of the actor's organisation.
func (f *fixture) tower(who, code string, lon, lat float64, slots int, mods ...func(*registry.AssetInput)) registry.AssetView {
	f.t.Helper()
	in := registry.AssetInput{Code: code, Kind: "tower", Geometry: point(lon, lat), HeightM: floatp(42), Class: "A2b",
		Address: "Đường 30/4, phường Xuân Khánh, Ninh Kiều", UnitCode: "916", Capacity: &registry.CapacityInput{Total: intp(slots)}}
	for _, m := range mods {
		m(&in)
	}
	v, err := f.reg.Create(dbtest.Context(f.t), f.actors[who], in)
	if err != nil {
		f.t.Fatalf("create %s: %v", code, err)
	}
	return v
}

func wantCode(t *testing.T, err error, code string) *infrashare.Error {
	t.Helper()
	if infrashare.ErrorCode(err) != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
	var e *infrashare.Error
	_ = asErr(err, &e)
	return e
}

func asErr(err error, target **infrashare.Error) bool {
	e, ok := err.(*infrashare.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestRegisterAndChangeAnAsset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := dbtest.Context(t)
		v := f.tower("vnpt", "CT-NK-001", 105.7800, 10.0300, 3)
		if v.Owner.Code != "VNPT" || v.Capacity.Free != 3 || v.Capacity.Unit != "tenant_slot" || v.UnitCode != "916" || v.Version != 1 {
			t.Fatalf("created %+v", v)
		}
		if v.Lat == nil || *v.Lat != 10.03 || *v.Lon != 105.78 || v.Address == nil {
			t.Fatalf("position %+v", v)
		}
		// Another operator sees it, and cannot change or delete it.
		seen, err := f.reg.Get(ctx, f.actors["viettel"], v.ID)
		if err != nil || seen.Capacity.Free != 3 || seen.Coarse {
			t.Fatalf("viettel sees %+v, %v", seen, err)
		}
		_, err = f.reg.Update(ctx, f.actors["viettel"], v.ID, registry.AssetPatch{Version: intp(1), Status: strp("decommissioned")})
		wantCode(t, err, infrashare.EFORBIDDEN)
		wantCode(t, f.reg.Delete(ctx, f.actors["viettel"], v.ID), infrashare.EFORBIDDEN)
		// The auditor and the officer cannot register assets.
		_, err = f.reg.Create(ctx, f.actors["auditor"], registry.AssetInput{Code: "X", Kind: "pole", Geometry: point(105.78, 10.03)})
		wantCode(t, err, infrashare.EFORBIDDEN)

		// The same code twice for one owner is a conflict; another owner may use it.
		_, err = f.reg.Create(ctx, f.actors["vnpt"], registry.AssetInput{Code: "CT-NK-001", Kind: "pole", Geometry: point(105.78, 10.03)})
		wantCode(t, err, infrashare.ECONFLICT)
		f.tower("viettel", "CT-NK-001", 105.79, 10.04, 2)

		// PATCH with the right version; then the old version is stale.
		up, err := f.reg.Update(ctx, f.actors["vnpt"], v.ID, registry.AssetPatch{Version: intp(1), HeightM: floatp(45), Status: strp("in_service")})
		if err != nil || up.Version != 2 || *up.HeightM != 45 {
			t.Fatalf("update: %+v %v", up, err)
		}
		_, err = f.reg.Update(ctx, f.actors["vnpt"], v.ID, registry.AssetPatch{Version: intp(1), HeightM: floatp(50)})
		e := wantCode(t, err, infrashare.ECONFLICT)
		if e.Fields["version"] == "" {
			t.Fatalf("a stale version names the field: %+v", e)
		}
		// Nothing changed by the refused patch.
		got, _ := f.reg.Get(ctx, f.actors["vnpt"], v.ID)
		if *got.HeightM != 45 || got.Version != 2 {
			t.Fatalf("after a refused patch: %+v", got)
		}
		// Moving it recomputes the position; a patch without version is invalid.
		moved, err := f.reg.Update(ctx, f.actors["vnpt"], v.ID, registry.AssetPatch{Version: intp(2), Geometry: point(105.781, 10.031)})
		if err != nil || *moved.Lat != 10.031 {
			t.Fatalf("move: %+v %v", moved, err)
		}
		_, err = f.reg.Update(ctx, f.actors["vnpt"], v.ID, registry.AssetPatch{HeightM: floatp(1)})
		wantCode(t, err, infrashare.EINVALID)

		// History: every change, newest first.
		h, _, err := f.reg.History(ctx, f.actors["vnpt"], v.ID, 0, "")
		if err != nil || len(h) != 3 || h[0].Action != "asset.update" || h[2].Action != "asset.create" {
			t.Fatalf("history %d %v", len(h), err)
		}
		_, _, err = f.reg.History(ctx, f.actors["mobifone"], v.ID, 0, "")
		wantCode(t, err, infrashare.EFORBIDDEN)

		// Delete, then it is gone.
		if err := f.reg.Delete(ctx, f.actors["vnpt"], v.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.reg.Get(ctx, f.actors["vnpt"], v.ID)
		wantCode(t, err, infrashare.ENOTFOUND)
	})
}

func TestAssetValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := dbtest.Context(t)
		line := func(coords string) json.RawMessage {
			return json.RawMessage(`{"type":"LineString","coordinates":` + coords + `}`)
		}
		cases := []struct {
			name  string
			in    registry.AssetInput
			field string
		}{
			{"no code", registry.AssetInput{Kind: "tower", Geometry: point(105.78, 10.03)}, "code"},
			{"junk kind", registry.AssetInput{Code: "A", Kind: "spaceship", Geometry: point(105.78, 10.03)}, "kind"},
			{"no geometry", registry.AssetInput{Code: "A", Kind: "tower"}, "geometry"},
			{"outside the service area", registry.AssetInput{Code: "A", Kind: "tower", Geometry: point(2.35, 48.85)}, "geometry"},
			{"lat and lon swapped", registry.AssetInput{Code: "A", Kind: "tower", Geometry: point(10.03, 105.78)}, "geometry"},
			{"a point for a duct", registry.AssetInput{Code: "A", Kind: "duct", Geometry: point(105.78, 10.03)}, "geometry"},
			{"a line for a tower", registry.AssetInput{Code: "A", Kind: "tower", Geometry: line(`[[105.78,10.03],[105.79,10.03]]`)}, "geometry"},
			{"a one-point line", registry.AssetInput{Code: "A", Kind: "duct", Geometry: line(`[[105.78,10.03]]`)}, "geometry"},
			{"a line too long for one segment", registry.AssetInput{Code: "A", Kind: "duct", Geometry: line(`[[105.70,10.03],[105.80,10.03]]`)}, "geometry"},
			{"not GeoJSON", registry.AssetInput{Code: "A", Kind: "tower", Geometry: json.RawMessage(`{"type":"Circle"}`)}, "geometry"},
			{"negative height", registry.AssetInput{Code: "A", Kind: "tower", Geometry: point(105.78, 10.03), HeightM: floatp(-3)}, "height_m"},
			{"unknown class", registry.AssetInput{Code: "A", Kind: "tower", Geometry: point(105.78, 10.03), Class: "Z9"}, "class"},
			{"tubes on a tower", registry.AssetInput{Code: "A", Kind: "tower", Geometry: point(105.78, 10.03), Tubes: intp(4)}, "tubes"},
			{"restricted line", registry.AssetInput{Code: "A", Kind: "duct", Geometry: line(`[[105.78,10.03],[105.781,10.03]]`), Restricted: true}, "restricted"},
			{"unknown unit", registry.AssetInput{Code: "A", Kind: "tower", Geometry: point(105.78, 10.03), UnitCode: "999"}, "unit_code"},
			{"negative capacity", registry.AssetInput{Code: "A", Kind: "tower", Geometry: point(105.78, 10.03), Capacity: &registry.CapacityInput{Total: intp(-1)}}, "capacity.total"},
			{"bad status", registry.AssetInput{Code: "A", Kind: "tower", Geometry: point(105.78, 10.03), Status: "dreaming"}, "status"},
		}
		for _, c := range cases {
			_, err := f.reg.Create(ctx, f.actors["vnpt"], c.in)
			e := wantCode(t, err, infrashare.EINVALID)
			if e.Fields[c.field] == "" {
				t.Errorf("%s: fields %v, want %s named", c.name, e.Fields, c.field)
			}
		}
		var n int64
		db.Root().Table("assets").Count(&n)
		if n != 0 {
			t.Fatalf("%d assets written by invalid requests", n)
		}
		// A duct: its length comes from the geometry and its capacity from its tubes.
		d, err := f.reg.Create(ctx, f.actors["vnpt"], registry.AssetInput{Code: "D-1", Kind: "duct", Tubes: intp(4), DiameterMM: floatp(110),
			Geometry: line(`[[105.7800,10.0300],[105.7810,10.0300],[105.7810,10.0310]]`)})
		if err != nil {
			t.Fatal(err)
		}
		// 0.001° of longitude at 10.03° N ≈ 109.5 m, 0.001° of latitude ≈ 111.2 m.
		if d.LengthM == nil || math.Abs(*d.LengthM-220.7) > 1.5 || d.Capacity.Total != 4 || d.Capacity.Unit != "tube" || d.Lat != nil {
			t.Fatalf("duct %+v length %v", d, *d.LengthM)
		}
	})
}

func TestRestrictedSitesAreCoarseForOthers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := dbtest.Context(t)
		// Exact 10.0337, 105.7763 rounds to 10.03, 105.78 (about 440 m away).
		v := f.tower("vnpt", "CT-SECRET", 105.7763, 10.0337, 3, func(in *registry.AssetInput) { in.Restricted = true; in.Address = "Trong khu quân sự" })
		for _, who := range []string{"vnpt", "auditor", "admin"} {
			got, err := f.reg.Get(ctx, f.actors[who], v.ID)
			if err != nil || got.Coarse || *got.Lat != 10.0337 || got.Address == nil {
				t.Fatalf("%s sees %+v %v", who, got, err)
			}
		}
		for _, who := range []string{"viettel", "officer"} {
			got, err := f.reg.Get(ctx, f.actors[who], v.ID)
			if err != nil || !got.Coarse || *got.Lat != 10.03 || *got.Lon != 105.78 || got.Address != nil {
				t.Fatalf("%s sees %+v %v", who, got, err)
			}
			if string(got.Geometry) != `{"type":"Point","coordinates":[105.78,10.03]}` {
				t.Fatalf("%s sees geometry %s", who, got.Geometry)
			}
		}
		// A box around the exact site that misses the rounded one finds it
		// for the owner only.
		box, _ := registry.ParseBBox("105.775,10.032,105.777,10.035")
		mine, _, _ := f.reg.List(ctx, f.actors["vnpt"], registry.AssetFilter{BBox: box})
		theirs, _, _ := f.reg.List(ctx, f.actors["viettel"], registry.AssetFilter{BBox: box})
		if len(mine) != 1 || len(theirs) != 0 {
			t.Fatalf("exact box: owner finds %d, other finds %d", len(mine), len(theirs))
		}
		coarseBox, _ := registry.ParseBBox("105.779,10.029,105.781,10.031")
		theirs, _, _ = f.reg.List(ctx, f.actors["viettel"], registry.AssetFilter{BBox: coarseBox})
		if len(theirs) != 1 {
			t.Fatalf("rounded box: other finds %d, want 1", len(theirs))
		}
		// The address is not searchable by others; the code is.
		byAddr, _, _ := f.reg.List(ctx, f.actors["viettel"], registry.AssetFilter{Q: "quân sự"})
		byCode, _, _ := f.reg.List(ctx, f.actors["viettel"], registry.AssetFilter{Q: "secret"})
		if len(byAddr) != 0 || len(byCode) != 1 {
			t.Fatalf("search: by address %d, by code %d", len(byAddr), len(byCode))
		}
		// Search ignores case and diacritics, as people type.
		for _, q := range []string{"QUÂN SỰ", "quan su", "Trong khu"} {
			mine, _, _ := f.reg.List(ctx, f.actors["vnpt"], registry.AssetFilter{Q: q})
			if len(mine) != 1 {
				t.Errorf("owner searching %q finds %d", q, len(mine))
			}
		}
		// Nearby from the exact site: the owner gets 0 m; others get the
		// distance to the rounded position, to 100 m.
		near, err := f.reg.Nearby(ctx, f.actors["vnpt"], registry.NearbyQuery{Lat: 10.0337, Lon: 105.7763, RadiusM: 1000})
		if err != nil || len(near) != 1 || near[0].DistanceM != 0 {
			t.Fatalf("owner nearby %+v %v", near, err)
		}
		near, err = f.reg.Nearby(ctx, f.actors["viettel"], registry.NearbyQuery{Lat: 10.0337, Lon: 105.7763, RadiusM: 1000})
		if err != nil || len(near) != 1 || math.Mod(near[0].DistanceM, 100) != 0 || near[0].DistanceM < 300 {
			t.Fatalf("other nearby %+v %v", near, err)
		}
		// Within 200 m of the exact site, others find nothing.
		near, _ = f.reg.Nearby(ctx, f.actors["viettel"], registry.NearbyQuery{Lat: 10.0337, Lon: 105.7763, RadiusM: 200})
		if len(near) != 0 {
			t.Fatalf("others locate the site within 200 m: %+v", near)
		}
	})
}

func TestNearby(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := dbtest.Context(t)
		// Origin 10.0300, 105.7800; 0.001° lat ≈ 111 m.
		far := f.tower("vnpt", "T-FAR", 105.7800, 10.0345, 3)      // ≈ 500 m north
		near := f.tower("viettel", "T-NEAR", 105.7800, 10.0307, 1) // ≈ 78 m north
		mid := f.tower("mobifone", "T-MID", 105.7820, 10.0300, 2)  // ≈ 219 m east
		full := f.tower("vnpt", "T-FULL", 105.7801, 10.0301, 1)
		if _, err := f.reg.Allocate(ctx, f.actors["vnpt"], full.ID, registry.AllocationInput{Units: 1}); err != nil {
			t.Fatal(err)
		}
		duct, err := f.reg.Create(ctx, f.actors["vnpt"], registry.AssetInput{Code: "D-1", Kind: "duct", Tubes: intp(4),
			Geometry: json.RawMessage(`{"type":"LineString","coordinates":[[105.7790,10.0290],[105.7790,10.0310]]}`)}) // ≈ 110 m west
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.reg.Nearby(ctx, f.actors["officer"], registry.NearbyQuery{Lat: 10.0300, Lon: 105.7800, RadiusM: 300})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i, it := range got {
			ids = append(ids, it.Asset.ID)
			if i > 0 && it.DistanceM < got[i-1].DistanceM {
				t.Fatalf("not sorted by distance: %+v", got)
			}
		}
		want := []int64{full.ID, near.ID, duct.ID, mid.ID}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Fatalf("ids %v, want %v (far %d excluded)", ids, want, far.ID)
		}
		if d := got[2].DistanceM; math.Abs(d-109.6) > 1 {
			t.Fatalf("distance to the duct's nearest point %v, want ≈109.6", d)
		}
		got, _ = f.reg.Nearby(ctx, f.actors["officer"], registry.NearbyQuery{Lat: 10.0300, Lon: 105.7800, RadiusM: 1000, Kinds: []string{"tower"}, MinFree: 1})
		ids = nil
		for _, it := range got {
			ids = append(ids, it.Asset.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint([]int64{near.ID, mid.ID, far.ID}) {
			t.Fatalf("towers with a free slot: %v", ids)
		}
		for _, q := range []registry.NearbyQuery{{Lat: 10, Lon: 105, RadiusM: 0}, {Lat: 10, Lon: 105, RadiusM: 50001}, {Lat: 91, Lon: 105, RadiusM: 10}} {
			_, err := f.reg.Nearby(ctx, f.actors["officer"], q)
			wantCode(t, err, infrashare.EINVALID)
		}
	})
}

func TestAllocationsAndCapacity(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := dbtest.Context(t)
		v := f.tower("vnpt", "T-1", 105.78, 10.03, 3)
		own, err := f.reg.Allocate(ctx, f.actors["vnpt"], v.ID, registry.AllocationInput{Units: 1})
		if err != nil || own.Tenant.Code != "VNPT" || own.Status != "active" {
			t.Fatalf("own use: %+v %v", own, err)
		}
		ten, err := f.reg.Allocate(ctx, f.actors["vnpt"], v.ID, registry.AllocationInput{Units: 1, Purpose: "existing", Tenant: "VIETTEL",
			Since: datep("2020-06-01"), ContractRef: "HĐ-2020/BTS-07", RentVND: int64p(48000000)})
		if err != nil || ten.Tenant.Code != "VIETTEL" {
			t.Fatalf("existing tenancy: %+v %v", ten, err)
		}
		_, err = f.reg.Allocate(ctx, f.actors["vnpt"], v.ID, registry.AllocationInput{Units: 2})
		e := wantCode(t, err, infrashare.ECONFLICT)
		if e.Details["free"] != 1 {
			t.Fatalf("conflict details %+v", e.Details)
		}
		_, err = f.reg.Allocate(ctx, f.actors["viettel"], v.ID, registry.AllocationInput{Units: 1})
		wantCode(t, err, infrashare.EFORBIDDEN)
		_, err = f.reg.Allocate(ctx, f.actors["vnpt"], v.ID, registry.AllocationInput{Units: 1, Purpose: "existing", Tenant: "NOBODY"})
		wantCode(t, err, infrashare.EINVALID)

		// Who sees the tenancies: owner all, tenant its own, others none.
		for who, n := range map[string]int{"vnpt": 2, "viettel": 1, "mobifone": 0, "auditor": 2} {
			list, err := f.reg.Allocations(ctx, f.actors[who], v.ID)
			if err != nil || len(list) != n {
				t.Errorf("%s sees %d allocations, want %d (%v)", who, len(list), n, err)
			}
		}
		// The tenant may read the history; a stranger may not.
		if _, _, err := f.reg.History(ctx, f.actors["viettel"], v.ID, 0, ""); err != nil {
			t.Fatalf("tenant history: %v", err)
		}
		// The total can never drop below what is allocated.
		_, err = f.reg.Update(ctx, f.actors["vnpt"], v.ID, registry.AssetPatch{Version: intp(1), Capacity: &registry.CapacityInput{Total: intp(1)}})
		wantCode(t, err, infrashare.ECONFLICT)
		// Deleting with allocations is refused; after releasing it works.
		wantCode(t, f.reg.Delete(ctx, f.actors["vnpt"], v.ID), infrashare.ECONFLICT)
		for _, id := range []int64{own.ID, ten.ID} {
			if _, err := f.reg.Release(ctx, f.actors["vnpt"], v.ID, id); err != nil {
				t.Fatal(err)
			}
		}
		_, err = f.reg.Release(ctx, f.actors["vnpt"], v.ID, own.ID)
		wantCode(t, err, infrashare.ECONFLICT)
		got, _ := f.reg.Get(ctx, f.actors["vnpt"], v.ID)
		if got.Capacity.Free != 3 || got.Capacity.Active != 0 || got.Version != 1 {
			t.Fatalf("after release %+v (allocations must not move the version)", got.Capacity)
		}
		if err := f.reg.Delete(ctx, f.actors["vnpt"], v.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// Free capacity never goes below zero, however many allocations race.
func TestConcurrentAllocationsNeverOverbook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := dbtest.Context(t)
		v := f.tower("vnpt", "T-RACE", 105.78, 10.03, 5)
		const racers = 20
		var wg sync.WaitGroup
		errs := make([]error, racers)
		start := make(chan struct{})
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, errs[i] = f.reg.Allocate(ctx, f.actors["vnpt"], v.ID, registry.AllocationInput{Units: 1})
			}(i)
		}
		close(start)
		wg.Wait()
		ok, conflicts := 0, 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if infrashare.ErrorCode(err) == infrashare.ECONFLICT {
				conflicts++
			} else {
				t.Errorf("unexpected error: %v", err)
			}
		}
		got, _ := f.reg.Get(ctx, f.actors["vnpt"], v.ID)
		var rows int64
		db.Root().Table("allocations").Where("asset_id = ? AND status = 'active'", v.ID).Count(&rows)
		if ok != 5 || conflicts != 15 || got.Capacity.Free != 0 || got.Capacity.Active != 5 || rows != 5 {
			t.Fatalf("%d succeeded, %d conflicts, capacity %+v, %d allocation rows", ok, conflicts, got.Capacity, rows)
		}
	})
}
