// Package gen writes a deterministic, realistic data set into a migrated
// database (issue 8): assets clustered around Vietnamese cities at urban
// and rural densities, duct routes as connected segments between manholes,
// allocations consistent with the assets' counters, co-location requests
// in every state, permit applications, and BTS records over 2021–2026.
//
// The bulk (assets, allocations, BTS records) is written straight into the
// tables, in transactions of loadTxRows rows: COPY on PostgreSQL,
// multi-row INSERTs of literals on SQLite (its pure-Go driver binds
// parameters in time quadratic in their number). Every row is what the
// services would write: the derived columns follow registry/assets.go
// build(), the BTS classification and its evidence follow
// permits.LogDeployment, and the counters on the assets equal the sums of
// their allocations. The co-location requests and permit applications go
// through the services themselves, on a clock set to the data set's
// as-of day, so their timelines, reservations and audit events are the
// services' own. docs/gen.md describes the data set and its guarantees.
package gen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/migrations"
	"infrashare/permits"
	"infrashare/registry"
)

// Options say what to generate.
type Options struct {
	Assets int
	BTS    int
	Seed   uint64
	// AsOf is the day the data set is "now": requests and permits are
	// filed up to it, deadlines are measured against it, BTS records go on
	// air before it. The same seed and as-of day give the same data.
	AsOf infrashare.Date
	// Append allows a run on a database that has generated data already:
	// the new run's codes carry its run number, and its draws differ.
	Append bool
	// DemoPassword is given to the demo accounts when gen creates them.
	DemoPassword string
	// Progress receives one line per committed batch (counts and rate).
	Progress io.Writer
}

// Summary is what a run wrote.
type Summary struct {
	Run            int
	Assets         int
	ByKind         map[string]int
	Allocations    int
	BTS            int
	ByClass        map[string]int
	Requests       int
	RequestStates  map[string]int
	Permits        int
	PermitStates   map[string]int
	AccountsSeeded bool
	Elapsed        time.Duration
}

// ErrGenerated refuses a second run without Options.Append.
var ErrGenerated = errors.New("the database has generated data already (infrashare gen ran on it); pass --append to add another, independent data set")

// genLockKey serialises gen runs across processes on PostgreSQL: "infrgen".
const genLockKey int64 = 0x696e667267656e

// markerPrefix names gen's rows in seed_runs: gen.1, gen.2, …
const markerPrefix = "gen."

