package registry

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"gorm.io/gorm"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
)

// AssetFilter selects assets (DESIGN §4 list filters).
type AssetFilter struct {
	Kinds    []string
	Owner    string // organisation code or id
	Unit     string
	Statuses []string
	BBox     *orb.Bound
	MinFree  int
	Q        string
	Limit    int
	Cursor   string
}

// ParseBBox reads "minLon,minLat,maxLon,maxLat".
func ParseBBox(s string) (*orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, infrashare.Invalid("bbox", "must be minLon,minLat,maxLon,maxLat")
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, infrashare.Invalid("bbox", "must be four numbers: minLon,minLat,maxLon,maxLat")
		}
		v[i] = f
	}
	if v[0] > v[2] || v[1] > v[3] || v[1] < -90 || v[3] > 90 || v[0] < -180 || v[2] > 180 {
		return nil, infrashare.Invalid("bbox", "must be minLon,minLat,maxLon,maxLat with min ≤ max, in degrees")
	}
	b := orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}
	return &b, nil
}

func (f AssetFilter) check() error {
	fields := infrashare.FieldErrors{}
	for _, k := range f.Kinds {
		if !pointKinds[k] && !lineKinds[k] {
			fields.Add("kind", "must be one of: tower, pole, manhole, cabinet, duct, conduit, tunnel")
		}
	}
	for _, st := range f.Statuses {
		if !containsString(assetStatuses, st) {
			fields.Add("status", "must be one of: "+strings.Join(assetStatuses, ", "))
		}
	}
	if f.MinFree < 0 {
		fields.Add("min_free", "must not be negative")
	}
	if len(f.Q) > 200 {
		fields.Add("q", "must be at most 200 characters")
	}
	return fields.Err()
}

