package permits_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
	"infrashare/permits"
	"infrashare/registry"
)

// refFixture is a seeded demo database with the permits service on it, at
// a fixed time: 10 March 2026, 10:00 in Can Tho.
type refFixture struct {
	t     *testing.T
	db    *database.DB
	clock *infrashare.TestClock
	svc   *permits.Service
	units *registry.Units
	// actors by role: admin, auditor, officer, operator.
	actors map[string]auth.Actor
}

var refNow = time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC)

func newRefFixture(t *testing.T, db *database.DB) *refFixture {
	t.Helper()
	ctx := dbtest.Context(t)
	if _, err := migrations.SeedDemoAccounts(ctx, db, "demo-password-1"); err != nil {
		t.Fatal(err)
	}
	clock := infrashare.NewTestClock(refNow)
	audit := auth.NewAudit(db, clock)
	settings := auth.NewSettings(db, clock)
	units := registry.NewUnits(db, clock)
	f := &refFixture{t: t, db: db, clock: clock, units: units, actors: map[string]auth.Actor{},
		svc: permits.New(db, clock, audit, settings, registry.NewService(db, clock, audit, settings, units), units)}
	for role, org := range map[string]string{
		auth.RoleAdmin: "ADMIN", auth.RoleAuditor: "DEPT", auth.RoleOfficer: "UBND-NK", auth.RoleOperator: "VNPT",
	} {
		var o auth.Organization
		if err := db.Root().Where("code = ?", org).First(&o).Error; err != nil {
			t.Fatal(err)
		}
		var u auth.User
		if err := db.Root().Where("org_id = ?", o.ID).First(&u).Error; err != nil {
			t.Fatal(err)
		}
		f.actors[role] = auth.Actor{UserID: u.ID, OrgID: o.ID, OrgCode: o.Code, OrgKind: o.Kind, Roles: []string{role}}
	}
	return f
}

// refWant fails unless err carries the code; it returns the error.
func refWant(t *testing.T, err error, code string) *infrashare.Error {
	t.Helper()
	if infrashare.ErrorCode(err) != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
	var e *infrashare.Error
	errors.As(err, &e)
	return e
}

// refWantField fails unless err is a validation error naming field.
func refWantField(t *testing.T, err error, field string) {
	t.Helper()
	e := refWant(t, err, infrashare.EINVALID)
	if e.Fields[field] == "" {
		t.Fatalf("want a reason for %q, got %v", field, err)
	}
}

