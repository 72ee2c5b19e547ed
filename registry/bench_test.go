package registry_test

// Benchmarks of the register at national scale (issue 4 point 11, DESIGN §8):
// nearby search, a list page and a CSV import over a register of
// INFRASHARE_BENCH_ASSETS assets (default 1,000,000), on SQLite and, when
// INFRASHARE_TEST_POSTGRES_URL is set, on PostgreSQL. Figures and the
// commands that produced them are in docs/performance.md.
//
// The data set is written straight into the assets table with multi-row
// INSERTs, built once per test binary and dialect, and shared by every
// benchmark of the run: the database stays open until the process ends. A
// later run removes what an earlier run left behind (its SQLite folder under
// the temp dir, its PostgreSQL database, both marked with the process id).

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that sweeps old bench databases
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/gen"
	"infrashare/migrations"
	"infrashare/registry"
)

// ---- The data set ----

// benchCity is a city the register's assets cluster around: its centre,
// its GSO province code, and its weight (a rough share of the country's
// infrastructure).
type benchCity struct {
	name     string
	province string
	lat, lon float64
	weight   float64
}

// benchCities are the ~60 Vietnamese city centres of gen.Cities, with the
// GSO codes of their provinces as they were before the 2025 mergers.
var benchCities = func() []benchCity {
	out := make([]benchCity, len(gen.Cities))
	for i, c := range gen.Cities {
		out[i] = benchCity{c.Name, c.Province, c.Lat, c.Lon, c.Weight}
	}
	return out
}()

// canThoDistricts are Can Tho's nine pre-2025 districts (the units the
// migrations seed) with a point near each centre.
var canThoDistricts = []struct {
	code     string
	name     string
	lat, lon float64
}{
	{"916", "Ninh Kiều", 10.0310, 105.7680}, {"917", "Ô Môn", 10.1180, 105.6270},
	{"918", "Bình Thủy", 10.0710, 105.7430}, {"919", "Cái Răng", 9.9990, 105.7780},
	{"923", "Thốt Nốt", 10.2670, 105.5300}, {"924", "Vĩnh Thạnh", 10.2000, 105.4000},
	{"925", "Cờ Đỏ", 10.0980, 105.4300}, {"926", "Phong Điền", 9.9980, 105.6700},
	{"927", "Thới Lai", 10.0650, 105.5600},
}

// Density and mix of the data set. A city's assets are a dense core (a
// Gaussian whose peak density is benchCoreDensity assets per km², the same
// in every city, so that a 500 m circle in a city centre holds about 40
// assets) and a suburban ring three times as wide; the rest is a rural
// spread around the cities.
const (
	benchSeed          = 20260302
	benchCoreDensity   = 46.0 // assets per km² at a city's centre, from the core alone
	benchCoreShare     = 0.60 // of a city's assets
	benchRuralShare    = 0.12 // of all assets
	benchRuralSigmaKm  = 25.0
	benchLineShare     = 0.10 // duct segments
	benchDefaultAssets = 1_000_000
	benchInsertRows    = 1000    // rows per multi-row INSERT
	benchTxRows        = 100_000 // rows per transaction
	kmPerDegLat        = 111.32
)

// benchOperators own the data set: the demo operators (from
// SeedDemoAccounts) and four more created here.
var benchExtraOperators = []struct{ code, name string }{
	{"VNMOBILE", "Vietnamobile"},
	{"FPT", "FPT Telecom"},
	{"SCTV", "SCTV"},
	{"VNTOWER", "Vietnam Tower JSC"},
	{"EVN", "Tổng công ty Điện lực"},
}

// benchEnv is one dialect's database with the data set, shared by every
// benchmark of the run.
type benchEnv struct {
	dialect string
	db      *database.DB
	reg     *registry.Service
	actors  map[string]auth.Actor
	orgs    map[string]int64
	// counts of the data set, by kind, and the restricted ones.
	total      int
	byKind     map[string]int
	restricted int
	buildTime  time.Duration
	phases     string // where the build time went
	capture    *captureLogger
	rec        *stmtRecorder
	version    string
	logged     sync.Once
	tune       string // INFRASHARE_BENCH_TUNE as applied
	cells      bool
}

// logBuild logs, once per run, how the data set was built: in the first
// benchmark that prints (a parent of sub-benchmarks prints nothing).
func (env *benchEnv) logBuild(b *testing.B) {
	env.logged.Do(func() {
		b.Logf("%s: wrote %d assets (%v, %d restricted) in %s (%s), %.0f rows/s; tuned: %q — %s",
			env.dialect, env.total, env.byKind, env.restricted, env.buildTime.Round(time.Millisecond), env.phases,
			float64(env.total)/env.buildTime.Seconds(), env.tune, env.version)
	})
}

var (
	benchMu   sync.Mutex
	benchEnvs = map[string]*benchEnv{}
	benchErrs = map[string]error{}
)

// benchAssets is the size of the data set: INFRASHARE_BENCH_ASSETS.
func benchAssets(b *testing.B) int {
	n := benchDefaultAssets
	if v := os.Getenv("INFRASHARE_BENCH_ASSETS"); v != "" {
		var err error
		if n, err = strconv.Atoi(strings.ReplaceAll(v, "_", "")); err != nil || n < 1000 {
			b.Fatalf("INFRASHARE_BENCH_ASSETS=%q: want a number of assets, at least 1000", v)
		}
	}
	return n
}

// benchDialects are the databases the benchmarks run on.
func benchDialects() []string {
	if os.Getenv(dbtest.EnvPostgresURL) != "" {
		return []string{database.SQLite, database.Postgres}
	}
	return []string{database.SQLite}
}

// eachDialect runs fn as sub-benchmarks sqlite and postgres, each on the
// shared data set of its database.
func eachDialect(b *testing.B, fn func(b *testing.B, env *benchEnv)) {
	// The collector set as the infrashare binary sets it (cmd/infrashare).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	for _, d := range benchDialects() {
		b.Run(d, func(b *testing.B) {
			env := envFor(b, d)
			fn(b, env)
		})
	}
}

// envFor returns the dialect's shared data set, building it on first use.
func envFor(b *testing.B, dialect string) *benchEnv {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if err := benchErrs[dialect]; err != nil {
		b.Fatalf("the %s data set could not be built: %v", dialect, err)
	}
	if env := benchEnvs[dialect]; env != nil {
		return env
	}
	env, err := buildEnv(b, dialect, benchAssets(b))
	if err != nil {
		benchErrs[dialect] = err
		b.Fatalf("build the %s data set: %v", dialect, err)
	}
	benchEnvs[dialect] = env
	return env
}

// keepTB lends dbtest a testing.TB whose cleanups never run, so that the
// database it makes outlives the benchmark that first asked for it, and
// whose temp dir is ours (named with the process id, for the next run's
// sweep).
type keepTB struct {
	testing.TB
	dir string
}

