package permits_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sync"
	"testing"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/permits"
	"infrashare/registry"
)

// TestSharingRatioCountsMatchRecords: the report reads monthly counts kept
// beside the records; whatever the period (whole months, partial months at
// either end, one day), its figures equal a count of the records
// themselves, after logging and after reclassifications, concurrent ones
// included.
func TestSharingRatioCountsMatchRecords(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newPfix(t, db)
		ctx := dbtest.Context(t)
		units := []string{"916", "917", "918"}
		var towers []registry.AssetView
		for i, u := range units {
			for _, since := range []string{"2015-01-01", "2024-06-01"} {
				d := infrashare.MustDate(since)
				v, err := f.reg.Create(ctx, f.actors["vnpt"], registry.AssetInput{Code: fmt.Sprintf("T-%s-%s", u, since), Kind: "tower",
					Geometry: json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, 105.70+0.02*float64(i), 10.0+0.01*float64(len(towers)))),
					HeightM:  fp(40), UnitCode: u, InServiceOn: &d, Capacity: &registry.CapacityInput{Total: ip(5)}})
				if err != nil {
					t.Fatal(err)
				}
				towers = append(towers, v)
			}
		}
		rng := rand.New(rand.NewSource(7))
		var ids []int64
		// On-air days on the edges of months (the 1st, the 15th, the last),
		// where a period's partial months begin and end.
		for i := 0; i < 150; i++ {
			month := infrashare.MustDate("2024-01-01").AddDays(31 * rng.Intn(30))
			first := infrashare.Date{Year: month.Year, Month: month.Month, Day: 1}
			onAir := []infrashare.Date{first, first.AddDays(14), first.AddDays(40).AddDays(-first.AddDays(40).Day)}[rng.Intn(3)]
			asset := towers[rng.Intn(len(towers))].ID
			d, err := f.svc.LogDeployment(ctx, f.actors["vnpt"], permits.NewDeployment{StationCode: fmt.Sprintf("S-%03d", i),
				Technologies: []string{"4G"}, OnAirOn: &onAir, MountedOnAssetID: &asset})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, d.ID)
		}
		// The department reclassifies some, two of them from ten requests
		// at once: each move is counted once.
		classes := []string{permits.ClassShared, permits.ClassOwnExisting, permits.ClassNewStructure}
		for _, id := range ids[:10] {
			if _, err := f.svc.Reclassify(ctx, f.actors["auditor"], id, permits.Reclassification{Classification: permits.ClassShared, Reason: "Hợp đồng 2020"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids[10:12] {
			var wg sync.WaitGroup
			for k := 0; k < 10; k++ {
				wg.Add(1)
				go func(k int) {
					defer wg.Done()
					_, err := f.svc.Reclassify(ctx, f.actors["auditor"], id, permits.Reclassification{Classification: classes[k%3], Reason: "Đồng thời"})
					if err != nil && code(err) != infrashare.ECONFLICT {
						t.Errorf("concurrent reclassification: %v", err)
					}
				}(k)
			}
			wg.Wait()
		}

		// A record written without this release's bookkeeping (an older
		// replica during a rolling upgrade) is counted all the same.
		if err := db.Root().Exec(`INSERT INTO bts_deployments (operator_org_id, station_code, technologies, lat, lon, unit_code,
			on_air_on, classification, evidence, reclassified, created_at, updated_at)
			SELECT operator_org_id, 'OLD-RELEASE-1', technologies, lat, lon, unit_code, on_air_on, 'shared', evidence, false, created_at, updated_at
			FROM bts_deployments WHERE id = ?`, ids[20]).Error; err != nil {
			t.Fatal(err)
		}
		var records []struct {
			OnAirOn        infrashare.Date
			UnitCode       string
			Classification string
		}
		if err := db.Root().Table("bts_deployments").Select("on_air_on, unit_code, classification").Find(&records).Error; err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ from, to string }{
			{"2024-01-01", "2026-12-31"}, // whole years
			{"2024-03-15", "2025-11-15"}, // partial months at both ends
			{"2024-04-30", "2025-06-01"}, // a month's last day, a month's first
			{"2025-02-01", "2025-02-28"}, // one whole month
			{"2025-05-01", "2025-05-15"}, // inside one month
			{"2024-12-31", "2025-01-01"}, // across a year, no whole month
			{"2025-07-15", "2025-07-15"}, // one day
		} {
			from, to := infrashare.MustDate(c.from), infrashare.MustDate(c.to)
			rep, err := f.svc.SharingRatio(ctx, f.actors["auditor"], permits.RatioQuery{From: from, To: to, GroupBy: "unit"})
			if err != nil {
				t.Fatal(err)
			}
			type key struct {
				unit string
				year int
			}
			want := map[key][3]int{}
			for _, r := range records {
				if r.OnAirOn.Before(from) || r.OnAirOn.After(to) {
					continue
				}
				k := key{r.UnitCode, r.OnAirOn.Year}
				n := want[k]
				switch r.Classification {
				case permits.ClassShared:
					n[0]++
				case permits.ClassOwnExisting:
					n[1]++
				case permits.ClassNewStructure:
					n[2]++
				}
				want[k] = n
			}
			got := map[key][3]int{}
			for _, r := range rep.Rows {
				got[key{r.Group.Code, r.Year}] = [3]int{r.Shared, r.OwnExisting, r.NewStructure}
				if r.Total != r.Shared+r.OwnExisting+r.NewStructure {
					t.Errorf("%s–%s %s %d: total %d", c.from, c.to, r.Group.Code, r.Year, r.Total)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s–%s: report %v, records %v", c.from, c.to, got, want)
			}
		}
		// Another such record after reports have run is counted too.
		if err := db.Root().Exec(`INSERT INTO bts_deployments (operator_org_id, station_code, technologies, lat, lon, unit_code,
			on_air_on, classification, evidence, reclassified, created_at, updated_at)
			SELECT operator_org_id, 'OLD-RELEASE-2', technologies, lat, lon, unit_code, on_air_on, 'shared', evidence, false, created_at, updated_at
			FROM bts_deployments WHERE id = ?`, ids[21]).Error; err != nil {
			t.Fatal(err)
		}
		// The period asked first above, whose sums a replica remembers: each
		// kind of change shows in the next report.
		whole := permits.RatioQuery{From: infrashare.MustDate("2024-01-01"), To: infrashare.MustDate("2026-12-31"), GroupBy: "unit"}
		rep, err := f.svc.SharingRatio(ctx, f.actors["auditor"], whole)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Totals.Total != len(records)+1 {
			t.Errorf("after a second out-of-band record the report counts %d, want %d", rep.Totals.Total, len(records)+1)
		}
		backdated := infrashare.MustDate("2024-02-15")
		d, err := f.svc.LogDeployment(ctx, f.actors["vnpt"], permits.NewDeployment{StationCode: "S-BACKDATED",
			Technologies: []string{"4G"}, OnAirOn: &backdated, MountedOnAssetID: &towers[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		if rep, err = f.svc.SharingRatio(ctx, f.actors["auditor"], whole); err != nil {
			t.Fatal(err)
		}
		if rep.Totals.Total != len(records)+2 {
			t.Errorf("after a record logged in a whole month the report counts %d, want %d", rep.Totals.Total, len(records)+2)
		}
		shared := rep.Totals.Shared
		to := permits.ClassShared
		if d.Classification == permits.ClassShared {
			to, shared = permits.ClassNewStructure, shared-2
		}
		if _, err := f.svc.Reclassify(ctx, f.actors["auditor"], d.ID, permits.Reclassification{Classification: to, Reason: "Kiểm tra"}); err != nil {
			t.Fatal(err)
		}
		if rep, err = f.svc.SharingRatio(ctx, f.actors["auditor"], whole); err != nil {
			t.Fatal(err)
		}
		if rep.Totals.Total != len(records)+2 || rep.Totals.Shared != shared+1 {
			t.Errorf("after a reclassification the report counts %d, %d shared; want %d, %d", rep.Totals.Total, rep.Totals.Shared, len(records)+2, shared+1)
		}
	})
}

// TestSharingRatioSeesReferenceChanges: a replica keeps the report's
// reference data (names, targets, the official ratio) while the counter
// reference_version stands; every change of those tables — through the
// services or by hand — moves it, so the next report shows the change.
func TestSharingRatioSeesReferenceChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newPfix(t, db)
		ctx := dbtest.Context(t)
		tower := f.tower("vnpt", "T-REF-1", 10.03, 105.77, 40, 5, "2015-01-01")
		onAir := infrashare.MustDate("2025-03-01")
		if _, err := f.svc.LogDeployment(ctx, f.actors["vnpt"], permits.NewDeployment{StationCode: "S-REF-1",
			Technologies: []string{"4G"}, OnAirOn: &onAir, MountedOnAssetID: &tower.ID}); err != nil {
			t.Fatal(err)
		}
		admin := auth.Actor{UserID: 1, Roles: []string{auth.RoleAdmin}}
		report := func(groupBy string) permits.RatioReport {
			t.Helper()
			rep, err := f.svc.SharingRatio(ctx, f.actors["auditor"], permits.RatioQuery{
				From: infrashare.MustDate("2025-01-01"), To: infrashare.MustDate("2025-12-31"), GroupBy: groupBy})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Rows) != 1 {
				t.Fatalf("%s: %d rows, want 1", groupBy, len(rep.Rows))
			}
			return rep
		}
		target := func(rep permits.RatioReport) float64 {
			if rep.Rows[0].Target == nil {
				t.Fatal("no target in the report")
			}
			return *rep.Rows[0].Target
		}
		before, byOperator := report("year"), report("operator")
		if before.Official != "strict" || byOperator.Rows[0].Group.Code != "VNPT" {
			t.Fatalf("before: official %q, operator %+v", before.Official, byOperator.Rows[0].Group)
		}

		// Through the services: the plan's target and the official ratio.
		if _, err := f.svc.PutTargets(ctx, admin, []permits.TargetRow{
			{Metric: permits.MetricBTSSharing, UnitCode: "92", Year: 2025, Value: fp(0.77), Note: "Điều chỉnh"},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PutSettings(ctx, admin, []permits.SettingRow{
			{Key: "reports.official_ratio", ValidFrom: infrashare.MustDate("2025-01-01"), Value: json.RawMessage(`"broad"`), LegalBasis: "Quyết định của Sở"},
		}); err != nil {
			t.Fatal(err)
		}
		after := report("year")
		if got := target(after); got != 0.77 || after.Official != "broad" {
			t.Fatalf("after the services' changes: target %v, official %q; want 0.77, broad", got, after.Official)
		}

		// By hand, as an operator of the database might.
		for _, q := range []string{
			`UPDATE admin_units SET name = 'Thành phố Cần Thơ (đổi tên)' WHERE code = '92'`,
			`UPDATE organizations SET name = 'Tập đoàn VNPT (đổi tên)' WHERE code = 'VNPT'`,
			`UPDATE targets SET value = 0.66 WHERE unit_code = '92' AND year = 2025`,
		} {
			if err := db.Root().WithContext(ctx).Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		after, byOperator = report("year"), report("operator")
		if after.Totals.Group.Name != "Thành phố Cần Thơ (đổi tên)" || target(after) != 0.66 {
			t.Errorf("after changes by hand: city %q, target %v", after.Totals.Group.Name, target(after))
		}
		if byOperator.Rows[0].Group.Name != "Tập đoàn VNPT (đổi tên)" {
			t.Errorf("after changes by hand: operator %+v", byOperator.Rows[0].Group)
		}
	})
}