// Run generates the data set into db (migrated). It creates the demo
// organisations and accounts when they are missing (refusing, as seed --demo
// does, a database with real users), and the generated operators.
func Run(ctx context.Context, db *database.DB, opts Options) (Summary, error) {
	start := time.Now()
	sum := Summary{ByKind: map[string]int{}, ByClass: map[string]int{}, RequestStates: map[string]int{}, PermitStates: map[string]int{}}
	if opts.Assets < 100 {
		return sum, infrashare.Invalid("assets", "at least 100")
	}
	if opts.BTS < 0 {
		return sum, infrashare.Invalid("bts", "must not be negative")
	}
	if opts.AsOf.IsZero() {
		opts.AsOf = auth.Today(infrashare.SystemClock{})
	}
	if opts.AsOf.Before(infrashare.MustDate("2021-06-01")) {
		return sum, infrashare.Invalid("as_of", "must be 2021-06-01 or later: the BTS log starts in 2021")
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	err := db.WithAdvisoryLock(ctx, genLockKey, func() error {
		run, err := claimRun(ctx, db, opts.Append)
		if err != nil {
			return err
		}
		sum.Run = run
		present, err := migrations.IsDemoSeeded(ctx, db)
		if err != nil {
			return err
		}
		if !present {
			seeded, err := migrations.SeedDemoAccounts(ctx, db, opts.DemoPassword)
			if err != nil {
				return err
			}
			sum.AccountsSeeded = seeded
		}
		g, err := newGenerator(ctx, db, opts, run)
		if err != nil {
			return err
		}
		return g.generate(ctx, &sum)
	})
	sum.Elapsed = time.Since(start)
	return sum, err
}

// claimRun refuses a database with generated data unless appending, and
// records this run's marker at once, in its own transaction: a run that
// fails half-way still blocks a plain rerun (its codes would collide)
// rather than letting it silently write a second data set beside the
// partial one.
func claimRun(ctx context.Context, db *database.DB, appending bool) (int, error) {
	run := 0
	err := db.Tx(ctx, func(ctx context.Context) error {
		var names []string
		if err := db.Conn(ctx).Table("seed_runs").Where("name LIKE ?", markerPrefix+"%").Pluck("name", &names).Error; err != nil {
			return err
		}
		for _, n := range names {
			var k int
			if _, err := fmt.Sscanf(strings.TrimPrefix(n, markerPrefix), "%d", &k); err == nil && k > run {
				run = k
			}
		}
		if run > 0 && !appending {
			return ErrGenerated
		}
		run++
		return db.Conn(ctx).Table("seed_runs").Create(map[string]any{"name": fmt.Sprintf("%s%d", markerPrefix, run),
			"at": time.Now().UTC().Truncate(time.Microsecond)}).Error
	})
	return run, err
}

// Generated reports the gen runs recorded in the database.
func Generated(ctx context.Context, db *database.DB) (int, error) {
	var n int64
	err := db.Conn(ctx).Table("seed_runs").Where("name LIKE ?", markerPrefix+"%").Count(&n).Error
	return int(n), err
}

// generator holds one run's state.
type generator struct {
	db       *database.DB
	opts     Options
	run      int
	now      time.Time // the as-of day, 10:00 in Vietnam
	geo      *geography
	orgs     []org
	orgIndex map[string]int
	units    *registry.Units
	window   int // bts.new_structure_window_days
	progress *progress

	skels     []skel
	allocs    []alloc
	bts       []btsRow
	unitCodes []string // the units assets lie in; index 0 is none
	unitIndex map[string]uint8

	assetBase, allocBase int64 // ids are base + index
}

// org is an organisation the data set refers to.
type org struct {
	id     int64
	code   string
	group  string
	userID int64 // a user of the organisation, 0 when it has none
	kind   string
}

// extraOperators are the operators gen adds beside the demo's.
var extraOperators = []struct{ code, name, group, contact string }{
	{"VNMOBILE", "Vietnamobile", "VNMOBILE", "noc@vietnamobile.gen.infrashare.vn"},
	{"FPT", "FPT Telecom", "FPT", "hatang@fpt.gen.infrashare.vn"},
	{"SCTV", "SCTV", "", "kythuat@sctv.gen.infrashare.vn"},
	{"VNTOWER", "Vietnam Tower JSC", "", "towers@vntower.gen.infrashare.vn"},
	{"EVN", "Tổng công ty Điện lực miền Nam", "", "luoidien@evn.gen.infrashare.vn"},
}

func newGenerator(ctx context.Context, db *database.DB, opts Options, run int) (*generator, error) {
	now := time.Date(opts.AsOf.Year, opts.AsOf.Month, opts.AsOf.Day, 3, 0, 0, 0, time.UTC)
	g := &generator{db: db, opts: opts, run: run, now: now, geo: newGeography(opts.Assets), orgIndex: map[string]int{},
		progress: &progress{w: opts.Progress}}
	clock := infrashare.NewTestClock(now)
	authSvc := auth.NewService(db, clock, auth.NewAudit(db, clock))
	for _, o := range extraOperators {
		var n int64
		if err := db.Conn(ctx).Table("organizations").Where("code = ?", o.code).Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			continue
		}
		if _, err := authSvc.CreateOrg(ctx, auth.SystemActor, auth.NewOrg{Code: o.code, Name: o.name, Kind: auth.KindOperator,
			Group: o.group, Contact: auth.Contact{Name: "Phòng Hạ tầng", Email: o.contact}}); err != nil {
			return nil, fmt.Errorf("operator %s: %w", o.code, err)
		}
	}
	var rows []auth.Organization
	if err := db.Conn(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, o := range rows {
		gr := ""
		if o.GroupCode != nil {
			gr = *o.GroupCode
		}
		var uid []int64
		if err := db.Conn(ctx).Table("users").Where("org_id = ?", o.ID).Order("id").Limit(1).Pluck("id", &uid).Error; err != nil {
			return nil, err
		}
		og := org{id: o.ID, code: o.Code, group: gr, kind: o.Kind}
		if len(uid) == 1 {
			og.userID = uid[0]
		}
		g.orgIndex[o.Code] = len(g.orgs)
		g.orgs = append(g.orgs, og)
	}
	for _, code := range append(append([]string{}, ownerCodes...), "DEPT", "UBND-NK", "UBND-CR") {
		if _, ok := g.orgIndex[code]; !ok {
			return nil, fmt.Errorf("organisation %s is missing", code)
		}
	}
	g.units = registry.NewUnits(db, clock)
	g.window = 180
	if err := auth.NewSettings(db, clock).Get(ctx, "bts.new_structure_window_days", &g.window); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		table string
		base  *int64
	}{{"assets", &g.assetBase}, {"allocations", &g.allocBase}} {
		var maxID *int64
		if err := db.Conn(ctx).Table(t.table).Select("max(id)").Scan(&maxID).Error; err != nil {
			return nil, err
		}
		*t.base = 1
		if maxID != nil {
			*t.base = *maxID + 1
		}
	}
	return g, nil
}

