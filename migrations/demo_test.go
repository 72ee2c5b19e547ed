package migrations_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
)

func TestSeedDemoOnceEvenWhenConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		// SQLite has one connection and one process; PostgreSQL replicas
		// race for real here.
		const seeders = 4
		var wg sync.WaitGroup
		results := make([]bool, seeders)
		errs := make([]error, seeders)
		for i := 0; i < seeders; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				results[i], errs[i] = migrations.SeedDemo(ctx, db, "demo-password-1")
			}(i)
		}
		wg.Wait()
		seeded := 0
		for i := range errs {
			if errs[i] != nil {
				t.Fatalf("seeder %d: %v", i, errs[i])
			}
			if results[i] {
				seeded++
			}
		}
		if seeded != 1 {
			t.Fatalf("%d seeders seeded, want 1", seeded)
		}
		var orgs, users int64
		db.Root().Model(&auth.Organization{}).Count(&orgs)
		db.Root().Model(&auth.User{}).Count(&users)
		if orgs != 9 || users != int64(len(migrations.DemoAccounts())) {
			t.Fatalf("%d organisations, %d users", orgs, users)
		}
		var u auth.User
		db.Root().Where("email = ?", "ops@viettel.demo.infrashare.vn").First(&u)
		if !auth.PasswordMatches(u.PasswordHash, "demo-password-1") || u.PasswordHash == "demo-password-1" {
			t.Fatal("demo password is not stored hashed or does not match")
		}
		var j []auth.Jurisdiction
		db.Root().Joins("JOIN organizations o ON o.id = org_jurisdictions.org_id").Where("o.code = ?", "UBND-NK").Find(&j)
		if len(j) != 1 || j[0].UnitCode != "916" {
			t.Fatalf("Ninh Kiều jurisdiction %+v, want 916", j)
		}
		if err := migrations.SetDemoPassword(ctx, db, "another-password"); err != nil {
			t.Fatal(err)
		}
		db.Root().Where("email = ?", "ops@viettel.demo.infrashare.vn").First(&u)
		if !auth.PasswordMatches(u.PasswordHash, "another-password") {
			t.Fatal("SetDemoPassword did not take")
		}
	})
}

func TestSeedDemoRefusesADatabaseWithRealUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		org := auth.Organization{Code: "REAL", Name: "Real", Kind: auth.KindAdmin}
		db.Root().Create(&org)
		db.Root().Create(&auth.User{OrgID: org.ID, Email: "root@example.vn", PasswordHash: "x", Roles: auth.RoleAdmin})
		_, err := migrations.SeedDemo(dbtest.Context(t), db, "demo-password-1")
		if !errors.Is(err, migrations.ErrNotDemoDatabase) {
			t.Fatalf("err = %v, want ErrNotDemoDatabase", err)
		}
		var n int64
		db.Root().Model(&auth.Organization{}).Count(&n)
		if n != 1 {
			t.Fatalf("%d organisations after a refused seed, want 1", n)
		}
	})
}

// The demo register is believable: masts in every district, ducts along
// central streets, owners' own use and the 2020 tenancies, and no asset
// over its capacity.
func TestDemoRegister(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		if _, err := migrations.SeedDemo(dbtest.Context(t), db, "demo-password-1"); err != nil {
			t.Fatal(err)
		}
		var perDistrict []struct {
			UnitCode string
			N        int64
		}
		db.Root().Table("assets").Select("unit_code, count(*) AS n").Where("kind IN ('tower','pole')").Group("unit_code").Scan(&perDistrict)
		if len(perDistrict) != 9 {
			t.Fatalf("masts in %d districts, want all 9: %+v", len(perDistrict), perDistrict)
		}
		var masts, ducts, manholes, tenancies, own, over int64
		db.Root().Table("assets").Where("kind IN ('tower','pole')").Count(&masts)
		db.Root().Table("assets").Where("kind = 'duct'").Count(&ducts)
		db.Root().Table("assets").Where("kind = 'manhole'").Count(&manholes)
		db.Root().Table("allocations").Where("purpose = 'existing' AND status = 'active'").Count(&tenancies)
		db.Root().Table("allocations").Where("purpose = 'owner'").Count(&own)
		db.Root().Table("assets").Where("reserved_units + active_units > capacity_total").Count(&over)
		if masts < 300 || ducts < 20 || manholes <= ducts || tenancies < 50 || own < 150 || over != 0 {
			t.Fatalf("masts %d, ducts %d, manholes %d, tenancies %d, own use %d, over capacity %d", masts, ducts, manholes, tenancies, own, over)
		}
		// The allocations add up to the counters on every asset.
		var mismatched int64
		db.Root().Raw(`SELECT count(*) FROM assets a WHERE a.active_units <> (SELECT coalesce(sum(units),0) FROM allocations l WHERE l.asset_id = a.id AND l.status = 'active')`).Scan(&mismatched)
		if mismatched != 0 {
			t.Fatalf("%d assets whose counters differ from their allocations", mismatched)
		}
		// Seeding again adds nothing.
		again, err := migrations.SeedDemo(dbtest.Context(t), db, "demo-password-1")
		var after int64
		db.Root().Table("assets").Count(&after)
		if err != nil || again || after != masts+ducts+manholes {
			t.Fatalf("second seed: %v %v, %d assets", again, err, after)
		}
	})
}