// refAuditCount counts audit events of an action.
func refAuditCount(t *testing.T, db *database.DB, action string) int64 {
	t.Helper()
	var n int64
	if err := db.Root().Table("audit_events").Where("action = ?", action).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func refFloat(v float64) *float64 { return &v }

func TestMetricNamesMatchTheMigration(t *testing.T) {
	for _, pair := range [][2]string{
		{permits.Plan216, migrations.Plan216},
		{permits.MetricBTSSharing, migrations.MetricBTSSharing},
		{permits.MetricNewAreaUnderg, migrations.MetricNewAreaUnderg},
		{permits.MetricHandedOverUnderg, migrations.MetricHandedOverUnderg},
		{permits.MetricCentralStreetUndg, migrations.MetricCentralStreetUndg},
	} {
		if pair[0] != pair[1] {
			t.Errorf("permits says %q, migrations %q", pair[0], pair[1])
		}
	}
}

func TestTargetResolution(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newRefFixture(t, db)
		ctx := dbtest.Context(t)
		type tc struct {
			metric string
			unit   string
			year   int
			want   float64
			found  bool
		}
		check := func(stage string, cases []tc) {
			t.Helper()
			for _, c := range cases {
				v, ok, err := f.svc.TargetFor(ctx, c.metric, c.unit, c.year)
				if err != nil {
					t.Fatalf("%s: %s %s %d: %v", stage, c.metric, c.unit, c.year, err)
				}
				if ok != c.found || (ok && v != c.want) {
					t.Errorf("%s: TargetFor(%s, %s, %d) = %v, %v; want %v, %v", stage, c.metric, c.unit, c.year, v, ok, c.want, c.found)
				}
			}
		}
		bts, central := permits.MetricBTSSharing, permits.MetricCentralStreetUndg
		check("seeded", []tc{
			{bts, "92", 2023, 0.40, true},
			{bts, "92", 2024, 0.40, true},
			{bts, "92", 2025, 0.40, true},
			{bts, "92", 2026, 0.50, true},
			{bts, "92", 2027, 0.50, true},
			{bts, "92", 2028, 0.50, true},
			{bts, "92", 2029, 0.50, true},
			{bts, "92", 2030, 0.50, true},
			{bts, "92", 2031, 0, false},
			// Every district inherits the city's targets.
			{bts, "916", 2025, 0.40, true},
			{bts, "927", 2030, 0.50, true},
			{bts, "916", 2031, 0, false},
			{central, "916", 2025, 0.70, true},
			{central, "916", 2030, 0.70, true},
			{permits.MetricHandedOverUnderg, "919", 2024, 0.50, true},
			{permits.MetricHandedOverUnderg, "919", 2026, 1.00, true},
			{permits.MetricNewAreaUnderg, "919", 2025, 1.00, true},
			// No unit, no metric: nothing to inherit.
			{bts, "999", 2025, 0, false},
			{"junk", "92", 2025, 0, false},
		})

		// A district's own row overrides the city's, for its years only.
		if _, err := f.svc.PutTargets(ctx, f.actors["admin"], []permits.TargetRow{
			{Metric: bts, UnitCode: "916", Year: 2025, Value: refFloat(0.45), Note: "Ninh Kiều đặt cao hơn"},
		}); err != nil {
			t.Fatal(err)
		}
		check("district row", []tc{
			{bts, "916", 2023, 0.45, true},
			{bts, "916", 2025, 0.45, true},
			{bts, "916", 2026, 0.50, true}, // no 916 milestone at or after 2026: the city's
			{bts, "917", 2025, 0.40, true},
			{bts, "92", 2025, 0.40, true},
		})

		// A commune under Ninh Kiều takes Ninh Kiều's, then the city's.
		if _, err := f.units.Create(ctx, f.actors["admin"], registry.NewUnit{Code: "31117", Name: "Phường Xuân Khánh",
			Level: "commune", ParentCode: "916", ValidFrom: "2004-01-01"}); err != nil {
			t.Fatal(err)
		}
		// A district retired by the 2025 reform keeps its parents of its
		// last valid day.
		if _, err := f.units.Retire(ctx, f.actors["admin"], "917", infrashare.MustDate("2025-07-01")); err != nil {
			t.Fatal(err)
		}
		check("chain", []tc{
			{bts, "31117", 2024, 0.45, true},
			{bts, "31117", 2027, 0.50, true},
			{central, "917", 2030, 0.70, true},
			{bts, "917", 2024, 0.40, true},
		})
	})
}

