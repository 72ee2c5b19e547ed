package permits_test

// BenchmarkSharingRatio200k (issue 6 point 10, DESIGN §8): the
// sharing-ratio report grouped by unit over 200,000 BTS records, on SQLite
// and, when INFRASHARE_TEST_POSTGRES_URL is set, on PostgreSQL, beside the
// bare GROUP BY it runs. Figures and commands are in docs/performance.md.
//
// The records are written straight into bts_deployments with multi-row
// INSERTs, once per test binary and dialect; the database stays open until
// the process ends, and a later run removes what an earlier one left behind
// (its SQLite folder in the temp dir, its PostgreSQL database, both marked
// with the process id).

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that sweeps old bench databases
	"gorm.io/gorm/logger"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
	"infrashare/permits"
	"infrashare/registry"
)

const (
	ratioBenchRows    = 200_000
	ratioBenchSeed    = 20260302
	ratioInsertRows   = 1000
	ratioBenchDirStem = "infrashare-bench-"
)

// ratioDistricts are Can Tho's nine pre-2025 districts, each with a point
// near its centre and how far its sharing is ahead of the city's (the
// urban quận share more).
var ratioDistricts = []struct {
	code     string
	lat, lon float64
	bias     float64
}{
	{"916", 10.0310, 105.7680, 0.12}, {"917", 10.1180, 105.6270, 0.02}, {"918", 10.0710, 105.7430, 0.08},
	{"919", 9.9990, 105.7780, 0.06}, {"923", 10.2670, 105.5300, 0.00}, {"924", 10.2000, 105.4000, -0.08},
	{"925", 10.0980, 105.4300, -0.06}, {"926", 9.9980, 105.6700, -0.04}, {"927", 10.0650, 105.5600, -0.07},
}

// countingLogger is GORM's logger for the bench databases: silent, it
// counts the statements sent.
type countingLogger struct{ n atomic.Int64 }

func (c *countingLogger) LogMode(logger.LogLevel) logger.Interface { return c }
func (c *countingLogger) Info(context.Context, string, ...any)     {}
func (c *countingLogger) Warn(context.Context, string, ...any)     {}
func (c *countingLogger) Error(context.Context, string, ...any)    {}
func (c *countingLogger) Trace(context.Context, time.Time, func() (string, int64), error) {
	c.n.Add(1)
}

// ratioEnv is one dialect's database with the BTS records.
type ratioEnv struct {
	dialect   string
	db        *database.DB
	svc       *permits.Service
	auditor   auth.Actor
	counts    map[string]int // by classification
	buildTime time.Duration
	version   string
	logged    sync.Once
	queries   *countingLogger
	tune      string // INFRASHARE_BENCH_TUNE as applied
}

var (
	ratioMu   sync.Mutex
	ratioEnvs = map[string]*ratioEnv{}
	ratioErrs = map[string]error{}
)

func ratioDialects() []string {
	if os.Getenv(dbtest.EnvPostgresURL) != "" {
		return []string{database.SQLite, database.Postgres}
	}
	return []string{database.SQLite}
}

// ratioKeepTB lends dbtest a testing.TB whose cleanups never run, so that
// the database outlives the benchmark that made it, and whose temp dir
// carries the process id for the next run's sweep.
type ratioKeepTB struct {
	testing.TB
	dir string
}

func (k ratioKeepTB) Cleanup(func())  {}
func (k ratioKeepTB) TempDir() string { return k.dir }

func ratioProcessAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || strings.Contains(err.Error(), "not permitted") || strings.Contains(err.Error(), "not supported")
}