// actor is the acting user of an organisation, as the services expect.
func (g *generator) actor(code string) auth.Actor {
	o := g.orgs[g.orgIndex[code]]
	role := auth.RoleOperator
	switch o.kind {
	case auth.KindDepartment:
		role = auth.RoleAuditor
	case auth.KindAuthority:
		role = auth.RoleOfficer
	}
	return auth.Actor{UserID: o.userID, OrgID: o.id, OrgCode: o.code, OrgKind: o.kind, Group: o.group, Roles: []string{role}}
}

func (g *generator) generate(ctx context.Context, sum *Summary) error {
	g.progress.logf("gen: run %d, seed %d, as of %s: %d assets, %d BTS records", g.run, g.opts.Seed, g.opts.AsOf, g.opts.Assets, g.opts.BTS)
	if err := g.planAssets(ctx); err != nil {
		return err
	}
	g.planAllocations()
	g.planBTS()
	for _, s := range g.skels {
		sum.ByKind[kinds[s.kind]]++
	}
	sum.Assets = len(g.skels)
	sum.Allocations = len(g.allocs)
	sum.BTS = len(g.bts)
	for _, b := range g.bts {
		sum.ByClass[b.class]++
	}
	if err := g.write(ctx); err != nil {
		return err
	}
	clock := infrashare.NewTestClock(g.now)
	audit, settings := auth.NewAudit(g.db, clock), auth.NewSettings(g.db, clock)
	reg := registry.NewService(g.db, clock, audit, settings, g.units)
	psvc := permits.New(g.db, clock, audit, settings, reg, g.units)
	if err := psvc.RebuildMonthlyCounts(ctx); err != nil {
		return fmt.Errorf("rebuild the BTS monthly counts: %w", err)
	}
	if err := g.db.Analyze(ctx); err != nil {
		return err
	}
	t := time.Now()
	if err := g.requests(ctx, sum); err != nil {
		return fmt.Errorf("co-location requests: %w", err)
	}
	if err := g.permits(ctx, sum); err != nil {
		return fmt.Errorf("permit applications: %w", err)
	}
	g.progress.logf("gen: %d co-location requests %v and %d permit applications %v through the services in %s",
		sum.Requests, sum.RequestStates, sum.Permits, sum.PermitStates, time.Since(t).Round(time.Millisecond))
	return g.vacuum(ctx)
}

// vacuum gathers planner statistics after the load, as autovacuum would
// (PostgreSQL) or as nothing else would (SQLite).
func (g *generator) vacuum(ctx context.Context) error {
	t := time.Now()
	if g.db.IsPostgres() {
		for _, table := range []string{"assets", "allocations", "bts_deployments", "bts_monthly_counts", "colocation_requests", "colocation_items"} {
			if _, err := g.db.SQL().ExecContext(ctx, "VACUUM ANALYZE "+table); err != nil {
				return err
			}
		}
	}
	if err := g.db.Analyze(ctx); err != nil {
		return err
	}
	g.progress.logf("gen: statistics refreshed in %s", time.Since(t).Round(time.Millisecond))
	return nil
}

// progress writes the progress lines.
type progress struct {
	w io.Writer
}

func (p *progress) logf(format string, args ...any) {
	fmt.Fprintf(p.w, format+"\n", args...)
}

// rate formats n rows over d as rows per second.
func rate(n int, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f rows/s", math.Round(float64(n)/d.Seconds()))
}