func TestTargetsListAndPut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newRefFixture(t, db)
		ctx := dbtest.Context(t)
		// Every role reads.
		for _, role := range []string{"admin", "auditor", "officer", "operator"} {
			rows, err := f.svc.Targets(ctx, f.actors[role], permits.TargetFilter{})
			if err != nil || len(rows) != 7 {
				t.Fatalf("%s reads %d targets, %v", role, len(rows), err)
			}
		}
		rows, err := f.svc.Targets(ctx, f.actors["operator"], permits.TargetFilter{Metric: permits.MetricBTSSharing, Year: 2030})
		if err != nil || len(rows) != 1 || *rows[0].Value != 0.50 || rows[0].UnitCode != "92" || rows[0].Plan != permits.Plan216 {
			t.Fatalf("filtered: %+v %v", rows, err)
		}
		_, err = f.svc.Targets(ctx, f.actors["operator"], permits.TargetFilter{Metric: "junk"})
		refWantField(t, err, "metric")
		_, err = f.svc.Targets(ctx, f.actors["operator"], permits.TargetFilter{Year: 1999})
		refWantField(t, err, "year")

		// Only admins write.
		good := permits.TargetRow{Metric: permits.MetricCentralStreetUndg, UnitCode: "919", Year: 2030, Value: refFloat(0.6)}
		for _, role := range []string{"auditor", "officer", "operator"} {
			_, err := f.svc.PutTargets(ctx, f.actors[role], []permits.TargetRow{good})
			refWant(t, err, infrashare.EFORBIDDEN)
		}

		// Bad rows name their field; nothing of the batch is written.
		cases := []struct {
			row   permits.TargetRow
			field string
		}{
			{permits.TargetRow{Metric: "junk", UnitCode: "92", Year: 2030, Value: refFloat(0.5)}, "targets[1].metric"},
			{permits.TargetRow{Metric: permits.MetricBTSSharing, UnitCode: "999", Year: 2030, Value: refFloat(0.5)}, "targets[1].unit_code"},
			{permits.TargetRow{Metric: permits.MetricBTSSharing, UnitCode: "92", Year: 1999, Value: refFloat(0.5)}, "targets[1].year"},
			{permits.TargetRow{Metric: permits.MetricBTSSharing, UnitCode: "92", Year: 2101, Value: refFloat(0.5)}, "targets[1].year"},
			{permits.TargetRow{Metric: permits.MetricBTSSharing, UnitCode: "92", Year: 2030, Value: refFloat(1.5)}, "targets[1].value"},
			{permits.TargetRow{Metric: permits.MetricBTSSharing, UnitCode: "92", Year: 2030, Value: refFloat(-0.1)}, "targets[1].value"},
			{permits.TargetRow{Metric: permits.MetricBTSSharing, UnitCode: "92", Year: 2030}, "targets[1].value"},
			{permits.TargetRow{UnitCode: "92", Year: 2030, Value: refFloat(0.5)}, "targets[1].metric"},
			{permits.TargetRow{Metric: permits.MetricBTSSharing, Year: 2030, Value: refFloat(0.5)}, "targets[1].unit_code"},
			{good, "targets[1].year"}, // the same key twice
		}
		for _, c := range cases {
			_, err := f.svc.PutTargets(ctx, f.actors["admin"], []permits.TargetRow{good, c.row})
			refWantField(t, err, c.field)
		}
		_, err = f.svc.PutTargets(ctx, f.actors["admin"], nil)
		refWantField(t, err, "targets")
		if rows, _ := f.svc.Targets(ctx, f.actors["admin"], permits.TargetFilter{Unit: "919"}); len(rows) != 0 || refAuditCount(t, db, "target.put") != 0 {
			t.Fatalf("a refused batch wrote %+v", rows)
		}

		// Upsert: a new row, and a seeded one changed; audited once.
		changed := permits.TargetRow{Plan: permits.Plan216, Metric: permits.MetricBTSSharing, UnitCode: "92", Year: 2030, Value: refFloat(0.55), Note: "điều chỉnh"}
		out, err := f.svc.PutTargets(ctx, f.actors["admin"], []permits.TargetRow{good, changed})
		if err != nil || len(out) != 2 || out[0].Plan != permits.Plan216 {
			t.Fatalf("put: %+v %v", out, err)
		}
		rows, _ = f.svc.Targets(ctx, f.actors["auditor"], permits.TargetFilter{})
		if len(rows) != 8 {
			t.Fatalf("after the upsert %d rows", len(rows))
		}
		if v, _, _ := f.svc.TargetFor(ctx, permits.MetricBTSSharing, "918", 2028); v != 0.55 {
			t.Fatalf("the changed 2030 target reads %v", v)
		}
		if v, _, _ := f.svc.TargetFor(ctx, permits.MetricCentralStreetUndg, "919", 2030); v != 0.6 {
			t.Fatalf("Cái Răng's own target reads %v", v)
		}
		if n := refAuditCount(t, db, "target.put"); n != 1 {
			t.Fatalf("%d target.put events", n)
		}
		var ev auth.AuditEvent
		db.Root().Where("action = ?", "target.put").First(&ev)
		if ev.Before == nil || !strings.Contains(*ev.Before, `"value":0.5`) || !strings.Contains(*ev.After, `"value":0.55`) {
			t.Fatalf("audit before %v after %v", ev.Before, ev.After)
		}
	})
}