// scope applies the filter's conditions as actor may use them: a
// restricted site of another organisation is found by its rounded position
// and by its code, never by its exact position or address.
func (s *Service) scope(ctx context.Context, actor auth.Actor, f AssetFilter) (*gorm.DB, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	q := s.db.Conn(ctx).Model(&Asset{})
	if len(f.Kinds) > 0 {
		q = q.Where("kind IN ?", f.Kinds)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if f.Owner != "" {
		id, err := strconv.ParseInt(f.Owner, 10, 64)
		if err != nil {
			o, ok, err := s.orgs.byCodeGet(ctx, strings.ToUpper(f.Owner))
			if err != nil {
				return nil, err
			}
			id = -1
			if ok {
				id = o.ID
			}
		}
		q = q.Where("owner_id = ?", id)
	}
	if f.Unit != "" {
		q = q.Where("unit_code = ?", f.Unit)
	}
	if f.MinFree > 0 {
		q = q.Where("capacity_total - reserved_units - active_units >= ?", f.MinFree)
	}
	privileged := actor.SeesEverything()
	if f.Q != "" {
		like := "%" + escapeLike(infrashare.Fold(f.Q)) + "%"
		if privileged {
			q = q.Where("(search_code LIKE ? ESCAPE '\\' OR search_address LIKE ? ESCAPE '\\')", like, like)
		} else {
			q = q.Where("(search_code LIKE ? ESCAPE '\\' OR (search_address LIKE ? ESCAPE '\\' AND (restricted = false OR owner_id = ?)))", like, like, actor.OrgID)
		}
	}
	if f.BBox != nil {
		parts := boxParts(actor, *f.BBox)
		conds := make([]string, len(parts))
		var args []any
		for i, p := range parts {
			conds[i] = "(" + p.cond + ")"
			args = append(args, p.args...)
		}
		q = q.Where("("+strings.Join(conds, " OR ")+")", args...)
	}
	return q, nil
}

// boxPart is one way an asset can lie in a box: a point by its position
// (others' restricted sites excepted), another organisation's restricted
// site by its rounded position, a line by its bounding box. Each part has
// its own index; with statistics (database.Analyze) both databases combine
// them in one statement faster than separate queries would.
type boxPart struct {
	cond string
	args []any
}

func boxParts(actor auth.Actor, b orb.Bound) []boxPart {
	lines := boxPart{"lat IS NULL AND min_lat BETWEEN ? AND ? AND max_lat >= ? AND min_lon <= ? AND max_lon >= ?",
		[]any{b.Min[1] - maxLineSpanDeg, b.Max[1], b.Min[1], b.Max[0], b.Min[0]}}
	if actor.SeesEverything() {
		return []boxPart{{"lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?", []any{b.Min[1], b.Max[1], b.Min[0], b.Max[0]}}, lines}
	}
	return []boxPart{
		{"lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? AND (restricted = false OR owner_id = ?)",
			[]any{b.Min[1], b.Max[1], b.Min[0], b.Max[0], actor.OrgID}},
		{"restricted = true AND owner_id <> ? AND coarse_lat BETWEEN ? AND ? AND coarse_lon BETWEEN ? AND ?",
			[]any{actor.OrgID, b.Min[1], b.Max[1], b.Min[0], b.Max[0]}},
		lines,
	}
}

// escapeLike makes user text literal inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// List returns a page of assets in id order.
func (s *Service) List(ctx context.Context, actor auth.Actor, f AssetFilter) ([]AssetView, string, error) {
	q, err := s.scope(ctx, actor, f)
	if err != nil {
		return nil, "", err
	}
	if f.Cursor != "" {
		at, err := auth.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("id > ?", at)
	}
	// With a box, SQLite's statistics sometimes make it walk the whole
	// table in id order instead of searching the box's index and sorting
	// the few rows found; the unary plus keeps id out of its choices.
	order := "id"
	if f.BBox != nil && !s.db.IsPostgres() {
		order = "+id"
	}
	limit := auth.ClampLimit(f.Limit)
	rows, err := s.scanAssets(ctx, q.Order(order).Limit(limit+1))
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = auth.EncodeCursor(rows[len(rows)-1].ID)
	}
	out := make([]AssetView, 0, len(rows))
	for _, a := range rows {
		v, err := s.view(ctx, actor, a)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}

// viewColumns are the columns of an asset its view needs, in the order
// scanAssets reads them: the search keys and the bounding box stay behind.
const viewColumns = "id, owner_id, code, kind, status, geometry, lat, lon, coarse_lat, coarse_lon, unit_code, address, " +
	"in_service_on, height_m, class, structure, tubes, diameter_mm, length_m, restricted, rent_vnd, contact, " +
	"capacity_unit, capacity_total, reserved_units, active_units, version, created_at, updated_at"

// viewColumnsSQLite selects the date in service and the instants as plain
// text: the SQLite driver reads a column declared DATE or DATETIME by trying
// time layouts one after another (nine for a date), which was a tenth of a
// search's time there (docs/performance.md, fourth session).
// infrashare.Date and database.TextInstant read the text themselves.
var viewColumnsSQLite = strings.NewReplacer("in_service_on", "CAST(in_service_on AS TEXT)",
	"created_at", "CAST(created_at AS TEXT)", "updated_at", "CAST(updated_at AS TEXT)").Replace(viewColumns)

// scanAssets runs q for the view columns and scans the rows by position.
// Searches return tens of rows per request many times a second, and GORM's
// reflective scan of every column was most of their time
// (docs/performance.md).
func (s *Service) scanAssets(ctx context.Context, q *gorm.DB) ([]Asset, error) {
	// Scanned in place: an Asset is large, and a copy per row (and per
	// growth of the slice) was most of what a search allocated.
	out := make([]Asset, 0, 64)
	cols, sqlite := viewColumns, !s.db.IsPostgres()
	if sqlite {
		cols = viewColumnsSQLite
	}
	err := s.db.EachRow(ctx, q.Select(cols), func(scan func(...any) error) error {
		out = append(out, Asset{})
		a := &out[len(out)-1]
		created, updated := any(&a.CreatedAt), any(&a.UpdatedAt)
		if sqlite {
			created, updated = database.TextInstant{T: &a.CreatedAt}, database.TextInstant{T: &a.UpdatedAt}
		}
		if err := scan(&a.ID, &a.OwnerID, &a.Code, &a.Kind, &a.Status, &a.Geometry, &a.Lat, &a.Lon, &a.CoarseLat, &a.CoarseLon,
			&a.UnitCode, &a.Address, &a.InServiceOn, &a.HeightM, &a.Class, &a.Structure, &a.Tubes, &a.DiameterMM, &a.LengthM,
			&a.Restricted, &a.RentVND, &a.Contact, &a.CapacityUnit, &a.CapacityTotal, &a.ReservedUnits, &a.ActiveUnits,
			&a.Version, created, updated); err != nil {
			return err
		}
		// As database's query callback does for GORM's own scans.
		a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		return nil
	})
	return out, err
}

// NearbyQuery is GET /api/v1/assets/nearby.
type NearbyQuery struct {
	Lat, Lon float64
	RadiusM  float64
	Kinds    []string
	MinFree  int
	Limit    int
}

// NearbyItem is an asset with its distance from the point asked about.
type NearbyItem struct {
	Asset     AssetView `json:"asset"`
	DistanceM float64   `json:"distance_m"`
}

// Nearby finds assets within a radius, nearest first: for a line asset the
// distance to its nearest point. A restricted site of another organisation
// is placed, filtered and sorted by its rounded position, its distance
// rounded to 100 m, so that repeated queries cannot locate it.
func (s *Service) Nearby(ctx context.Context, actor auth.Actor, nq NearbyQuery) ([]NearbyItem, error) {
	fields := infrashare.FieldErrors{}
	if math.IsNaN(nq.Lat) || nq.Lat < -90 || nq.Lat > 90 {
		fields.Add("lat", "must be a latitude in degrees")
	}
	if math.IsNaN(nq.Lon) || nq.Lon < -180 || nq.Lon > 180 {
		fields.Add("lon", "must be a longitude in degrees")
	}
	if math.IsNaN(nq.RadiusM) || nq.RadiusM < 1 || nq.RadiusM > 50000 {
		fields.Add("radius_m", "must be between 1 and 50000")
	}
	if err := fields.Err(); err != nil {
		return nil, err
	}
	items, err := s.nearbyRows(ctx, actor, nq)
	if err != nil {
		return nil, err
	}
	limit := auth.ClampLimit(nq.Limit)
	if len(items) > limit {
		items = items[:limit]
	}
	out := make([]NearbyItem, 0, len(items))
	for _, it := range items {
		v, err := s.view(ctx, actor, *it.asset)
		if err != nil {
			return nil, err
		}
		out = append(out, NearbyItem{Asset: v, DistanceM: it.distance})
	}
	return out, nil
}

type candidate struct {
	asset    *Asset
	distance float64
}

// nearbyRows finds the candidates, measures and sorts them.
func (s *Service) nearbyRows(ctx context.Context, actor auth.Actor, nq NearbyQuery) ([]candidate, error) {
	box := searchBox(nq.Lat, nq.Lon, nq.RadiusM)
	f := AssetFilter{Kinds: nq.Kinds, MinFree: nq.MinFree, BBox: &box}
	q, err := s.scope(ctx, actor, f)
	if err != nil {
		return nil, err
	}
	rows, err := s.scanAssets(ctx, q)
	if err != nil {
		return nil, err
	}
	origin := orb.Point{nq.Lon, nq.Lat}
	out := make([]candidate, 0, len(rows))
	for i := range rows {
		a := &rows[i]
		var d float64
		if p, ok := viewPoint(actor, *a); ok {
			d = distanceTo(origin, p)
			if !exactFor(actor, *a) {
				d = math.Round(d/100) * 100
			}
		} else {
			sh, err := lineOf(*a)
			if err != nil {
				continue
			}
			d = distanceTo(origin, sh)
		}
		if d > nq.RadiusM {
			continue
		}
		out = append(out, candidate{asset: a, distance: math.Round(d*10) / 10})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].distance != out[j].distance {
			return out[i].distance < out[j].distance
		}
		return out[i].asset.ID < out[j].asset.ID
	})
	return out, nil
}