func (k keepTB) Cleanup(func())  {}
func (k keepTB) TempDir() string { return k.dir }

const benchDirPrefix = "infrashare-bench-"

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || strings.Contains(err.Error(), "not permitted") || strings.Contains(err.Error(), "not supported")
}

// sweepOldRuns removes the data sets of earlier runs whose process has
// ended: SQLite folders in the temp dir, PostgreSQL databases marked with
// this host and a pid. A database still in use refuses DROP DATABASE and
// stays.
func sweepOldRuns(b *testing.B, dialect string) {
	if dialect == database.SQLite {
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), benchDirPrefix+"*"))
		for _, d := range dirs {
			rest := strings.TrimPrefix(filepath.Base(d), benchDirPrefix)
			pidStr, _, _ := strings.Cut(rest, "-")
			if pid, err := strconv.Atoi(pidStr); err == nil && pid != os.Getpid() && !processAlive(pid) {
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
		if _, err := fmt.Sscanf(comment, "infrashare-bench pid=%d host=%s", &pid, &h); err == nil && h == host && !processAlive(pid) {
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

// captureLogger is GORM's logger for the bench databases: silent, except
// that it records the next statement's SQL when asked to.
type captureLogger struct {
	mu   sync.Mutex
	on   bool
	last []string
	n    atomic.Int64 // statements sent
}

func (c *captureLogger) LogMode(logger.LogLevel) logger.Interface { return c }
func (c *captureLogger) Info(context.Context, string, ...any)     {}
func (c *captureLogger) Warn(context.Context, string, ...any)     {}
func (c *captureLogger) Error(context.Context, string, ...any)    {}
func (c *captureLogger) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	c.n.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		s, _ := fc()
		c.last = append(c.last, s)
	}
}

// statements runs fn and returns the SQL it sent, values inlined.
func (c *captureLogger) statements(fn func()) []string {
	c.mu.Lock()
	c.on, c.last = true, nil
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return c.last
}

// stmt is one statement the service sent, as GORM sent it: the SQL with
// its placeholders, and the values.
type stmt struct {
	sql  string
	vars []any
}

// stmtRecorder keeps the statements on the assets table that the service
// sends while it is on (a GORM callback after each query).
type stmtRecorder struct {
	mu  sync.Mutex
	on  bool
	got []stmt
}

func (r *stmtRecorder) callback(tx *gorm.DB) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on && tx.Statement != nil && tx.Statement.Table == "assets" {
		r.got = append(r.got, stmt{sql: tx.Statement.SQL.String(), vars: append([]any(nil), tx.Statement.Vars...)})
	}
}

// record runs fn and returns the statements on assets it sent.
func (r *stmtRecorder) record(fn func() error) ([]stmt, error) {
	r.mu.Lock()
	r.on, r.got = true, nil
	r.mu.Unlock()
	err := fn()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.got, err
}

