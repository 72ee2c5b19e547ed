package registry

import (
	"context"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"infrashare"
	"infrashare/database"
)

// Units knows the administrative units: which unit holds a point on a day
// (from loaded boundaries) and whether a code is valid on a day. Boundaries
// are cached in memory for a short while, since every asset write asks.
type Units struct {
	db    *database.DB
	clock infrashare.Clock

	mu       sync.Mutex
	shapes   []unitShape
	loadedAt time.Time
}

// unitsCacheTTL bounds how stale another replica's boundary import can look.
const unitsCacheTTL = 30 * time.Second

type unitShape struct {
	code      string
	level     string
	validFrom infrashare.Date
	validTo   infrashare.Date // zero: open-ended
	bound     orb.Bound
	geom      orb.Geometry
}

// NewUnits returns the units service.
func NewUnits(db *database.DB, clock infrashare.Clock) *Units {
	return &Units{db: db, clock: clock}
}

// unitRow is a row of admin_units.
type unitRow struct {
	ID         int64
	Code       string
	ValidFrom  infrashare.Date
	ValidTo    infrashare.Date
	Name       string
	Level      string
	ParentCode *string
	Urban      bool
	Boundary   *string
	MinLat     *float64
	MinLon     *float64
	MaxLat     *float64
	MaxLon     *float64
	CreatedAt  time.Time
}

func (unitRow) TableName() string { return "admin_units" }

// validOn reports whether a unit valid from..to covers day.
func validOn(from, to, day infrashare.Date) bool {
	return !day.Before(from) && (to.IsZero() || day.Before(to))
}

// Invalidate drops the cache, after a boundary import on this replica.
func (u *Units) Invalidate() {
	u.mu.Lock()
	u.shapes, u.loadedAt = nil, time.Time{}
	u.mu.Unlock()
}

func (u *Units) load(ctx context.Context) ([]unitShape, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.shapes != nil && time.Since(u.loadedAt) < unitsCacheTTL {
		return u.shapes, nil
	}
	var rows []unitRow
	if err := u.db.Conn(ctx).Where("boundary IS NOT NULL").Find(&rows).Error; err != nil {
		return nil, err
	}
	shapes := make([]unitShape, 0, len(rows))
	for _, r := range rows {
		g, err := geojson.UnmarshalGeometry([]byte(*r.Boundary))
		if err != nil {
			continue // validated on import; a damaged row must not stop every write
		}
		geom := g.Geometry()
		shapes = append(shapes, unitShape{code: r.Code, level: r.Level, validFrom: r.ValidFrom, validTo: r.ValidTo,
			bound: geom.Bound(), geom: geom})
	}
	u.shapes, u.loadedAt = shapes, time.Now()
	return shapes, nil
}

// Locate returns the most specific unit valid on day whose boundary holds
// the point, and false when no loaded boundary does.
func (u *Units) Locate(ctx context.Context, lon, lat float64, day infrashare.Date) (string, bool, error) {
	shapes, err := u.load(ctx)
	if err != nil {
		return "", false, err
	}
	code, ok := locate(shapes, lon, lat, day)
	return code, ok, nil
}

func locate(shapes []unitShape, lon, lat float64, day infrashare.Date) (string, bool) {
	p := orb.Point{lon, lat}
	best, bestArea := "", 0.0
	for _, s := range shapes {
		if !validOn(s.validFrom, s.validTo, day) || !s.bound.Contains(p) {
			continue
		}
		inside := false
		switch g := s.geom.(type) {
		case orb.Polygon:
			inside = planar.PolygonContains(g, p)
		case orb.MultiPolygon:
			inside = planar.MultiPolygonContains(g, p)
		}
		if !inside {
			continue
		}
		area := (s.bound.Max[0] - s.bound.Min[0]) * (s.bound.Max[1] - s.bound.Min[1])
		if best == "" || area < bestArea {
			best, bestArea = s.code, area
		}
	}
	return best, best != ""
}

// ValidCode reports whether a unit with code is valid on day.
func (u *Units) ValidCode(ctx context.Context, code string, day infrashare.Date) (bool, error) {
	rows, err := u.rowsOf(ctx, code)
	if err != nil {
		return false, err
	}
	return anyValidOn(rows, day), nil
}

// Ancestors returns the codes of the unit's parents valid on day, nearest
// first.
func (u *Units) Ancestors(ctx context.Context, code string, day infrashare.Date) ([]string, error) {
	return ancestorsOf(code, day, func(c string) ([]unitRow, error) { return u.rowsOf(ctx, c) })
}

