package migrations_test

import (
	"context"
	"errors"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"infrashare"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func openEmpty(t *testing.T, dialect string) *database.DB {
	t.Helper()
	db, err := database.Open(dbtest.Context(t), dbtest.EmptyURL(t, dialect), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrateEmptyDatabaseCreatesSchemaAndReferenceData(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := dbtest.Context(t)
			db := openEmpty(t, d)
			applied, err := migrations.Migrate(ctx, db, migrations.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != len(migrations.IDs()) {
				t.Fatalf("applied %v, want all of %v", applied, migrations.IDs())
			}
			m := db.Root().Migrator()
			want := map[string][]string{
				"admin_units":       {"id", "code", "valid_from", "valid_to", "name", "level", "parent_code", "urban", "boundary", "min_lat", "max_lon"},
				"organizations":     {"id", "code", "name", "kind", "group_code", "contact_name", "contact_email", "contact_phone"},
				"org_jurisdictions": {"org_id", "unit_code"},
				"users":             {"id", "org_id", "email", "password_hash", "roles", "disabled", "demo"},
				"settings":          {"key", "valid_from", "value", "legal_basis"},
				"targets":           {"plan", "metric", "unit_code", "year", "value"},
				"counters":          {"name", "value"},
				"seed_runs":         {"name", "at"},
			}
			for table, cols := range want {
				if !m.HasTable(table) {
					t.Errorf("table %s missing", table)
					continue
				}
				for _, c := range cols {
					if !m.HasColumn(table, c) {
						t.Errorf("column %s.%s missing", table, c)
					}
				}
			}
			var codes []string
			db.Root().Table("admin_units").Order("code").Pluck("code", &codes)
			wantCodes := []string{"916", "917", "918", "919", "92", "923", "924", "925", "926", "927"}
			sort.Strings(wantCodes)
			if len(codes) != len(wantCodes) {
				t.Fatalf("units %v, want %v", codes, wantCodes)
			}
			for i := range codes {
				if codes[i] != wantCodes[i] {
					t.Fatalf("units %v, want %v", codes, wantCodes)
				}
			}
			var urban int64
			db.Root().Table("admin_units").Where("level = ? AND urban = ?", "district", true).Count(&urban)
			if urban != 5 {
				t.Errorf("%d urban districts, want the five quận", urban)
			}
			var v float64
			db.Root().Table("targets").Where("metric = ? AND unit_code = ? AND year = ?", migrations.MetricBTSSharing, "92", 2025).Pluck("value", &v)
			if v != 0.40 {
				t.Errorf("2025 sharing target %v, want 0.40", v)
			}
			db.Root().Table("targets").Where("metric = ? AND unit_code = ? AND year = ?", migrations.MetricCentralStreetUndg, "92", 2030).Pluck("value", &v)
			if v != 0.70 {
				t.Errorf("2030 central street target %v, want 0.70", v)
			}
			var reply string
			db.Root().Table("settings").Where("key = ?", "colocation.reply_days").Pluck("value", &reply)
			if reply != "15" {
				t.Errorf("reply deadline setting %q, want 15", reply)
			}
		})
	}
}

func TestMigrateTwiceChangesNothing(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := dbtest.Context(t)
			db := openEmpty(t, d)
			if _, err := migrations.Migrate(ctx, db, migrations.Options{}); err != nil {
				t.Fatal(err)
			}
			before := counts(t, db)
			applied, err := migrations.Migrate(ctx, db, migrations.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != 0 {
				t.Fatalf("second run applied %v", applied)
			}
			after := counts(t, db)
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s: %d rows before, %d after", k, v, after[k])
				}
			}
		})
	}
}

func counts(t *testing.T, db *database.DB) map[string]int64 {
	out := map[string]int64{}
	for _, table := range []string{"admin_units", "targets", "settings", migrations.TableName} {
		var n int64
		if err := db.Root().Table(table).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestMigrateRefusesUnknownMigrations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		if err := db.Root().Exec("INSERT INTO "+migrations.TableName+" (id) VALUES (?)", "9999_from_the_future").Error; err != nil {
			t.Fatal(err)
		}
		_, err := migrations.Migrate(ctx, db, migrations.Options{})
		if !errors.Is(err, migrations.ErrUnknownMigrations) {
			t.Fatalf("err = %v, want ErrUnknownMigrations", err)
		}
		if _, err := migrations.Migrate(ctx, db, migrations.Options{AllowUnknown: true}); err != nil {
			t.Fatalf("with AllowUnknown: %v", err)
		}
		st, err := migrations.ReadStatus(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Unknown) != 1 || len(st.Pending) != 0 {
			t.Fatalf("status %+v", st)
		}
	})
}

// Replicas starting together on a new database migrate once: the advisory
// lock makes the others wait, then find nothing pending.
func TestConcurrentMigrateAppliesOnce(t *testing.T) {
	if os.Getenv(dbtest.EnvPostgresURL) == "" {
		dbtest.Dialects(t) // fails in CI
		t.Skip("needs PostgreSQL: set " + dbtest.EnvPostgresURL)
	}
	url := dbtest.EmptyURL(t, database.Postgres)
	const replicas = 6
	var wg sync.WaitGroup
	applied := make([][]string, replicas)
	errs := make([]error, replicas)
	for i := 0; i < replicas; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			db, err := database.Open(ctx, url, database.Options{})
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			applied[i], errs[i] = migrations.Migrate(ctx, db, migrations.Options{})
		}(i)
	}
	wg.Wait()
	total := 0
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		total += len(applied[i])
	}
	if total != len(migrations.IDs()) {
		t.Fatalf("migrations applied %d times in all, want %d (once each)", total, len(migrations.IDs()))
	}
}

// Instants keep microseconds and come back in UTC; civil dates come back as
// the same day, on both databases.
func TestInstantsAndDatesRoundTrip(t *testing.T) {
	type probe struct {
		ID  int64 `gorm:"primaryKey"`
		At  time.Time
		Day infrashare.Date `gorm:"type:date"`
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		g := db.Root().WithContext(dbtest.Context(t))
		if err := g.Migrator().CreateTable(&probe{}); err != nil {
			t.Fatal(err)
		}
		hcm := time.FixedZone("ICT", 7*3600)
		in := time.Date(2026, 3, 1, 6, 30, 15, 123456789, hcm)
		row := probe{At: in, Day: infrashare.MustDate("2025-07-01")}
		if err := g.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
		var out probe
		if err := g.First(&out, row.ID).Error; err != nil {
			t.Fatal(err)
		}
		want := in.UTC().Truncate(time.Microsecond)
		if !out.At.Equal(want) || out.At.Location() != time.UTC {
			t.Errorf("instant %v (%v), want %v in UTC", out.At, out.At.Location(), want)
		}
		if out.Day != infrashare.MustDate("2025-07-01") {
			t.Errorf("date %v, want 2025-07-01", out.Day)
		}
		var raw string
		g.Raw("SELECT CAST(day AS TEXT) FROM probes WHERE id = ?", row.ID).Scan(&raw)
		if raw != "2025-07-01" {
			t.Errorf("stored date %q, want 2025-07-01", raw)
		}
	})
}