// benchDatabaseURL is the URL of a fresh migrated database of the dialect that
// outlives the benchmark. On PostgreSQL dbtest's copy is renamed from
// infrashare_t_… to infrashare_bench_…: .ci/run drops every infrashare_t_…
// database WITH (FORCE) when it starts, which would kill a benchmark running
// beside it.
func benchDatabaseURL(b *testing.B, dialect, dir string) (string, error) {
	u := dbtest.URL(keepTB{TB: b, dir: dir}, dialect)
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

// openBenchDB opens a migrated database of the dialect that lives as long
// as the process.
func openBenchDB(b *testing.B, dialect string, capture *captureLogger) (*database.DB, error) {
	sweepOldRuns(b, dialect)
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", benchDirPrefix, os.Getpid()))
	if err != nil {
		return nil, err
	}
	u, err := benchDatabaseURL(b, dialect, dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := database.Open(ctx, u, database.Options{Logger: capture})
	if err != nil {
		return nil, err
	}
	if dialect == database.Postgres {
		pu, _ := url.Parse(u)
		host, _ := os.Hostname()
		name := strings.TrimPrefix(pu.Path, "/")
		if err := db.Root().Exec(fmt.Sprintf(`COMMENT ON DATABASE "%s" IS 'infrashare-bench pid=%d host=%s'`, name, os.Getpid(), host)).Error; err != nil {
			return nil, err
		}
	}
	return db, nil
}

func dbVersion(db *database.DB) string {
	var v string
	if db.IsPostgres() {
		db.Root().Raw("SELECT version()").Scan(&v)
	} else {
		db.Root().Raw("SELECT 'SQLite ' || sqlite_version()").Scan(&v)
	}
	return v
}

func buildEnv(b *testing.B, dialect string, n int) (*benchEnv, error) {
	capture := &captureLogger{}
	db, err := openBenchDB(b, dialect, capture)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if _, err := migrations.SeedDemoAccounts(ctx, db, "bench-password-1"); err != nil {
		return nil, err
	}
	env := &benchEnv{dialect: dialect, db: db, capture: capture, rec: &stmtRecorder{}, actors: map[string]auth.Actor{}, orgs: map[string]int64{},
		byKind: map[string]int{}, version: dbVersion(db)}
	// Searches scan by position through Rows (the row callbacks), other
	// reads through Find (the query callbacks).
	if err := db.Root().Callback().Query().After("gorm:query").Register("bench:record", env.rec.callback); err != nil {
		return nil, err
	}
	if err := db.Root().Callback().Row().After("gorm:row").Register("bench:record", env.rec.callback); err != nil {
		return nil, err
	}
	for _, o := range benchExtraOperators {
		org := auth.Organization{Code: o.code, Name: o.name, Kind: auth.KindOperator}
		if err := db.Root().Create(&org).Error; err != nil {
			return nil, err
		}
	}
	var orgs []auth.Organization
	if err := db.Root().Where("kind = ?", auth.KindOperator).Order("id").Find(&orgs).Error; err != nil {
		return nil, err
	}
	for _, o := range orgs {
		env.orgs[o.Code] = o.ID
	}
	for name, c := range map[string]struct{ org, role string }{
		"viettel": {"VIETTEL", auth.RoleOperator}, "vnpt": {"VNPT", auth.RoleOperator}, "auditor": {"DEPT", auth.RoleAuditor},
	} {
		var o auth.Organization
		if err := db.Root().Where("code = ?", c.org).First(&o).Error; err != nil {
			return nil, err
		}
		var uid []int64
		db.Root().Table("users").Where("org_id = ?", o.ID).Limit(1).Pluck("id", &uid)
		a := auth.Actor{OrgID: o.ID, OrgCode: o.Code, OrgKind: o.Kind, Roles: []string{c.role}}
		if len(uid) == 1 {
			a.UserID = uid[0]
		}
		env.actors[name] = a
	}
	clock := infrashare.SystemClock{}
	env.reg = registry.NewService(db, clock, auth.NewAudit(db, clock), auth.NewSettings(db, clock), registry.NewUnits(db, clock))

	start := time.Now()
	if err := loadAssets(ctx, env, n); err != nil {
		return nil, err
	}
	env.buildTime = time.Since(start)
	if err := applyTune(ctx, env); err != nil {
		return nil, err
	}
	return env, nil
}

// applyTune applies the candidate fixes named in INFRASHARE_BENCH_TUNE
// (comma-separated, in order) to the bench database after the load, so
// that the same benchmarks measure what they would lift. None of them is
// in the migrations; docs/performance.md reports what each one does.
//
//	analyze     SQLite: ANALYZE (statistics for the planner; PostgreSQL has them)
//	line-index  ix_assets_line on (min_lat, min_lon, max_lat, max_lon): a line's
//	            whole box is checked in the index, before the row is read
//	float8      PostgreSQL: the coordinate columns as double precision (GORM
//	            made numeric of float64 before commit 930a319; a no-op since)
//	cells       lat_cell = floor(lat·100) and line_cell = floor(min_lat·20)
//	            (lines searched as if they spanned up to 0.05°)
//	            with indexes (lat_cell, lon) and (line_cell, min_lon, max_lon,
//	            min_lat, max_lat), for the cell-sql sub-benchmark of
//	            BenchmarkNearby500m
func applyTune(ctx context.Context, env *benchEnv) error {
	pg := env.db.IsPostgres()
	exec := func(qs ...string) error {
		for _, q := range qs {
			if _, err := env.db.SQL().ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	}
	analyze := func() error {
		if pg {
			return exec("VACUUM ANALYZE assets")
		}
		return exec("ANALYZE")
	}
	var done []string
	for _, t := range strings.Split(os.Getenv("INFRASHARE_BENCH_TUNE"), ",") {
		var err error
		switch t = strings.TrimSpace(t); t {
		case "", "cover-index", "summary": // none, or permits' own
			continue
		case "analyze":
			err = analyze()
		case "line-index":
			if err = exec("DROP INDEX ix_assets_line",
				"CREATE INDEX ix_assets_line ON assets (min_lat, min_lon, max_lat, max_lon) WHERE lat IS NULL"); err == nil && pg {
				err = analyze()
			}
		case "float8":
			if !pg {
				continue
			}
			var alter []string
			for _, c := range []string{"lat", "lon", "coarse_lat", "coarse_lon", "min_lat", "min_lon", "max_lat", "max_lon", "height_m", "diameter_mm", "length_m"} {
				alter = append(alter, "ALTER COLUMN "+c+" TYPE double precision")
			}
			if err = exec("ALTER TABLE assets " + strings.Join(alter, ", ")); err == nil {
				err = analyze()
			}
		case "cells":
			cell, line := "CAST(lat*100 AS integer)", "CAST(min_lat*20 AS integer)" // SQLite: lat > 0, so truncation is floor
			if pg {
				cell, line = "floor(lat*100)::integer", "floor(min_lat*20)::integer"
			}
			if err = exec("ALTER TABLE assets ADD COLUMN lat_cell integer", "ALTER TABLE assets ADD COLUMN line_cell integer",
				"UPDATE assets SET lat_cell = "+cell+" WHERE lat IS NOT NULL", "UPDATE assets SET line_cell = "+line+" WHERE lat IS NULL",
				"CREATE INDEX ix_bench_cell ON assets (lat_cell, lon)",
				"CREATE INDEX ix_bench_line_cell ON assets (line_cell, min_lon, max_lon, min_lat, max_lat) WHERE lat IS NULL"); err == nil {
				env.cells = true
				if pg {
					err = analyze()
				}
			}
		default:
			return fmt.Errorf("INFRASHARE_BENCH_TUNE: unknown %q (analyze, line-index, float8, cells; cover-index, summary for permits)", t)
		}
		if err != nil {
			return err
		}
		done = append(done, t)
	}
	env.tune = strings.Join(done, ",")
	// Pooled connections drop their cached statements.
	env.db.SQL().SetMaxIdleConns(0)
	env.db.SQL().SetMaxIdleConns(20)
	return nil
}

// genAsset is one generated row.
type genAsset struct {
	owner                  int64
	code, kind, status     string
	geometry               string
	lat, lon               float64 // points only
	minLat, minLon         float64
	maxLat, maxLon         float64
	unit                   string
	address                string
	searchAddress          string
	inService              string // "" = NULL
	height                 float64
	class, structure       string
	tubes                  int
	diameter               float64
	length                 float64
	restricted             bool
	rent                   int64
	contact                string
	capUnit                string
	capTotal, reserved, ac int
}

var (
	benchStreets = []string{"Trần Phú", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Điện Biên Phủ",
		"Nguyễn Trãi", "Hùng Vương", "Trần Hưng Đạo", "Quang Trung", "Lê Duẩn", "Võ Văn Kiệt", "Nguyễn Văn Cừ",
		"Cách Mạng Tháng Tám", "Phạm Văn Đồng", "30 Tháng 4", "3 Tháng 2", "Mậu Thân", "Nguyễn Văn Linh", "Lê Hồng Phong"}
	towerStructures = []string{"cột tự đứng", "cột dây co", "cột monopole", "cột trên mái nhà"}
	poleStructures  = []string{"cột bê tông ly tâm", "cột thép", "cột điện lực dùng chung"}
	towerClasses    = []string{"A2a", "A2b", "A2c", "A2d", "A1c", "A1d"}
	poleClasses     = []string{"A1a", "A1b", "A1c"}
	// kinds of the point assets, with their shares of all assets (90 %).
	pointMix = []struct {
		kind  string
		share float64
	}{{"tower", 0.12}, {"pole", 0.40}, {"manhole", 0.23}, {"cabinet", 0.15}}
	ownersByKind = map[string][]string{
		"tower":   {"VIETTEL", "VIETTEL", "VNPT", "VNPT", "MOBIFONE", "MOBIFONE", "VNTOWER", "VNMOBILE"},
		"pole":    {"EVN", "EVN", "EVN", "VNPT", "VIETTEL", "FPT", "SCTV"},
		"manhole": {"VNPT", "VIETTEL", "FPT", "SCTV", "MOBIFONE"},
		"cabinet": {"VNPT", "VIETTEL", "FPT", "SCTV", "MOBIFONE"},
		"duct":    {"VNPT", "VNPT", "VIETTEL", "VIETTEL", "FPT", "SCTV", "MOBIFONE"},
	}
	kindPrefix = map[string]string{"tower": "T", "pole": "P", "manhole": "M", "cabinet": "C", "duct": "D"}
)

// assetGen draws the data set: deterministic for a given size.
type assetGen struct {
	rng        *rand.Rand
	n          int
	cum        []float64 // cumulative city weights
	sigmaCore  []float64 // km
	totalW     float64
	orgs       map[string]int64
	canThoUnit []string
}

func newAssetGen(n int, orgs map[string]int64) *assetGen {
	g := &assetGen{rng: rand.New(rand.NewPCG(benchSeed, uint64(n))), n: n, orgs: orgs}
	for _, c := range benchCities {
		g.totalW += c.weight
		g.cum = append(g.cum, g.totalW)
	}
	urban := float64(n) * (1 - benchRuralShare)
	for _, c := range benchCities {
		nc := urban * c.weight / g.totalW
		g.sigmaCore = append(g.sigmaCore, math.Sqrt(benchCoreShare*nc/(2*math.Pi*benchCoreDensity)))
	}
	return g
}

func (g *assetGen) city() int {
	x := g.rng.Float64() * g.totalW
	return sort.SearchFloat64s(g.cum, x)
}

// offset moves (lat, lon) by a Gaussian of sigma km.
func offset(rng *rand.Rand, lat, lon, sigmaKm float64) (float64, float64) {
	dy, dx := rng.NormFloat64()*sigmaKm, rng.NormFloat64()*sigmaKm
	lat += dy / kmPerDegLat
	lon += dx / (kmPerDegLat * math.Cos(lat*math.Pi/180))
	return lat, lon
}

// position draws where an asset stands, and the city it belongs to.
func (g *assetGen) position() (float64, float64, int) {
	for {
		ci := g.city()
		c := benchCities[ci]
		var lat, lon float64
		switch r := g.rng.Float64(); {
		case r < benchRuralShare:
			lat, lon = offset(g.rng, c.lat, c.lon, benchRuralSigmaKm)
		case r < benchRuralShare+(1-benchRuralShare)*benchCoreShare:
			lat, lon = offset(g.rng, c.lat, c.lon, g.sigmaCore[ci])
		default:
			lat, lon = offset(g.rng, c.lat, c.lon, 3*g.sigmaCore[ci])
		}
		if registry.DefaultServiceArea.MinLat+0.01 < lat && lat < registry.DefaultServiceArea.MaxLat-0.01 &&
			registry.DefaultServiceArea.MinLon+0.01 < lon && lon < registry.DefaultServiceArea.MaxLon-0.01 {
			return round6(lat), round6(lon), ci
		}
	}
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func (g *assetGen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *assetGen) unitFor(ci int, lat, lon float64) string {
	c := benchCities[ci]
	if c.province != "92" {
		return c.province
	}
	best, bd := "92", math.Inf(1)
	for _, d := range canThoDistricts {
		if dd := math.Hypot(d.lat-lat, d.lon-lon); dd < bd {
			best, bd = d.code, dd
		}
	}
	return best
}

func (g *assetGen) next(i int) genAsset {
	r := g.rng
	lat, lon, ci := g.position()
	c := benchCities[ci]
	a := genAsset{status: "in_service", unit: g.unitFor(ci, lat, lon)}
	switch x := r.Float64(); {
	case x < 0.04:
		a.status = "planned"
	case x < 0.07:
		a.status = "under_construction"
	case x < 0.12:
		a.status = "decommissioned"
	}
	if a.status != "planned" {
		a.inService = fmt.Sprintf("%04d-%02d-%02d", 2005+r.IntN(21), 1+r.IntN(12), 1+r.IntN(28))
	}
	// Fold works rune by rune, so the folded address is the folded parts.
	no, street := strconv.Itoa(1+r.IntN(300)), g.pick(benchStreets)
	a.address = "Số " + no + " " + street + ", " + c.name
	a.searchAddress = "so " + no + " " + foldOnce(street) + ", " + foldOnce(c.name)
	k := r.Float64()
	if k < benchLineShare {
		a.kind = "duct"
		// A duct segment between two manholes: 30–300 m, two to four
		// vertices, along a street with bends.
		length := 30 + r.Float64()*270
		nv := 2 + r.IntN(3)
		bearing := r.Float64() * 2 * math.Pi
		ls := orb.LineString{{lon, lat}}
		step := length / float64(nv-1)
		for v := 1; v < nv; v++ {
			bearing += (r.Float64() - 0.5) * 0.6
			p := ls[len(ls)-1]
			dLat := step * math.Cos(bearing) / (kmPerDegLat * 1000)
			dLon := step * math.Sin(bearing) / (kmPerDegLat * 1000 * math.Cos(p[1]*math.Pi/180))
			ls = append(ls, orb.Point{round6(p[0] + dLon), round6(p[1] + dLat)})
		}
		bd := ls.Bound()
		a.minLat, a.minLon, a.maxLat, a.maxLon = bd.Min[1], bd.Min[0], bd.Max[1], bd.Max[0]
		a.length = math.Round(geo.Length(ls)*10) / 10
		a.geometry = lineJSON(ls)
		a.tubes = []int{2, 4, 4, 6, 6, 8, 12}[r.IntN(7)]
		a.diameter = []float64{90, 110, 110, 160}[r.IntN(4)]
		a.capUnit, a.capTotal = "tube", a.tubes
		a.rent = int64(50_000 + 10_000*r.IntN(16)) // VND per metre per year
		a.contact = "Trung tâm hạ tầng ngầm — 1900 " + strconv.Itoa(1000+r.IntN(9000))
	} else {
		x := (k - benchLineShare) / (1 - benchLineShare) * 0.90
		a.kind = pointMix[len(pointMix)-1].kind
		acc := 0.0
		for _, m := range pointMix {
			acc += m.share
			if x < acc {
				a.kind = m.kind
				break
			}
		}
		a.lat, a.lon = lat, lon
		a.minLat, a.minLon, a.maxLat, a.maxLon = lat, lon, lat, lon
		a.geometry = pointJSON(lon, lat)
		switch a.kind {
		case "tower":
			a.height = float64(18 + r.IntN(43))
			a.class, a.structure = g.pick(towerClasses), g.pick(towerStructures)
			a.capUnit, a.capTotal = "tenant_slot", 2+r.IntN(3)
			a.rent = int64(30+r.IntN(91)) * 1_000_000
			a.restricted = r.Float64() < 0.06
		case "pole":
			a.height = float64(8 + r.IntN(11))
			a.class, a.structure = g.pick(poleClasses), g.pick(poleStructures)
			a.capUnit, a.capTotal = "tenant_slot", 2
			a.rent = int64(1+r.IntN(5)) * 1_000_000
		case "manhole":
			a.capUnit, a.capTotal = "cable_slot", 4
		case "cabinet":
			a.capUnit, a.capTotal = "cable_slot", 2
			a.restricted = r.Float64() < 0.02
		}
		if a.status == "in_service" {
			a.ac = r.IntN(a.capTotal + 1)
			if a.ac < a.capTotal && r.Float64() < 0.1 {
				a.reserved = 1
			}
		}
		a.contact = "Phòng kỹ thuật — 0" + strconv.Itoa(200+r.IntN(100)) + " " + strconv.Itoa(1000000+r.IntN(9000000))
	}
	ownerCode := g.pick(ownersByKind[a.kind])
	a.owner = g.orgs[ownerCode]
	a.code = fmt.Sprintf("%s-%s%s-%07d", ownerCode, c.province, kindPrefix[a.kind], i)
	return a
}

var (
	foldMu   sync.Mutex
	foldMemo = map[string]string{}
)

// foldOnce is infrashare.Fold, remembered: the data set folds the same
// street and city names again and again.
func foldOnce(s string) string {
	foldMu.Lock()
	defer foldMu.Unlock()
	f, ok := foldMemo[s]
	if !ok {
		f = infrashare.Fold(s)
		foldMemo[s] = f
	}
	return f
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func pointJSON(lon, lat float64) string {
	return `{"type":"Point","coordinates":[` + fmtF(lon) + `,` + fmtF(lat) + `]}`
}

func lineJSON(ls orb.LineString) string {
	var sb strings.Builder
	sb.WriteString(`{"type":"LineString","coordinates":[`)
	for i, p := range ls {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`[` + fmtF(p[0]) + `,` + fmtF(p[1]) + `]`)
	}
	sb.WriteString(`]}`)
	return sb.String()
}

// sqlString is s as an SQL string literal (both databases, standard
// conforming strings).
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

const assetColumns = "owner_id, code, kind, status, geometry, lat, lon, coarse_lat, coarse_lon, min_lat, min_lon, max_lat, max_lon, " +
	"unit_code, search_code, search_address, address, in_service_on, height_m, class, structure, tubes, diameter_mm, length_m, " +
	"restricted, rent_vnd, contact, capacity_unit, capacity_total, reserved_units, active_units, version, created_at, updated_at"

// rowValues are one row's values, in assetColumns order, as the register
// would have stored them (nil for NULL).
func rowValues(a genAsset, now time.Time) []any {
	isPoint := a.kind != "duct"
	coarse := func(v float64) float64 { return math.Round(v*100) / 100 }
	var lat, lon, clat, clon, inService, height, tubes, diameter, length, rent any
	if isPoint {
		lat, lon, clat, clon = a.lat, a.lon, coarse(a.lat), coarse(a.lon)
	} else {
		tubes, diameter, length = a.tubes, a.diameter, a.length
	}
	if a.inService != "" {
		inService = a.inService
	}
	if a.height > 0 {
		height = a.height
	}
	if a.rent > 0 {
		rent = a.rent
	}
	return []any{a.owner, a.code, a.kind, a.status, a.geometry, lat, lon, clat, clon, a.minLat, a.minLon, a.maxLat, a.maxLon,
		a.unit, strings.ToLower(a.code), a.searchAddress, a.address, inService, height, a.class, a.structure, tubes, diameter, length,
		a.restricted, rent, a.contact, a.capUnit, a.capTotal, a.reserved, a.ac, 1, now, now}
}

// appendLiteral writes v as an SQL literal as SQLite stores it (the
// driver writes instants as text).
func appendLiteral(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		buf.WriteString("NULL")
	case string:
		buf.WriteString(sqlString(x))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case float64:
		buf.WriteString(fmtF(x))
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case time.Time:
		buf.WriteString(sqlString(x.Format("2006-01-02 15:04:05.999999-07:00")))
	default:
		panic(fmt.Sprintf("literal of %T", v))
	}
}

// insertSQL is a multi-row INSERT of rows rows with numbered parameters.
func insertSQL(rows int) string {
	cols := strings.Count(assetColumns, ",") + 1
	var sb strings.Builder
	sb.WriteString("INSERT INTO assets (" + assetColumns + ") VALUES ")
	k := 0
	for r := 0; r < rows; r++ {
		if r > 0 {
			sb.WriteString(",")
		}
		sb.WriteString("(")
		for c := 0; c < cols; c++ {
			if c > 0 {
				sb.WriteString(",")
			}
			k++
			sb.WriteString("$" + strconv.Itoa(k))
		}
		sb.WriteString(")")
	}
	return sb.String()
}

// loadAssets writes n generated assets in multi-row INSERTs of
// benchInsertRows rows, benchTxRows rows per transaction, generating the next statement while the database runs the
// last one. The secondary indexes of the table are dropped for the load
// and created again from their own definitions afterwards (a bulk load's
// usual trick; the schema ends as the migrations made it, which is
// checked); then PostgreSQL gathers statistics as autovacuum would after
// such a load. SQLite is left without ANALYZE, as the product leaves it.
func loadAssets(ctx context.Context, env *benchEnv, n int) error {
	g := newAssetGen(n, env.orgs)
	// The register writes GeoJSON through orb, and folds with
	// infrashare.Fold: check that ours is the same text.
	if p, _ := geojson.NewGeometry(orb.Point{105.854213, 21.028511}).MarshalJSON(); string(p) != pointJSON(105.854213, 21.028511) {
		return fmt.Errorf("point GeoJSON differs from the register's: %s", p)
	}
	if a := newAssetGen(n, env.orgs).next(0); infrashare.Fold(a.address) != a.searchAddress || infrashare.Fold(a.code) != strings.ToLower(a.code) {
		return fmt.Errorf("folded keys differ from infrashare.Fold: %q, %q", a.searchAddress, a.code)
	}
	conn := env.db.SQL()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if !env.db.IsPostgres() {
		// A bigger page cache while loading only; the size the service
		// runs with (database.Open) comes back before the benchmarks run.
		restore, err := database.RaiseSQLiteCache(ctx, conn, -262144)
		if err != nil {
			return err
		}
		defer restore()
	}
	indexes, err := assetIndexes(ctx, env)
	if err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := conn.ExecContext(ctx, "DROP INDEX "+ix.name); err != nil {
			return err
		}
	}

	// The generator runs ahead of the database by a few statements. On
	// SQLite the values are literals in the text (its pure-Go driver binds
	// parameters in time quadratic in their number); on PostgreSQL they are
	// parameters of one statement text, which pgx prepares once.
	type batch struct {
		sql        string
		args       []any
		rows       int
		byKind     map[string]int
		restricted int
	}
	stmts := make(chan batch, 4)
	genCtx, stop := context.WithCancel(ctx)
	defer stop()
	pg := env.db.IsPostgres()
	fullBatch := insertSQL(benchInsertRows)
	go func() {
		defer close(stmts)
		var buf bytes.Buffer
		for done := 0; done < n; {
			buf.Reset()
			bt := batch{byKind: map[string]int{}}
			buf.WriteString("INSERT INTO assets (" + assetColumns + ") VALUES ")
			for j := 0; j < benchInsertRows && done < n; j++ {
				a := g.next(done)
				vals := rowValues(a, now)
				if pg {
					bt.args = append(bt.args, vals...)
				} else {
					if j > 0 {
						buf.WriteString(",\n")
					}
					buf.WriteByte('(')
					for k, v := range vals {
						if k > 0 {
							buf.WriteString(", ")
						}
						appendLiteral(&buf, v)
					}
					buf.WriteByte(')')
				}
				bt.byKind[a.kind]++
				if a.restricted {
					bt.restricted++
				}
				bt.rows++
				done++
			}
			switch {
			case !pg:
				bt.sql = buf.String()
			case bt.rows == benchInsertRows:
				bt.sql = fullBatch
			default:
				bt.sql = insertSQL(bt.rows)
			}
			select {
			case stmts <- bt:
			case <-genCtx.Done():
				return
			}
		}
	}()
	var tx *sql.Tx
	inTx := 0
	t0 := time.Now()
	for bt := range stmts {
		if tx == nil {
			if tx, err = conn.BeginTx(ctx, nil); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, bt.sql, bt.args...); err != nil {
			_ = tx.Rollback()
			return err
		}
		for k, v := range bt.byKind {
			env.byKind[k] += v
		}
		env.restricted += bt.restricted
		env.total += bt.rows
		if inTx += bt.rows; inTx >= benchTxRows {
			if err := tx.Commit(); err != nil {
				return err
			}
			tx, inTx = nil, 0
		}
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	if env.total != n {
		return fmt.Errorf("wrote %d of %d assets", env.total, n)
	}
	t1 := time.Now()
	for _, ix := range indexes {
		if _, err := conn.ExecContext(ctx, ix.def); err != nil {
			return fmt.Errorf("%s: %w", ix.def, err)
		}
	}
	after, err := assetIndexes(ctx, env)
	if err != nil {
		return err
	}
	if fmt.Sprint(after) != fmt.Sprint(indexes) {
		return fmt.Errorf("the indexes of assets changed in the load:\n%v\n%v", indexes, after)
	}
	t2 := time.Now()
	if env.db.IsPostgres() {
		// What autovacuum does shortly after a bulk load.
		if _, err := conn.ExecContext(ctx, "VACUUM ANALYZE assets"); err != nil {
			return err
		}
	} else if err := env.db.Analyze(ctx); err != nil {
		// What serve does at start and an import after its writes.
		return err
	}
	var names []string
	for _, ix := range indexes {
		names = append(names, ix.name)
	}
	env.phases = fmt.Sprintf("inserts %s, indexes %s %s, vacuum/analyze %s", t1.Sub(t0).Round(time.Millisecond),
		strings.Join(names, " "), t2.Sub(t1).Round(time.Millisecond), time.Since(t2).Round(time.Millisecond))
	return nil
}

type indexDef struct{ name, def string }

// assetIndexes are the secondary indexes of assets that no constraint
// owns, with their definitions, by name.
func assetIndexes(ctx context.Context, env *benchEnv) ([]indexDef, error) {
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'assets' AND sql IS NOT NULL ORDER BY name`
	if env.db.IsPostgres() {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'assets'
			AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname`
	}
	rows, err := env.db.SQL().QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []indexDef
	for rows.Next() {
		var d indexDef
		if err := rows.Scan(&d.name, &d.def); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ---- Query points ----

// cityPoints are deterministic points near city centres: a random city,
// then a point within half its core's sigma of the centre (at most 1 km).
func cityPoints(n int, total int, seed uint64) [][2]float64 {
	g := newAssetGen(total, nil)
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([][2]float64, n)
	for i := range out {
		ci := rng.IntN(len(benchCities))
		c := benchCities[ci]
		r := math.Min(1, g.sigmaCore[ci]/2) * math.Sqrt(rng.Float64())
		th := rng.Float64() * 2 * math.Pi
		lat := c.lat + r*math.Cos(th)/kmPerDegLat
		lon := c.lon + r*math.Sin(th)/(kmPerDegLat*math.Cos(c.lat*math.Pi/180))
		out[i] = [2]float64{round6(lat), round6(lon)}
	}
	return out
}

// ---- Timing ----

// latencies records the duration of each operation of a benchmark and
// reports the median and the 99th percentile.
type latencies struct {
	d []time.Duration
}

func (l *latencies) time(fn func()) {
	t := time.Now()
	fn()
	l.d = append(l.d, time.Since(t))
}

func (l *latencies) report(b *testing.B) {
	if len(l.d) == 0 {
		return
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(l.d)))) - 1
		return float64(l.d[max(i, 0)].Nanoseconds())
	}
	b.ReportMetric(q(0.50)/1e6, "p50-ms")
	b.ReportMetric(q(0.99)/1e6, "p99-ms")
}

func benchCtx(b *testing.B) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	b.Cleanup(cancel)
	return ctx
}