// ratioSweep removes the data sets of earlier runs whose process has
// ended. A PostgreSQL database still in use refuses DROP DATABASE and stays.
func ratioSweep(b *testing.B, dialect string) {
	if dialect == database.SQLite {
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), ratioBenchDirStem+"*"))
		for _, d := range dirs {
			pidStr, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), ratioBenchDirStem), "-")
			if pid, err := strconv.Atoi(pidStr); err == nil && pid != os.Getpid() && !ratioProcessAlive(pid) {
				_ = os.RemoveAll(d)
			}
		}
		return
	}
	admin, err := sql.Open("pgx", os.Getenv(dbtest.EnvPostgresURL))
	if err != nil {
		return
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := admin.QueryContext(ctx, `SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database
		WHERE shobj_description(oid, 'pg_database') LIKE 'infrashare-bench %'`)
	if err != nil {
		return
	}
	host, _ := os.Hostname()
	var stale []string
	for rows.Next() {
		var name, comment string
		if rows.Scan(&name, &comment) != nil {
			continue
		}
		var pid int
		var h string
		if _, err := fmt.Sscanf(comment, "infrashare-bench pid=%d host=%s", &pid, &h); err == nil && h == host && !ratioProcessAlive(pid) {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err == nil {
			b.Logf("removed the bench database %s of an earlier run", name)
		}
	}
}

// ratioDatabaseURL is the URL of a fresh migrated database of the dialect that
// outlives the benchmark. On PostgreSQL dbtest's copy is renamed from
// infrashare_t_… to infrashare_bench_…: .ci/run drops every infrashare_t_…
// database WITH (FORCE) when it starts, which would kill a benchmark running
// beside it.
func ratioDatabaseURL(b *testing.B, dialect, dir string) (string, error) {
	u := dbtest.URL(ratioKeepTB{TB: b, dir: dir}, dialect)
	if dialect != database.Postgres {
		return u, nil
	}
	pu, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	old := strings.TrimPrefix(pu.Path, "/")
	name := fmt.Sprintf("infrashare_bench_%d_%s", os.Getpid(), strings.TrimPrefix(old, "infrashare_t_"))
	admin, err := sql.Open("pgx", os.Getenv(dbtest.EnvPostgresURL))
	if err != nil {
		return "", err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE "%s" RENAME TO "%s"`, old, name)); err != nil {
		return "", err
	}
	pu.Path = "/" + name
	return pu.String(), nil
}

func ratioEnvFor(b *testing.B, dialect string) *ratioEnv {
	b.Helper()
	ratioMu.Lock()
	defer ratioMu.Unlock()
	if err := ratioErrs[dialect]; err != nil {
		b.Fatalf("the %s data set could not be built: %v", dialect, err)
	}
	if env := ratioEnvs[dialect]; env != nil {
		return env
	}
	env, err := buildRatioEnv(b, dialect)
	if err != nil {
		ratioErrs[dialect] = err
		b.Fatalf("build the %s data set: %v", dialect, err)
	}
	ratioEnvs[dialect] = env
	return env
}

func buildRatioEnv(b *testing.B, dialect string) (*ratioEnv, error) {
	ratioSweep(b, dialect)
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", ratioBenchDirStem, os.Getpid()))
	if err != nil {
		return nil, err
	}
	u, err := ratioDatabaseURL(b, dialect, dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	queries := &countingLogger{}
	db, err := database.Open(ctx, u, database.Options{Logger: queries})
	if err != nil {
		return nil, err
	}
	env := &ratioEnv{dialect: dialect, db: db, counts: map[string]int{}, queries: queries}
	if db.IsPostgres() {
		pu, _ := url.Parse(u)
		host, _ := os.Hostname()
		if err := db.Root().Exec(fmt.Sprintf(`COMMENT ON DATABASE "%s" IS 'infrashare-bench pid=%d host=%s'`,
			strings.TrimPrefix(pu.Path, "/"), os.Getpid(), host)).Error; err != nil {
			return nil, err
		}
		db.Root().Raw("SELECT version()").Scan(&env.version)
	} else {
		db.Root().Raw("SELECT 'SQLite ' || sqlite_version()").Scan(&env.version)
	}
	if _, err := migrations.SeedDemoAccounts(ctx, db, "bench-password-1"); err != nil {
		return nil, err
	}
	var ops []auth.Organization
	if err := db.Root().Where("code IN ?", []string{"VNPT", "VIETTEL", "MOBIFONE"}).Order("code").Find(&ops).Error; err != nil {
		return nil, err
	}
	if len(ops) != 3 {
		return nil, fmt.Errorf("the demo operators: found %d of 3", len(ops))
	}
	var dept auth.Organization
	if err := db.Root().Where("code = ?", "DEPT").First(&dept).Error; err != nil {
		return nil, err
	}
	env.auditor = auth.Actor{OrgID: dept.ID, OrgCode: dept.Code, OrgKind: dept.Kind, Roles: []string{auth.RoleAuditor}}
	clock := infrashare.SystemClock{}
	audit, settings, units := auth.NewAudit(db, clock), auth.NewSettings(db, clock), registry.NewUnits(db, clock)
	env.svc = permits.New(db, clock, audit, settings, registry.NewService(db, clock, audit, settings, units), units)

	start := time.Now()
	if err := loadDeployments(ctx, env, ops); err != nil {
		return nil, err
	}
	if err := env.svc.RebuildMonthlyCounts(ctx); err != nil {
		return nil, err
	}
	env.buildTime = time.Since(start)
	if err := applyRatioTune(ctx, env); err != nil {
		return nil, err
	}
	return env, nil
}

// applyRatioTune applies the candidate fixes named in
// INFRASHARE_BENCH_TUNE (comma-separated, in order; the registry's names
// are skipped here) after the load, so that the same
// benchmarks measure what they would lift. None is in the migrations.
//
//	cover-index  an index on (on_air_on, unit_code, classification,
//	             operator_org_id): the report's GROUP BY reads the index alone
func applyRatioTune(ctx context.Context, env *ratioEnv) error {
	pg := env.db.IsPostgres()
	exec := func(qs ...string) error {
		for _, q := range qs {
			if _, err := env.db.SQL().ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	}
	analyze := "ANALYZE"
	if pg {
		analyze = "VACUUM ANALYZE bts_deployments"
	}
	var done []string
	for _, t := range strings.Split(os.Getenv("INFRASHARE_BENCH_TUNE"), ",") {
		var err error
		switch t = strings.TrimSpace(t); t {
		case "cover-index":
			err = exec("CREATE INDEX ix_bench_bts_cover ON bts_deployments (on_air_on, unit_code, classification, operator_org_id)", analyze)
		case "", "analyze", "line-index", "float8", "cells": // none, or the registry's own
			continue
		default:
			return fmt.Errorf("INFRASHARE_BENCH_TUNE: unknown %q (cover-index; analyze, line-index, float8, cells for the registry)", t)
		}
		if err != nil {
			return err
		}
		done = append(done, t)
	}
	env.tune = strings.Join(done, ",")
	return nil
}

const btsColumns = "operator_org_id, station_code, technologies, lat, lon, unit_code, on_air_on, mounted_on_asset_id, " +
	"classification, evidence, reclassified, created_at, updated_at"

// loadDeployments writes ratioBenchRows BTS records: 2021–2026, every
// district, the three demo operators, the classifications mixed with a
// share that grows over the years and differs by district. Multi-row
// INSERTs of ratioInsertRows rows in one transaction: literals on SQLite
// (its pure-Go driver binds parameters in time quadratic in their number),
// parameters on PostgreSQL. PostgreSQL then gathers statistics, as
// autovacuum would after such a load.
func loadDeployments(ctx context.Context, env *ratioEnv, ops []auth.Organization) error {
	rng := rand.New(rand.NewPCG(ratioBenchSeed, 1))
	techs := []string{"4G", "4G,5G", "2G,4G", "3G,4G", "5G", "2G,3G,4G"}
	now := time.Now().UTC().Truncate(time.Microsecond)
	pg := env.db.IsPostgres()
	cols := strings.Count(btsColumns, ",") + 1
	tx, err := env.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var buf bytes.Buffer
	for done := 0; done < ratioBenchRows; {
		buf.Reset()
		buf.WriteString("INSERT INTO bts_deployments (" + btsColumns + ") VALUES ")
		var args []any
		for j := 0; j < ratioInsertRows && done < ratioBenchRows; j++ {
			d := ratioDistricts[rng.IntN(len(ratioDistricts))]
			op := ops[rng.IntN(len(ops))]
			year := 2021 + rng.IntN(6)
			day := infrashare.Date{Year: year, Month: time.Month(1 + rng.IntN(12)), Day: 1 + rng.IntN(28)}
			shared := 0.22 + 0.045*float64(year-2021) + d.bias
			class, ev := permits.ClassNewStructure, map[string]any{"rule": "the structure came into service within 180 days before going on air", "window_days": 180}
			assetID := any(int64(1 + rng.IntN(900_000)))
			switch x := rng.Float64(); {
			case x < shared:
				class = permits.ClassShared
				ev = map[string]any{"rule": "a pre-existing structure of another organisation, used under an allocation", "window_days": 180,
					"asset":         map[string]any{"id": assetID, "code": fmt.Sprintf("CT-%s-%06d", d.code, rng.IntN(1e6)), "owner": "VNTOWER", "owner_group": "", "in_service_on": "2016-04-01"},
					"allocation_id": 1 + rng.IntN(500_000), "allocation": "existing HĐ-2020-" + strconv.Itoa(rng.IntN(999))}
			case x < shared+0.2:
				class = permits.ClassOwnExisting
				ev = map[string]any{"rule": "a pre-existing structure of the operator or its group", "window_days": 180,
					"asset": map[string]any{"id": assetID, "code": fmt.Sprintf("CT-%s-%06d", d.code, rng.IntN(1e6)), "owner": op.Code, "owner_group": "", "in_service_on": "2012-09-15"}}
			default:
				if rng.IntN(2) == 0 {
					assetID = nil // permitted for this deployment
					ev = map[string]any{"rule": "permitted for this deployment", "window_days": 180, "permit_number": fmt.Sprintf("UBND-%s-%d-%04d", d.code, year, rng.IntN(9999))}
				}
			}
			evJSON, _ := json.Marshal(ev)
			lat := math.Round((d.lat+rng.NormFloat64()*0.02)*1e6) / 1e6
			lon := math.Round((d.lon+rng.NormFloat64()*0.02)*1e6) / 1e6
			vals := []any{op.ID, fmt.Sprintf("BTS-%s-%07d", d.code, done), techs[rng.IntN(len(techs))], lat, lon, d.code, day.String(),
				assetID, class, string(evJSON), false, now, now}
			env.counts[class]++
			if pg {
				args = append(args, vals...)
				if j > 0 {
					buf.WriteString(",")
				}
				buf.WriteString("(")
				for k := range vals {
					if k > 0 {
						buf.WriteString(",")
					}
					buf.WriteString("$" + strconv.Itoa(j*cols+k+1))
				}
				buf.WriteString(")")
			} else {
				if j > 0 {
					buf.WriteString(",\n")
				}
				buf.WriteString("(")
				for k, v := range vals {
					if k > 0 {
						buf.WriteString(", ")
					}
					switch x := v.(type) {
					case nil:
						buf.WriteString("NULL")
					case string:
						buf.WriteString("'" + strings.ReplaceAll(x, "'", "''") + "'")
					case int64:
						buf.WriteString(strconv.FormatInt(x, 10))
					case float64:
						buf.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
					case bool:
						buf.WriteString(strconv.FormatBool(x))
					case time.Time:
						buf.WriteString("'" + x.Format("2006-01-02 15:04:05.999999-07:00") + "'")
					default:
						return fmt.Errorf("literal of %T", v)
					}
				}
				buf.WriteString(")")
			}
			done++
		}
		if _, err := tx.ExecContext(ctx, buf.String(), args...); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if pg {
		if _, err := env.db.SQL().ExecContext(ctx, "VACUUM ANALYZE bts_deployments"); err != nil {
			return err
		}
	}
	return nil
}

func (env *ratioEnv) logBuild(b *testing.B) {
	env.logged.Do(func() {
		b.Logf("%s: wrote %d BTS records (%v) in %s; tuned: %q — %s", env.dialect, ratioBenchRows, env.counts,
			env.buildTime.Round(time.Millisecond), env.tune, env.version)
	})
}

// ratioLatencies records each operation's duration and reports the median
// and the 99th percentile.
type ratioLatencies []time.Duration

func (l *ratioLatencies) time(fn func()) {
	t := time.Now()
	fn()
	*l = append(*l, time.Since(t))
}

func (l ratioLatencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	q := func(p float64) float64 {
		return float64(l[max(int(math.Ceil(p*float64(len(l))))-1, 0)].Nanoseconds())
	}
	b.ReportMetric(q(0.50)/1e6, "p50-ms")
	b.ReportMetric(q(0.99)/1e6, "p99-ms")
}

// BenchmarkSharingRatio200k times the department's sharing-ratio report by
// unit for 2021–2026 over 200,000 BTS records (service), and the GROUP BY
// that the report runs, sent bare (bare-sql).
func BenchmarkSharingRatio200k(b *testing.B) {
	from, to := infrashare.MustDate("2021-01-01"), infrashare.MustDate("2026-12-31")
	for _, dialect := range ratioDialects() {
		b.Run(dialect, func(b *testing.B) {
			env := ratioEnvFor(b, dialect)
			b.Run("service", func(b *testing.B) {
				env.logBuild(b)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
				defer cancel()
				var lat ratioLatencies
				rows := 0
				queries := env.queries.n.Load()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					lat.time(func() {
						rep, err := env.svc.SharingRatio(ctx, env.auditor, permits.RatioQuery{From: from, To: to, GroupBy: "unit"})
						if err != nil {
							b.Fatal(err)
						}
						if rep.Totals.Total != ratioBenchRows {
							b.Fatalf("the report counts %d records, want %d", rep.Totals.Total, ratioBenchRows)
						}
						rows = len(rep.Rows)
					})
				}
				b.StopTimer()
				lat.report(b)
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64(env.queries.n.Load()-queries)/float64(b.N), "queries/op")
			})
			// records-sql: what the report grouped before the monthly counts.
			b.Run("records-sql", func(b *testing.B) {
				env.logBuild(b)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
				defer cancel()
				q := "SELECT substr(CAST(on_air_on AS TEXT), 1, 4) AS year, unit_code AS grp, classification, count(*) AS n " +
					"FROM bts_deployments WHERE on_air_on >= ? AND on_air_on <= ? GROUP BY 1, 2, 3"
				if env.db.IsPostgres() {
					q = strings.Replace(strings.Replace(q, "?", "$1", 1), "?", "$2", 1)
				}
				var lat ratioLatencies
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					lat.time(func() {
						rows, err := env.db.SQL().QueryContext(ctx, q, from.String(), to.String())
						if err != nil {
							b.Fatal(err)
						}
						n := 0
						for rows.Next() {
							var year, grp, class string
							var count int
							if err := rows.Scan(&year, &grp, &class, &count); err != nil {
								b.Fatal(err)
							}
							n += count
						}
						rows.Close()
						if n != ratioBenchRows {
							b.Fatalf("counted %d records, want %d", n, ratioBenchRows)
						}
					})
				}
				b.StopTimer()
				lat.report(b)
			})
			// bare-sql: the report's own statement on the monthly counts.
			b.Run("bare-sql", func(b *testing.B) {
				env.logBuild(b)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
				defer cancel()
				q := "SELECT year, unit_code, classification, sum(n) FROM bts_monthly_counts WHERE year >= 2021 AND year <= 2026 " +
					"AND year * 100 + month >= 202101 AND year * 100 + month <= 202612 GROUP BY 1, 2, 3"
				var lat ratioLatencies
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					lat.time(func() {
						rows, err := env.db.SQL().QueryContext(ctx, q)
						if err != nil {
							b.Fatal(err)
						}
						n := 0
						for rows.Next() {
							var year, count int
							var grp, class string
							if err := rows.Scan(&year, &grp, &class, &count); err != nil {
								b.Fatal(err)
							}
							n += count
						}
						rows.Close()
						if n != ratioBenchRows {
							b.Fatalf("counted %d records, want %d", n, ratioBenchRows)
						}
					})
				}
				b.StopTimer()
				lat.report(b)
			})
		})
	}
}