func TestHolidaysAndWorkingDays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newRefFixture(t, db)
		ctx := dbtest.Context(t)
		d := infrashare.MustDate

		hs, err := f.svc.Holidays(ctx, f.actors["operator"], 2026)
		if err != nil || len(hs) != 11 || hs[0].Day != d("2026-01-01") || hs[1].Day != d("2026-02-16") || hs[1].Name != "Tết Nguyên đán" {
			t.Fatalf("2026: %+v %v", hs, err)
		}
		// The default year is this year in Vietnam.
		if def, _ := f.svc.Holidays(ctx, f.actors["officer"], 0); len(def) != len(hs) {
			t.Fatalf("default year: %d holidays", len(def))
		}
		_, err = f.svc.Holidays(ctx, f.actors["officer"], 1800)
		refWantField(t, err, "year")

		// 16–20 Feb 2026 is Tết (Monday to Friday); 21–22 Feb a weekend.
		for _, c := range []struct {
			from string
			n    int
			want string
		}{
			{"2026-02-12", 0, "2026-02-12"},
			{"2026-02-12", 1, "2026-02-13"}, // Thursday → Friday
			{"2026-02-13", 1, "2026-02-23"}, // Friday before Tết → the Monday after
			{"2026-02-12", 2, "2026-02-23"},
			{"2026-02-14", 1, "2026-02-23"}, // from a Saturday
			{"2026-02-16", 1, "2026-02-23"}, // from a holiday
			{"2026-03-06", 1, "2026-03-09"}, // Friday → Monday
			{"2026-03-09", 5, "2026-03-16"},
			{"2026-02-02", 20, "2026-03-09"}, // the default decision deadline across Tết
			{"2025-12-31", 1, "2026-01-02"},  // New Year's Day is off
			{"2026-04-24", 2, "2026-04-29"},  // 27 Apr (Hùng Kings) is off
			{"2026-04-29", 1, "2026-05-04"},  // 30 Apr and 1 May are off
			{"2026-08-28", 1, "2026-08-31"},
			{"2026-08-31", 1, "2026-09-03"}, // 1–2 Sep are off
		} {
			got, err := f.svc.AddWorkingDays(ctx, d(c.from), c.n)
			if err != nil || got != d(c.want) {
				t.Errorf("AddWorkingDays(%s, %d) = %s, %v; want %s", c.from, c.n, got, err, c.want)
			}
		}
		for _, c := range []struct {
			from, to string
			want     int
		}{
			{"2026-02-13", "2026-02-23", 1},
			{"2026-02-12", "2026-02-23", 2},
			{"2026-02-13", "2026-02-20", 0}, // all Tết
			{"2026-03-06", "2026-03-09", 1},
			{"2026-03-07", "2026-03-08", 0}, // a weekend
			{"2026-03-09", "2026-03-09", 0},
			{"2026-03-09", "2026-03-02", 0}, // to before from
			{"2026-02-02", "2026-03-09", 20},
			{"2026-03-09", "2026-03-13", 4},
			{"2025-12-31", "2026-01-02", 1},
		} {
			got, err := f.svc.WorkingDaysBetween(ctx, d(c.from), d(c.to))
			if err != nil || got != c.want {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, %v; want %d", c.from, c.to, got, err, c.want)
			}
		}
		// The two agree.
		for _, from := range []string{"2026-01-30", "2026-02-13", "2026-02-15", "2026-04-25", "2026-12-24"} {
			for _, n := range []int{1, 3, 10, 20, 45} {
				to, err := f.svc.AddWorkingDays(ctx, d(from), n)
				if err != nil {
					t.Fatal(err)
				}
				if back, err := f.svc.WorkingDaysBetween(ctx, d(from), to); err != nil || back != n {
					t.Errorf("from %s: %d working days reach %s, which counts %d", from, n, to, back)
				}
			}
		}
		_, err = f.svc.AddWorkingDays(ctx, d("2026-03-09"), -1)
		refWantField(t, err, "n")
		_, err = f.svc.AddWorkingDays(ctx, infrashare.Date{}, 1)
		refWantField(t, err, "from")
		_, err = f.svc.WorkingDaysBetween(ctx, d("2026-03-09"), infrashare.Date{})
		refWantField(t, err, "to")

		// Admins replace a year; the days must lie in it.
		for _, role := range []string{"auditor", "officer", "operator"} {
			_, err := f.svc.PutHolidays(ctx, f.actors[role], 2027, nil)
			refWant(t, err, infrashare.EFORBIDDEN)
		}
		bad := []struct {
			days  []permits.Holiday
			field string
		}{
			{[]permits.Holiday{{Day: d("2026-01-01"), Name: "Tết Dương lịch"}}, "holidays[0].day"},
			{[]permits.Holiday{{Day: d("2027-01-01"), Name: "Tết Dương lịch"}, {Day: d("2027-02-08")}}, "holidays[1].name"},
			{[]permits.Holiday{{Name: "Không ngày"}}, "holidays[0].day"},
			{[]permits.Holiday{{Day: d("2027-01-01"), Name: "A"}, {Day: d("2027-01-01"), Name: "B"}}, "holidays[1].day"},
			{[]permits.Holiday{{Day: d("2027-01-01"), Name: strings.Repeat("x", 201)}}, "holidays[0].name"},
		}
		for _, c := range bad {
			_, err := f.svc.PutHolidays(ctx, f.actors["admin"], 2027, c.days)
			refWantField(t, err, c.field)
		}
		_, err = f.svc.PutHolidays(ctx, f.actors["admin"], 1999, nil)
		refWantField(t, err, "year")

		if _, err := f.svc.PutHolidays(ctx, f.actors["admin"], 2027, []permits.Holiday{
			{Day: d("2027-02-08"), Name: "Tết Nguyên đán"}, {Day: d("2027-01-01"), Name: " Tết Dương lịch "},
		}); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.Holidays(ctx, f.actors["operator"], 2027)
		if len(got) != 2 || got[0].Day != d("2027-01-01") || got[0].Name != "Tết Dương lịch" {
			t.Fatalf("2027: %+v", got)
		}
		if next, _ := f.svc.AddWorkingDays(ctx, d("2026-12-31"), 1); next != d("2027-01-04") {
			t.Fatalf("after 31 Dec 2026: %s", next)
		}
		// Replacing is replacing: 2026 loses its holidays, 2025 and 2027 keep theirs.
		if _, err := f.svc.PutHolidays(ctx, f.actors["admin"], 2026, []permits.Holiday{}); err != nil {
			t.Fatal(err)
		}
		if next, _ := f.svc.AddWorkingDays(ctx, d("2026-02-13"), 1); next != d("2026-02-16") {
			t.Fatalf("without Tết: %s", next)
		}
		h25, _ := f.svc.Holidays(ctx, f.actors["operator"], 2025)
		h27, _ := f.svc.Holidays(ctx, f.actors["operator"], 2027)
		if len(h25) != 12 || len(h27) != 2 {
			t.Fatalf("other years: %d, %d", len(h25), len(h27))
		}
		if n := refAuditCount(t, db, "holiday.put"); n != 2 {
			t.Fatalf("%d holiday.put events", n)
		}
	})
}