// rawRows runs a query through database/sql and reads every column of
// every row, as a hand-written handler would: the floor the service is
// measured against.
func rawRows(ctx context.Context, db *sql.DB, q string, args ...any) (int, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// placeholders rewrites ? into $1, $2… for PostgreSQL.
func placeholders(dialect, q string) string {
	if dialect != database.Postgres {
		return q
	}
	var sb strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			sb.WriteString("$" + strconv.Itoa(n))
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// searchBox is the register's box around a point (registry/geometry.go).
func searchBox(lat, lon, r float64) (minLat, maxLat, minLon, maxLon float64) {
	dLat := r / 111320.0
	dLon := r / (111320.0 * math.Max(math.Cos(lat*math.Pi/180), 0.01))
	return lat - dLat, lat + dLat, lon - dLon, lon + dLon
}

// cellQuery is the service's search as it could be with the cells of
// INFRASHARE_BENCH_TUNE=cells: points by (lat_cell, lon), restricted sites
// by their rounded position, lines by (line_cell, min_lon…), as a UNION
// ALL so that each part has its own index on both databases.
func cellQuery(orgID int64, p [2]float64, radius float64) (string, []any) {
	minLat, maxLat, minLon, maxLon := searchBox(p[0], p[1], radius)
	cells := func(lo, hi, scale float64) (string, []any) {
		var args []any
		var marks []string
		for c := math.Floor(lo * scale); c <= math.Floor(hi*scale); c++ {
			args = append(args, int64(c))
			marks = append(marks, "?")
		}
		return "(" + strings.Join(marks, ",") + ")", args
	}
	pin, pargs := cells(minLat, maxLat, 100)
	lin, largs := cells(minLat-0.05, maxLat, 20)
	q := "SELECT * FROM assets WHERE lat_cell IN " + pin + " AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ? AND (restricted = false OR owner_id = ?)" +
		" UNION ALL SELECT * FROM assets WHERE restricted = true AND owner_id <> ? AND coarse_lat BETWEEN ? AND ? AND coarse_lon BETWEEN ? AND ?" +
		" UNION ALL SELECT * FROM assets WHERE lat IS NULL AND line_cell IN " + lin + " AND min_lon BETWEEN ? AND ? AND max_lon >= ? AND min_lat BETWEEN ? AND ? AND max_lat >= ?"
	args := append(pargs, minLon, maxLon, minLat, maxLat, orgID, orgID, minLat, maxLat, minLon, maxLon)
	args = append(append(args, largs...), minLon-0.05, maxLon, minLon, minLat-0.05, maxLat, minLat)
	return q, args
}

// explain logs the plan of q when INFRASHARE_BENCH_EXPLAIN is set.
func explain(b *testing.B, env *benchEnv, q string, args ...any) {
	explainSQL(b, env, placeholders(env.dialect, q), args...)
}

// explainSQL is explain for SQL in the database's own placeholders.
func explainSQL(b *testing.B, env *benchEnv, q string, args ...any) {
	if os.Getenv("INFRASHARE_BENCH_EXPLAIN") == "" {
		return
	}
	prefix := "EXPLAIN QUERY PLAN "
	if env.db.IsPostgres() {
		prefix = "EXPLAIN (ANALYZE, BUFFERS) "
	}
	rows, err := env.db.SQL().QueryContext(benchCtx(b), prefix+q, args...)
	if err != nil {
		b.Logf("explain: %v", err)
		return
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		_ = rows.Scan(ptrs...)
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	b.Logf("plan on %s of %s\n%s", env.dialect, q, strings.Join(lines, "\n"))
}

// serviceAndReplay runs two sub-benchmarks over the same operations:
// "service", the service call (op i returns its number of results), and
// "service-sql", the statements that the call sent to the assets table,
// recorded as GORM sent them and replayed bare through database/sql — the
// database's share of the service's time, whatever registry/search.go
// sends.
func serviceAndReplay(b *testing.B, env *benchEnv, ops int, call func(ctx context.Context, i int) (int, error)) {
	var mu sync.Mutex
	sent := map[int][]stmt{}
	record := func(ctx context.Context, i int) (int, []stmt, error) {
		var n int
		stmts, err := env.rec.record(func() error {
			var err error
			n, err = call(ctx, i)
			return err
		})
		mu.Lock()
		if _, ok := sent[i]; !ok {
			sent[i] = stmts
		}
		mu.Unlock()
		return n, stmts, err
	}
	b.Run("service", func(b *testing.B) {
		env.logBuild(b)
		ctx := benchCtx(b)
		if b.N == 1 {
			stmts := env.capture.statements(func() { _, _ = call(ctx, 0) })
			b.Logf("the service sends %d statement(s): %s", len(stmts), strings.Join(stmts, " ;; "))
		}
		// One untimed pass over the operations first: the service is timed
		// before its SQL and the bare SQL, and without the pass it alone
		// paid for bringing the points' pages into the database's cache,
		// which doubled its p99 (docs/performance.md, fourth session).
		// INFRASHARE_BENCH_COLD=1 times the first pass instead.
		if os.Getenv("INFRASHARE_BENCH_COLD") == "" {
			for i := 0; i < min(b.N, ops); i++ {
				if _, _, err := record(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
		}
		var lat latencies
		results := 0
		queries := env.capture.n.Load()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			lat.time(func() {
				n, _, err := record(ctx, i%ops)
				if err != nil {
					b.Fatal(err)
				}
				results += n
			})
		}
		b.StopTimer()
		lat.report(b)
		b.ReportMetric(float64(results)/float64(b.N), "results/op")
		b.ReportMetric(float64(env.capture.n.Load()-queries)/float64(b.N), "queries/op")
	})
	b.Run("service-sql", func(b *testing.B) {
		env.logBuild(b)
		ctx := benchCtx(b)
		get := func(i int) []stmt {
			mu.Lock()
			stmts, ok := sent[i]
			mu.Unlock()
			if !ok {
				var err error
				if _, stmts, err = record(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
			return stmts
		}
		if b.N == 1 {
			for _, st := range get(0) {
				explainSQL(b, env, st.sql, st.vars...)
			}
		}
		plan := make([][]stmt, min(b.N, ops))
		for i := range plan {
			plan[i] = get(i)
		}
		var lat latencies
		rowsN := 0
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			stmts := plan[i%len(plan)]
			lat.time(func() {
				for _, st := range stmts {
					n, err := rawRows(ctx, env.db.SQL(), st.sql, st.vars...)
					if err != nil {
						b.Fatal(err)
					}
					rowsN += n
				}
			})
		}
		b.StopTimer()
		lat.report(b)
		b.ReportMetric(float64(rowsN)/float64(b.N), "rows/op")
	})
}

// ---- Benchmarks ----

// BenchmarkNearby500m times the nearby search of an operator (500 m,
// random points near city centres): the service call, the service's own
// SQL sent bare, and the bare bounding-box query on the point index.
func BenchmarkNearby500m(b *testing.B) {
	eachDialect(b, func(b *testing.B, env *benchEnv) {
		points := cityPoints(4096, env.total, 11)
		actor := env.actors["viettel"]
		const radius = 500.0
		serviceAndReplay(b, env, len(points), func(ctx context.Context, i int) (int, error) {
			p := points[i]
			items, err := env.reg.Nearby(ctx, actor, registry.NearbyQuery{Lat: p[0], Lon: p[1], RadiusM: radius})
			return len(items), err
		})
		if env.cells {
			b.Run("cell-sql", func(b *testing.B) {
				env.logBuild(b)
				ctx := benchCtx(b)
				if b.N == 1 {
					q0, args0 := cellQuery(actor.OrgID, points[0], radius)
					explain(b, env, q0, args0...)
				}
				var lat latencies
				rowsN := 0
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					q, args := cellQuery(actor.OrgID, points[i%len(points)], radius)
					q = placeholders(env.dialect, q)
					lat.time(func() {
						n, err := rawRows(ctx, env.db.SQL(), q, args...)
						if err != nil {
							b.Fatal(err)
						}
						rowsN += n
					})
				}
				b.StopTimer()
				lat.report(b)
				b.ReportMetric(float64(rowsN)/float64(b.N), "rows/op")
			})
		}
		b.Run("bare-sql", func(b *testing.B) {
			env.logBuild(b)
			ctx := benchCtx(b)
			const bare = "SELECT * FROM assets WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?"
			q := placeholders(env.dialect, bare)
			if b.N == 1 {
				p := points[0]
				minLat, maxLat, minLon, maxLon := searchBox(p[0], p[1], radius)
				explain(b, env, bare, minLat, maxLat, minLon, maxLon)
			}
			var lat latencies
			rowsN := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := points[i%len(points)]
				minLat, maxLat, minLon, maxLon := searchBox(p[0], p[1], radius)
				lat.time(func() {
					n, err := rawRows(ctx, env.db.SQL(), q, minLat, maxLat, minLon, maxLon)
					if err != nil {
						b.Fatal(err)
					}
					rowsN += n
				})
			}
			b.StopTimer()
			lat.report(b)
			b.ReportMetric(float64(rowsN)/float64(b.N), "rows/op")
		})
	})
}

// BenchmarkListPage times a list page (limit 50, in id order) of an
// operator over the bounding box of a city district (2 km × 2 km around a
// point near a city centre), and the same page as bare SQL.
func BenchmarkListPage(b *testing.B) {
	eachDialect(b, func(b *testing.B, env *benchEnv) {
		points := cityPoints(4096, env.total, 13)
		actor := env.actors["viettel"]
		const half = 1000.0 // metres: a 2 km box
		bbox := func(p [2]float64) *orb.Bound {
			minLat, maxLat, minLon, maxLon := searchBox(p[0], p[1], half)
			return &orb.Bound{Min: orb.Point{minLon, minLat}, Max: orb.Point{maxLon, maxLat}}
		}
		serviceAndReplay(b, env, len(points), func(ctx context.Context, i int) (int, error) {
			items, _, err := env.reg.List(ctx, actor, registry.AssetFilter{BBox: bbox(points[i]), Limit: 50})
			return len(items), err
		})
		b.Run("bare-sql", func(b *testing.B) {
			env.logBuild(b)
			ctx := benchCtx(b)
			const page = "SELECT * FROM assets WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? ORDER BY id LIMIT 51"
			q := placeholders(env.dialect, page)
			if b.N == 1 {
				bb := bbox(points[0])
				explain(b, env, page, bb.Min[1], bb.Max[1], bb.Min[0], bb.Max[0])
			}
			var lat latencies
			rowsN := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bb := bbox(points[i%len(points)])
				lat.time(func() {
					n, err := rawRows(ctx, env.db.SQL(), q, bb.Min[1], bb.Max[1], bb.Min[0], bb.Max[0])
					if err != nil {
						b.Fatal(err)
					}
					rowsN += n
				})
			}
			b.StopTimer()
			lat.report(b)
			b.ReportMetric(float64(rowsN)/float64(b.N), "rows/op")
		})
	})
}

// benchImportRows is the size of one import: the 50,000 rows that issue 4
// says go in one request.
const benchImportRows = 50_000

// importCSV is an operator's file of new Can Tho assets: towers, poles,
// manholes and cabinets by lat/lon, duct segments as WKT, each code
// prefixed so that every iteration creates new assets.
func importCSV(prefix string, n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 3))
	var buf bytes.Buffer
	buf.WriteString("\ufeffcode,kind,status,lat,lon,geometry,height_m,class,structure,capacity_total,tubes,diameter_mm,address,unit_code,in_service_on\n")
	for i := 0; i < n; i++ {
		d := canThoDistricts[rng.IntN(len(canThoDistricts))]
		lat, lon := offset(rng, d.lat, d.lon, 2.5)
		lat, lon = round6(lat), round6(lon)
		addr := fmt.Sprintf("Số %d đường %s, %s", 1+rng.IntN(300), benchStreets[rng.IntN(len(benchStreets))], d.name)
		day := fmt.Sprintf("%04d-%02d-%02d", 2008+rng.IntN(18), 1+rng.IntN(12), 1+rng.IntN(28))
		code := fmt.Sprintf("%s-%06d", prefix, i)
		switch k := rng.Float64(); {
		case k < 0.10:
			lat2, lon2 := round6(lat+(rng.Float64()-0.5)*0.002), round6(lon+(rng.Float64()-0.5)*0.002)
			fmt.Fprintf(&buf, "%s,duct,in_service,,,\"LINESTRING(%v %v, %v %v)\",,,,,%d,110,\"%s\",%s,%s\n",
				code, lon, lat, lon2, lat2, []int{2, 4, 6, 8}[rng.IntN(4)], addr, d.code, day)
		case k < 0.25:
			fmt.Fprintf(&buf, "%s,tower,in_service,%v,%v,,%d,%s,cột tự đứng,3,,,\"%s\",%s,%s\n",
				code, lat, lon, 18+rng.IntN(40), towerClasses[rng.IntN(4)], addr, d.code, day)
		case k < 0.65:
			fmt.Fprintf(&buf, "%s,pole,in_service,%v,%v,,%d,A1a,cột bê tông ly tâm,2,,,\"%s\",%s,%s\n",
				code, lat, lon, 8+rng.IntN(10), addr, d.code, day)
		case k < 0.85:
			fmt.Fprintf(&buf, "%s,manhole,in_service,%v,%v,,,,,4,,,\"%s\",%s,%s\n", code, lat, lon, addr, d.code, day)
		default:
			fmt.Fprintf(&buf, "%s,cabinet,in_service,%v,%v,,,,,2,,,\"%s\",%s,%s\n", code, lat, lon, addr, d.code, day)
		}
	}
	return buf.Bytes()
}