// rowsOf reads the versions of a unit, without their boundaries.
func (u *Units) rowsOf(ctx context.Context, code string) ([]unitRow, error) {
	var rows []unitRow
	err := u.db.Conn(ctx).Select("code, valid_from, valid_to, parent_code").Where("code = ?", code).Find(&rows).Error
	return rows, err
}

func anyValidOn(rows []unitRow, day infrashare.Date) bool {
	for _, r := range rows {
		if validOn(r.ValidFrom, r.ValidTo, day) {
			return true
		}
	}
	return false
}

// ancestorsOf walks up the parents valid on day, reading a unit's versions
// with rowsOf; a cycle in bad data ends the walk.
func ancestorsOf(code string, day infrashare.Date, rowsOf func(string) ([]unitRow, error)) ([]string, error) {
	var out []string
	seen := map[string]bool{code: true}
	for {
		rows, err := rowsOf(code)
		if err != nil {
			return nil, err
		}
		next := ""
		for _, r := range rows {
			if validOn(r.ValidFrom, r.ValidTo, day) && r.ParentCode != nil {
				next = *r.ParentCode
			}
		}
		if next == "" || seen[next] {
			return out, nil
		}
		seen[next] = true
		out = append(out, next)
		code = next
	}
}

// UnitGraph is every unit's versions and parents, read once, for a caller
// that resolves many units at once (a report, a row each).
type UnitGraph struct {
	byCode map[string][]unitRow
}

// Graph reads the units' validity and parents, without their boundaries.
func (u *Units) Graph(ctx context.Context) (UnitGraph, error) {
	var rows []unitRow
	if err := u.db.Conn(ctx).Select("code, valid_from, valid_to, parent_code").Order("valid_from").Find(&rows).Error; err != nil {
		return UnitGraph{}, err
	}
	g := UnitGraph{byCode: map[string][]unitRow{}}
	for _, r := range rows {
		g.byCode[r.Code] = append(g.byCode[r.Code], r)
	}
	return g, nil
}

// ValidCode is Units.ValidCode on the graph.
func (g UnitGraph) ValidCode(code string, day infrashare.Date) bool {
	return anyValidOn(g.byCode[code], day)
}

// Ancestors is Units.Ancestors on the graph.
func (g UnitGraph) Ancestors(code string, day infrashare.Date) []string {
	out, _ := ancestorsOf(code, day, func(c string) ([]unitRow, error) { return g.byCode[c], nil })
	return out
}

// Latest is the validity of the unit's most recent version; ok is false
// for an unknown code.
func (g UnitGraph) Latest(code string) (from, to infrashare.Date, ok bool) {
	rows := g.byCode[code]
	if len(rows) == 0 {
		return from, to, false
	}
	last := rows[len(rows)-1]
	return last.ValidFrom, last.ValidTo, true
}

// unitLookup is where build finds units: Units, or an import's snapshot.
type unitLookup interface {
	Locate(ctx context.Context, lon, lat float64, day infrashare.Date) (string, bool, error)
	Ancestors(ctx context.Context, code string, day infrashare.Date) ([]string, error)
	ValidCode(ctx context.Context, code string, day infrashare.Date) (bool, error)
}

// unitSnapshot is the units read once, boundaries and graph. An import
// checks all its rows against one, and so reads nothing more while its
// transaction writes them.
type unitSnapshot struct {
	shapes []unitShape
	graph  UnitGraph
}

func (u *Units) snapshot(ctx context.Context) (unitSnapshot, error) {
	shapes, err := u.load(ctx)
	if err != nil {
		return unitSnapshot{}, err
	}
	g, err := u.Graph(ctx)
	return unitSnapshot{shapes: shapes, graph: g}, err
}

func (s unitSnapshot) Locate(_ context.Context, lon, lat float64, day infrashare.Date) (string, bool, error) {
	code, ok := locate(s.shapes, lon, lat, day)
	return code, ok, nil
}

func (s unitSnapshot) Ancestors(_ context.Context, code string, day infrashare.Date) ([]string, error) {
	return s.graph.Ancestors(code, day), nil
}

func (s unitSnapshot) ValidCode(_ context.Context, code string, day infrashare.Date) (bool, error) {
	return s.graph.ValidCode(code, day), nil
}