// The demo has co-location requests in every state.
func TestDemoRequestsInEveryState(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		if _, err := migrations.SeedDemo(dbtest.Context(t), db, "demo-password-1"); err != nil {
			t.Fatal(err)
		}
		var states []string
		db.Root().Table("colocation_requests").Distinct("state").Order("state").Pluck("state", &states)
		want := []string{"active", "agreed", "approved", "closed", "disputed", "expired", "info_requested", "overdue", "rejected", "submitted", "terminated", "withdrawn"}
		if fmt.Sprint(states) != fmt.Sprint(want) {
			t.Fatalf("states %v, want %v", states, want)
		}
		var over int64
		db.Root().Table("assets").Where("reserved_units + active_units > capacity_total OR reserved_units < 0").Count(&over)
		if over != 0 {
			t.Fatalf("%d assets over capacity", over)
		}
	})
}

// The demo's BTS records span 2023–2026 in every district, with 2025
// ratios on both sides of the 40 % target, and permits in every state.
func TestDemoBTSAndPermits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		if _, err := migrations.SeedDemo(dbtest.Context(t), db, "demo-password-1"); err != nil {
			t.Fatal(err)
		}
		var rows []struct {
			UnitCode string
			Shared   int
			Total    int
		}
		db.Root().Table("bts_deployments").Select("unit_code, sum(CASE WHEN classification = 'shared' THEN 1 ELSE 0 END) AS shared, count(*) AS total").
			Where("on_air_on >= '2025-01-01' AND on_air_on <= '2025-12-31'").Group("unit_code").Scan(&rows)
		above, below := 0, 0
		for _, r := range rows {
			if float64(r.Shared)/float64(r.Total) >= 0.40 {
				above++
			} else {
				below++
			}
		}
		if len(rows) != 9 || above == 0 || below == 0 {
			t.Fatalf("2025 by district %+v: %d above 40 %%, %d below", rows, above, below)
		}
		var years []string
		db.Root().Table("bts_deployments").Select("DISTINCT substr(CAST(on_air_on AS TEXT), 1, 4) AS y").Order("y").Pluck("y", &years)
		if fmt.Sprint(years) != "[2023 2024 2025 2026]" {
			t.Fatalf("years %v", years)
		}
		var states []string
		db.Root().Table("permits").Distinct("state").Order("state").Pluck("state", &states)
		if fmt.Sprint(states) != "[approved exempt rejected returned submitted withdrawn]" {
			t.Fatalf("permit states %v", states)
		}
	})
}

// The demo records central streets and residential areas in every district.
func TestDemoUnderground(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		if _, err := migrations.SeedDemo(dbtest.Context(t), db, "demo-password-1"); err != nil {
			t.Fatal(err)
		}
		var units, under, areas int64
		db.Root().Table("street_segments").Distinct("unit_code").Count(&units)
		db.Root().Table("street_segments").Where("underground = ?", true).Count(&under)
		db.Root().Table("residential_areas").Count(&areas)
		if units != 9 || under == 0 || areas < 18 {
			t.Fatalf("street segments in %d districts, %d underground, %d areas", units, under, areas)
		}
	})
}