// BenchmarkImportCSVAtScale times one import of 50,000 new assets (towers,
// poles, manholes, cabinets, duct segments) by an operator into the shared
// national-scale register, and reports rows per second. (BenchmarkImportCSV
// in import_test.go imports 20,000 towers into a small demo register.) The
// imported assets are deleted again, outside the timing, after each
// iteration.
func BenchmarkImportCSVAtScale(b *testing.B) {
	eachDialect(b, func(b *testing.B, env *benchEnv) {
		env.logBuild(b)
		ctx := benchCtx(b)
		actor := env.actors["vnpt"]
		var lat latencies
		var total time.Duration
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			prefix := fmt.Sprintf("BENCHIMP%04d", i)
			file := importCSV(prefix, benchImportRows, uint64(i))
			b.StartTimer()
			t := time.Now()
			res, err := env.reg.ImportAssets(ctx, actor, bytes.NewReader(file), registry.ImportOptions{Format: "csv"})
			d := time.Since(t)
			b.StopTimer()
			if err != nil {
				b.Fatalf("import: %v", err)
			}
			if res.Created != benchImportRows {
				b.Fatalf("import created %d of %d rows: %+v", res.Created, benchImportRows, res)
			}
			lat.d = append(lat.d, d)
			total += d
			if err := env.db.Root().Exec("DELETE FROM assets WHERE owner_id = ? AND code LIKE ?", actor.OrgID, prefix+"-%").Error; err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.StopTimer()
		lat.report(b)
		b.ReportMetric(float64(benchImportRows*b.N)/total.Seconds(), "rows/s")
	})
}