func TestSettingsMaskAndPut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newRefFixture(t, db)
		ctx := dbtest.Context(t)
		admin := f.actors["admin"]
		find := func(rows []permits.SettingRow, key, from string) *permits.SettingRow {
			for i := range rows {
				if rows[i].Key == key && (from == "" || rows[i].ValidFrom.String() == from) {
					return &rows[i]
				}
			}
			return nil
		}
		stored := func(key, from string) string {
			var v []string
			db.Root().Table("settings").Where("key = ? AND valid_from = ?", key, from).Pluck("value", &v)
			if len(v) != 1 {
				t.Fatalf("no stored %s@%s", key, from)
			}
			return v[0]
		}

		// Readers: auditors and admins only.
		for _, role := range []string{"officer", "operator"} {
			_, err := f.svc.Settings(ctx, f.actors[role])
			refWant(t, err, infrashare.EFORBIDDEN)
		}
		rows, err := f.svc.Settings(ctx, f.actors["auditor"])
		if err != nil || find(rows, "colocation.reply_days", "") == nil || !find(rows, "colocation.reply_days", "").InForce {
			t.Fatalf("settings: %+v %v", rows, err)
		}

		// An SMTP password is stored, and never read back.
		smtp := `{"host":"smtp.cantho.gov.vn","port":587,"from":"thongbao@cantho.gov.vn","username":"mailer","password":"s3cret-pw","starttls":true}`
		if _, err := f.svc.PutSettings(ctx, admin, []permits.SettingRow{
			{Key: "notify.smtp", ValidFrom: infrashare.MustDate("2000-01-01"), Value: json.RawMessage(smtp), LegalBasis: "Quyết định của Sở"},
		}); err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"auditor", "admin"} {
			rows, err := f.svc.Settings(ctx, f.actors[role])
			if err != nil {
				t.Fatal(err)
			}
			row := find(rows, "notify.smtp", "")
			if row == nil || strings.Contains(string(row.Value), "s3cret") || !strings.Contains(string(row.Value), `"password":"********"`) ||
				!strings.Contains(string(row.Value), `"host":"smtp.cantho.gov.vn"`) || row.LegalBasis != "Quyết định của Sở" {
				t.Fatalf("%s reads %+v", role, row)
			}
		}
		if !strings.Contains(stored("notify.smtp", "2000-01-01"), `"password":"s3cret-pw"`) {
			t.Fatal("the password was not stored")
		}
		// Sending back what was read, with another host, keeps the password.
		rows, _ = f.svc.Settings(ctx, admin)
		back := *find(rows, "notify.smtp", "")
		back.Value = json.RawMessage(strings.Replace(string(back.Value), "smtp.cantho.gov.vn", "mail.cantho.gov.vn", 1))
		if _, err := f.svc.PutSettings(ctx, admin, []permits.SettingRow{back}); err != nil {
			t.Fatal(err)
		}
		if v := stored("notify.smtp", "2000-01-01"); !strings.Contains(v, `"password":"s3cret-pw"`) || !strings.Contains(v, "mail.cantho.gov.vn") {
			t.Fatalf("after writing the mask back: %s", v)
		}
		// The settings reader the mailer uses sees the real password.
		var cfg struct{ Host, Password string }
		if err := auth.NewSettings(db, f.clock).Get(ctx, "notify.smtp", &cfg); err != nil || cfg.Password != "s3cret-pw" || cfg.Host != "mail.cantho.gov.vn" {
			t.Fatalf("reader: %+v %v", cfg, err)
		}
		// The audit log never holds the password.
		var evs []auth.AuditEvent
		db.Root().Where("action = ?", "setting.put").Order("seq").Find(&evs)
		if len(evs) != 2 {
			t.Fatalf("%d setting.put events", len(evs))
		}
		for _, ev := range evs {
			for _, s := range []*string{ev.Before, ev.After} {
				if s != nil && strings.Contains(*s, "s3cret") {
					t.Fatalf("the audit log holds the password: %s", *s)
				}
			}
		}
		if evs[1].Before == nil || !strings.Contains(*evs[1].Before, "smtp.cantho.gov.vn") || !strings.Contains(*evs[1].After, "mail.cantho.gov.vn") ||
			!strings.Contains(*evs[1].After, "********") || evs[1].ObjectID != "notify.smtp@2000-01-01" {
			t.Fatalf("audit: %+v", evs[1])
		}

		// A future row is listed beside the one in force; valid_from
		// defaults to today.
		if _, err := f.svc.PutSettings(ctx, admin, []permits.SettingRow{
			{Key: "colocation.reply_days", ValidFrom: infrashare.MustDate("2026-06-01"), Value: json.RawMessage(`20`), LegalBasis: "Nghị định mới"},
			{Key: "permits.decision_working_days", Value: json.RawMessage(` 25 `)},
		}); err != nil {
			t.Fatal(err)
		}
		rows, _ = f.svc.Settings(ctx, f.actors["auditor"])
		cur, fut := find(rows, "colocation.reply_days", "2000-01-01"), find(rows, "colocation.reply_days", "2026-06-01")
		if cur == nil || !cur.InForce || string(cur.Value) != "15" || fut == nil || fut.InForce || string(fut.Value) != "20" {
			t.Fatalf("current %+v future %+v", cur, fut)
		}
		dec := find(rows, "permits.decision_working_days", "2026-03-10")
		if dec == nil || !dec.InForce || string(dec.Value) != "25" || find(rows, "permits.decision_working_days", "2000-01-01") != nil {
			t.Fatalf("dated today: %+v", dec)
		}
		var days int
		if err := auth.NewSettings(db, f.clock).Get(ctx, "permits.decision_working_days", &days); err != nil || days != 25 {
			t.Fatalf("in force: %d %v", days, err)
		}

		// Refusals name the field; nothing of a refused batch is written.
		ok := permits.SettingRow{Key: "colocation.accept_days", Value: json.RawMessage(`45`)}
		for _, c := range []struct {
			row   permits.SettingRow
			field string
		}{
			{permits.SettingRow{Key: "no.such.key", Value: json.RawMessage(`1`)}, "settings[1].key"},
			{permits.SettingRow{Value: json.RawMessage(`1`)}, "settings[1].key"},
			{permits.SettingRow{Key: "colocation.reply_days", Value: json.RawMessage(`"15"`)}, "settings[1].value"},
			{permits.SettingRow{Key: "asset.classes", Value: json.RawMessage(`{"A1a":true}`)}, "settings[1].value"},
			{permits.SettingRow{Key: "notify.smtp", Value: json.RawMessage(`[]`)}, "settings[1].value"},
			{permits.SettingRow{Key: "reports.official_ratio", Value: json.RawMessage(`null`)}, "settings[1].value"},
			{permits.SettingRow{Key: "colocation.reply_days", Value: json.RawMessage(`{`)}, "settings[1].value"},
			{permits.SettingRow{Key: "colocation.reply_days"}, "settings[1].value"},
			{permits.SettingRow{Key: "colocation.reply_days", ValidFrom: infrashare.MustDate("1990-01-01"), Value: json.RawMessage(`3`)}, "settings[1].valid_from"},
			{ok, "settings[1].valid_from"}, // the same key and day twice
		} {
			_, err := f.svc.PutSettings(ctx, admin, []permits.SettingRow{ok, c.row})
			refWantField(t, err, c.field)
		}
		var n int64
		db.Root().Table("settings").Where("key = ? AND valid_from = ?", "colocation.accept_days", "2026-03-10").Count(&n)
		if n != 0 {
			t.Fatal("a refused batch wrote a row")
		}
		_, err = f.svc.PutSettings(ctx, f.actors["auditor"], []permits.SettingRow{ok})
		refWant(t, err, infrashare.EFORBIDDEN)
		_, err = f.svc.PutSettings(ctx, admin, nil)
		refWantField(t, err, "settings")

		// A future row written with the mask takes the password of the row
		// in force on its date.
		if _, err := f.svc.PutSettings(ctx, admin, []permits.SettingRow{{Key: "notify.smtp", ValidFrom: infrashare.MustDate("2027-01-01"),
			Value: json.RawMessage(`{"host":"","port":25,"from":"x@y.vn","username":"","password":"********","starttls":false}`)}}); err != nil {
			t.Fatal(err)
		}
		if v := stored("notify.smtp", "2027-01-01"); !strings.Contains(v, `"password":"s3cret-pw"`) {
			t.Fatalf("future row: %s", v)
		}
	})
}
