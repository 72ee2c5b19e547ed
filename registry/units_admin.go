package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
)

// Admin operations on administrative units: list, create, import
// boundaries, retire. Units are identified by (code, valid_from); the rows
// of one code never overlap in time, so "the unit with this code on that
// day" is always one row.

// unitLevels ranks the levels, highest first: a parent's rank is lower.
var unitLevels = map[string]int{"province": 1, "district": 2, "commune": 3}

// unitCodePattern is a GSO code: digits and letters, 1 to 16 of them.
var unitCodePattern = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)

// Bounds of one boundary and of one import, so that no input makes the
// server work without end.
const (
	maxBoundaryPositions  = 1_000_000
	maxBoundaryPairChecks = 50_000_000
	maxImportFeatures     = 100_000
	maxImportRowErrors    = 1000
)

// unitsLockKey is the PostgreSQL advisory lock that serialises unit writes
// ("infrunt" in ASCII), so that two admins cannot both pass the check that
// a code's periods do not overlap. On SQLite a writing transaction is alone
// already.
const unitsLockKey int64 = 0x696e6672756e74

// lockUnitWrites takes that lock for the rest of ctx's transaction.
func (u *Units) lockUnitWrites(ctx context.Context) error {
	if !u.db.IsPostgres() {
		return nil
	}
	return u.db.Conn(ctx).Exec("SELECT pg_advisory_xact_lock(?)", unitsLockKey).Error
}

// auditLog is the one audit log: an Audit holds nothing but the handle and
// the clock, so a fresh one on the service's own is the same log.
func (u *Units) auditLog() *auth.Audit { return auth.NewAudit(u.db, u.clock) }

// UnitView is an administrative unit on the wire.
type UnitView struct {
	ID          int64           `json:"id"`
	Code        string          `json:"code"`
	Name        string          `json:"name"`
	Level       string          `json:"level"`
	ParentCode  *string         `json:"parent_code"`
	Urban       bool            `json:"urban"`
	ValidFrom   infrashare.Date `json:"valid_from"`
	ValidTo     infrashare.Date `json:"valid_to"` // null: open-ended
	HasBoundary bool            `json:"has_boundary"`
	// BBox is [minLon, minLat, maxLon, maxLat] of the boundary, or null.
	BBox *[4]float64 `json:"bbox"`
	// Boundary is the GeoJSON geometry, only when asked for.
	Boundary json.RawMessage `json:"boundary,omitempty"`
}

func unitViewOf(r unitRow, hasBoundary, withBoundary bool) UnitView {
	v := UnitView{ID: r.ID, Code: r.Code, Name: r.Name, Level: r.Level, ParentCode: r.ParentCode, Urban: r.Urban,
		ValidFrom: r.ValidFrom, ValidTo: r.ValidTo, HasBoundary: hasBoundary}
	if r.MinLat != nil && r.MinLon != nil && r.MaxLat != nil && r.MaxLon != nil {
		v.BBox = &[4]float64{*r.MinLon, *r.MinLat, *r.MaxLon, *r.MaxLat}
	}
	if withBoundary && r.Boundary != nil {
		v.Boundary = json.RawMessage(*r.Boundary)
	}
	return v
}

func requireUnitAdmin(actor auth.Actor) error {
	if actor.System || actor.Has(auth.RoleAdmin) {
		return nil
	}
	return infrashare.Forbidden("only admins change administrative units")
}

// UnitFilter selects units; zero fields do not filter.
type UnitFilter struct {
	Level  string
	Parent string // parent code
	// On keeps the units valid that day.
	On infrashare.Date
	// Q keeps units whose code or name contains it.
	Q string
	// Boundary includes each unit's GeoJSON boundary (for map clients).
	Boundary bool
	Limit    int
	Cursor   string
}

// unitListRow is a unit row read for a list: the boundary only on request.
type unitListRow struct {
	Row         unitRow `gorm:"embedded"`
	HasBoundary int
}

// List returns units by id. Every signed-in role reads units.
func (u *Units) List(ctx context.Context, actor auth.Actor, f UnitFilter) ([]UnitView, string, error) {
	if !actor.System && len(actor.Roles) == 0 {
		return nil, "", infrashare.Forbidden("sign in to read administrative units")
	}
	if f.Level != "" && unitLevels[f.Level] == 0 {
		return nil, "", infrashare.Invalid("level", "must be one of: province, district, commune")
	}
	limit := auth.ClampLimit(f.Limit)
	cols := "id, code, valid_from, valid_to, name, level, parent_code, urban, min_lat, min_lon, max_lat, max_lon, " +
		"CASE WHEN boundary IS NULL THEN 0 ELSE 1 END AS has_boundary"
	if f.Boundary {
		cols += ", boundary"
	}
	q := u.db.Conn(ctx).Table("admin_units").Select(cols)
	if f.Level != "" {
		q = q.Where("level = ?", f.Level)
	}
	if f.Parent != "" {
		q = q.Where("parent_code = ?", strings.TrimSpace(f.Parent))
	}
	if !f.On.IsZero() {
		q = q.Where("valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)", f.On, f.On)
	}
	if s := strings.TrimSpace(f.Q); s != "" {
		raw := "%" + unitLikeEscape(s) + "%"
		lower := "%" + unitLikeEscape(strings.ToLower(s)) + "%"
		// LOWER is ASCII-only on SQLite: the raw text catches names typed
		// with their Vietnamese capitals.
		q = q.Where("(LOWER(code) LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')", lower, lower, raw)
	}
	if f.Cursor != "" {
		id, err := auth.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("id > ?", id)
	}
	var rows []unitListRow
	if err := q.Order("id").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = auth.EncodeCursor(rows[len(rows)-1].Row.ID)
	}
	out := make([]UnitView, 0, len(rows))
	for _, r := range rows {
		out = append(out, unitViewOf(r.Row, r.HasBoundary != 0, f.Boundary))
	}
	return out, next, nil
}

// unitLikeEscape makes user text literal inside a LIKE pattern.
func unitLikeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// NewUnit is the body of POST /api/v1/admin-units. Dates are "YYYY-MM-DD".
type NewUnit struct {
	Code       string `json:"code" validate:"required,max=16"`
	Name       string `json:"name" validate:"required,max=200"`
	Level      string `json:"level" validate:"required,oneof=province district commune"`
	ParentCode string `json:"parent_code" validate:"max=16"`
	Urban      bool   `json:"urban"`
	ValidFrom  string `json:"valid_from" validate:"required"`
	ValidTo    string `json:"valid_to"`
	// Boundary is an optional GeoJSON Polygon or MultiPolygon.
	Boundary json.RawMessage `json:"boundary"`
}

// unitIndex holds unit rows (without boundaries) by code: what the checks
// of a create or an import look up.
type unitIndex map[string][]unitRow

func (u *Units) loadIndex(ctx context.Context, codes ...string) (unitIndex, error) {
	q := u.db.Conn(ctx).Table("admin_units").
		Select("id, code, valid_from, valid_to, name, level, parent_code, urban, min_lat, min_lon, max_lat, max_lon")
	if len(codes) > 0 {
		q = q.Where("code IN ?", codes)
	}
	var rows []unitRow
	if err := q.Order("id").Scan(&rows).Error; err != nil {
		return nil, err
	}
	idx := unitIndex{}
	for _, r := range rows {
		idx[r.Code] = append(idx[r.Code], r)
	}
	return idx, nil
}

// on returns the row of code valid on day.
func (idx unitIndex) on(code string, day infrashare.Date) (unitRow, bool) {
	for _, r := range idx[code] {
		if validOn(r.ValidFrom, r.ValidTo, day) {
			return r, true
		}
	}
	return unitRow{}, false
}

// overlapping returns a row of code whose period meets [from, to).
func (idx unitIndex) overlapping(code string, from, to infrashare.Date) (unitRow, bool) {
	for _, r := range idx[code] {
		if (r.ValidTo.IsZero() || from.Before(r.ValidTo)) && (to.IsZero() || r.ValidFrom.Before(to)) {
			return r, true
		}
	}
	return unitRow{}, false
}

func period(r unitRow) string {
	if r.ValidTo.IsZero() {
		return "from " + r.ValidFrom.String() + ", open-ended"
	}
	return "from " + r.ValidFrom.String() + " to " + r.ValidTo.String()
}

func (u *Units) serviceArea(ctx context.Context) (ServiceArea, error) {
	area := DefaultServiceArea
	err := auth.NewSettings(u.db, u.clock).Get(ctx, "service_area", &area)
	return area, err
}

// checkNewUnit checks a new unit against the rows known (the database's
// and, in an import, the ones created earlier in the file). Field errors
// name the JSON fields; conflict is set when the unit's period meets an
// existing row of its code.
func checkNewUnit(in NewUnit, idx unitIndex, area ServiceArea, createdAt time.Time) (row unitRow, fields infrashare.FieldErrors, conflict string) {
	fields = infrashare.FieldErrors{}
	in.Code = strings.TrimSpace(in.Code)
	in.Name = strings.TrimSpace(in.Name)
	in.Level = strings.TrimSpace(in.Level)
	in.ParentCode = strings.TrimSpace(in.ParentCode)
	if err := infrashare.Validate(in); err != nil {
		var e *infrashare.Error
		if errors.As(err, &e) {
			for k, v := range e.Fields {
				fields.Add(k, v)
			}
		}
	}
	if in.Code != "" && !unitCodePattern.MatchString(in.Code) {
		fields.Add("code", "must be 1 to 16 digits or letters, such as 916 or 31117")
	}
	var from, to infrashare.Date
	if in.ValidFrom != "" {
		d, err := infrashare.ParseDate(in.ValidFrom)
		if err != nil {
			fields.Add("valid_from", "must be a date YYYY-MM-DD")
		}
		from = d
	}
	if in.ValidTo != "" {
		d, err := infrashare.ParseDate(in.ValidTo)
		if err != nil {
			fields.Add("valid_to", "must be a date YYYY-MM-DD")
		} else if !from.IsZero() && !d.After(from) {
			fields.Add("valid_to", "must be after valid_from")
		}
		to = d
	}
	rank := unitLevels[in.Level]
	switch {
	case rank == 0:
	case rank == 1 && in.ParentCode != "":
		fields.Add("parent_code", "a province has no parent")
	case rank > 1 && in.ParentCode == "":
		fields.Add("parent_code", "is required for a "+in.Level)
	case rank > 1 && !from.IsZero():
		p, ok := idx.on(in.ParentCode, from)
		if !ok {
			fields.Add("parent_code", fmt.Sprintf("no unit with code %s is valid on %s", in.ParentCode, from))
		} else if unitLevels[p.Level] >= rank {
			fields.Add("parent_code", fmt.Sprintf("%s is a %s: the parent of a %s must be of a higher level", p.Code, p.Level, in.Level))
		}
	}
	var b *unitBoundary
	if len(in.Boundary) > 0 && string(in.Boundary) != "null" {
		bb, err := parseUnitBoundary(in.Boundary, area)
		if err != nil {
			fields.Add("boundary", err.Error())
		}
		b = bb
	}
	if len(fields) > 0 {
		return unitRow{}, fields, ""
	}
	if r, ok := idx.overlapping(in.Code, from, to); ok {
		return unitRow{}, fields, fmt.Sprintf("unit %s exists already %s; retire it before its successor starts", in.Code, period(r))
	}
	row = unitRow{CreatedAt: createdAt}
	row.Code, row.Name, row.Level, row.Urban, row.ValidFrom, row.ValidTo = in.Code, in.Name, in.Level, in.Urban, from, to
	if in.ParentCode != "" {
		p := in.ParentCode
		row.ParentCode = &p
	}
	b.apply(&row)
	return row, fields, ""
}

// Create registers a unit (admins). (code, valid_from) is unique and the
// periods of one code never overlap: either is a conflict.
func (u *Units) Create(ctx context.Context, actor auth.Actor, in NewUnit) (UnitView, error) {
	if err := requireUnitAdmin(actor); err != nil {
		return UnitView{}, err
	}
	area, err := u.serviceArea(ctx)
	if err != nil {
		return UnitView{}, err
	}
	var out UnitView
	err = u.db.Tx(ctx, func(ctx context.Context) error {
		if err := u.lockUnitWrites(ctx); err != nil {
			return err
		}
		idx, err := u.loadIndex(ctx, strings.TrimSpace(in.Code), strings.TrimSpace(in.ParentCode))
		if err != nil {
			return err
		}
		row, fields, conflict := checkNewUnit(in, idx, area, u.clock.Now().UTC())
		if err := fields.Err(); err != nil {
			return err
		}
		if conflict != "" {
			return infrashare.Conflict("%s", conflict)
		}
		if err := u.db.Conn(ctx).Create(&row).Error; err != nil {
			if database.IsUniqueViolation(err) {
				return infrashare.Conflict("unit %s valid from %s exists already", row.Code, row.ValidFrom)
			}
			return err
		}
		out = unitViewOf(row, row.Boundary != nil, false)
		return u.auditLog().Record(ctx, actor, auth.Change{Action: "unit.create", ObjectType: "admin_unit",
			ObjectID: strconv.FormatInt(row.ID, 10), After: out})
	})
	if err != nil {
		return UnitView{}, err
	}
	u.Invalidate()
	return out, nil
}

// Retire ends the unit of code valid on day on: its valid_to becomes on, so
// it is valid up to the day before. Records made under it keep it; nothing
// else changes.
func (u *Units) Retire(ctx context.Context, actor auth.Actor, code string, on infrashare.Date) (UnitView, error) {
	if err := requireUnitAdmin(actor); err != nil {
		return UnitView{}, err
	}
	if on.IsZero() {
		return UnitView{}, infrashare.Invalid("on", "is required")
	}
	code = strings.TrimSpace(code)
	var out UnitView
	err := u.db.Tx(ctx, func(ctx context.Context) error {
		if err := u.lockUnitWrites(ctx); err != nil {
			return err
		}
		var rows []unitRow
		if err := u.db.Conn(ctx).Where("code = ?", code).Find(&rows).Error; err != nil {
			return err
		}
		var row unitRow
		found := false
		for _, r := range rows {
			if validOn(r.ValidFrom, r.ValidTo, on) {
				row, found = r, true
			}
		}
		if !found {
			return infrashare.NotFound(fmt.Sprintf("unit %s valid on %s", code, on))
		}
		if !on.After(row.ValidFrom) {
			return infrashare.Invalid("on", fmt.Sprintf("must be after the unit's valid_from (%s)", row.ValidFrom))
		}
		before := unitViewOf(row, row.Boundary != nil, false)
		res := u.db.Conn(ctx).Table("admin_units").
			Where("id = ? AND (valid_to IS NULL OR valid_to > ?)", row.ID, on).Update("valid_to", on)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return infrashare.Conflict("unit %s was changed meanwhile; try again", code)
		}
		row.ValidTo = on
		out = unitViewOf(row, row.Boundary != nil, false)
		return u.auditLog().Record(ctx, actor, auth.Change{Action: "unit.retire", ObjectType: "admin_unit",
			ObjectID: strconv.FormatInt(row.ID, 10), Before: before, After: out})
	})
	if err != nil {
		return UnitView{}, err
	}
	u.Invalidate()
	return out, nil
}

// UnitImportResult is the answer of a boundary import.
type UnitImportResult struct {
	Updated int  `json:"updated"`
	Created int  `json:"created"`
	DryRun  bool `json:"dry_run"`
}

// UnitImportRowError is one problem of one feature of a refused import
// (DESIGN §4's rows: line is the feature's 1-based index in the collection,
// column the property or "geometry").
type UnitImportRowError struct {
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// unitFeature is one feature read and checked on its own, before the
// database is asked.
type unitFeature struct {
	line     int
	create   bool
	code     string
	from     infrashare.Date // zero: the unit valid today
	boundary *unitBoundary
	newUnit  NewUnit
}

// ImportBoundaries reads a GeoJSON FeatureCollection and sets the boundary
// of the existing unit each feature names (properties.code, and
// properties.valid_from or else the unit valid today), or with
// properties.create true registers a new unit with it. All features or
// none: any bad feature answers a validation error listing every bad
// feature, and nothing is written. A dry run checks without writing. One
// audit event records the counts.
func (u *Units) ImportBoundaries(ctx context.Context, actor auth.Actor, body []byte, dryRun bool) (UnitImportResult, error) {
	if err := requireUnitAdmin(actor); err != nil {
		return UnitImportResult{}, err
	}
	feats, bad, total, err := u.readFeatures(ctx, body)
	if err != nil {
		return UnitImportResult{}, err
	}
	res := UnitImportResult{DryRun: dryRun}
	var updates []unitRow
	var creates []unitRow
	plan := func(ctx context.Context) error {
		idx, err := u.loadIndex(ctx)
		if err != nil {
			return err
		}
		area, err := u.serviceArea(ctx)
		if err != nil {
			return err
		}
		rows := append([]UnitImportRowError(nil), bad...)
		updates, creates, rows = u.resolveFeatures(feats, idx, area, rows)
		if len(rows) > 0 {
			return importError(rows, total)
		}
		res.Updated, res.Created = len(updates), len(creates)
		return nil
	}
	if dryRun {
		return res, plan(ctx)
	}
	sum := sha256.Sum256(body)
	err = u.db.Tx(ctx, func(ctx context.Context) error {
		if err := u.lockUnitWrites(ctx); err != nil {
			return err
		}
		if err := plan(ctx); err != nil {
			return err
		}
		tx := u.db.Conn(ctx)
		for _, r := range updates {
			if err := tx.Table("admin_units").Where("id = ?", r.ID).Updates(map[string]any{
				"boundary": r.Boundary, "min_lat": r.MinLat, "min_lon": r.MinLon, "max_lat": r.MaxLat, "max_lon": r.MaxLon,
			}).Error; err != nil {
				return err
			}
		}
		for i := range creates {
			if err := tx.Create(&creates[i]).Error; err != nil {
				if database.IsUniqueViolation(err) {
					return infrashare.Conflict("unit %s valid from %s was created meanwhile; nothing was imported", creates[i].Code, creates[i].ValidFrom)
				}
				return err
			}
		}
		return u.auditLog().Record(ctx, actor, auth.Change{Action: "unit.import_boundaries", ObjectType: "admin_unit",
			After: map[string]any{"updated": res.Updated, "created": res.Created, "features": res.Updated + res.Created,
				"sha256": hex.EncodeToString(sum[:])}})
	})
	if err != nil {
		return UnitImportResult{}, err
	}
	u.Invalidate()
	return res, nil
}

func importError(rows []UnitImportRowError, total int) error {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Line < rows[j].Line })
	lines := map[int]bool{}
	for _, r := range rows {
		lines[r.Line] = true
	}
	details := map[string]any{"rows": rows}
	if len(rows) > maxImportRowErrors {
		details["rows"] = rows[:maxImportRowErrors]
		details["rows_truncated"] = true
	}
	return &infrashare.Error{Code: infrashare.EINVALID, Details: details,
		Message: fmt.Sprintf("%d of %d features are invalid; nothing was imported", len(lines), total)}
}

// readFeatures parses the collection and checks each feature on its own.
// A body that is not a FeatureCollection at all is an error; a bad feature
// is a row.
func (u *Units) readFeatures(ctx context.Context, body []byte) (feats []unitFeature, bad []UnitImportRowError, total int, err error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, nil, 0, infrashare.Errorf(infrashare.EMALFORMED, "the body is empty; send a GeoJSON FeatureCollection")
	}
	if !utf8.Valid(body) {
		return nil, nil, 0, infrashare.Errorf(infrashare.EMALFORMED, "the body is not valid UTF-8")
	}
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, nil, 0, infrashare.Errorf(infrashare.EMALFORMED, "the body is not valid JSON (at byte %d)", syn.Offset)
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return nil, nil, 0, infrashare.Invalid(typ.Field, "is not what a GeoJSON FeatureCollection has there")
		}
		return nil, nil, 0, infrashare.Errorf(infrashare.EMALFORMED, "the body must be a GeoJSON FeatureCollection object")
	}
	if fc.Type != "FeatureCollection" {
		return nil, nil, 0, infrashare.Invalid("type", "must be FeatureCollection")
	}
	if len(fc.Features) == 0 {
		return nil, nil, 0, infrashare.Invalid("features", "the collection has no features")
	}
	if len(fc.Features) > maxImportFeatures {
		return nil, nil, 0, infrashare.Invalid("features", fmt.Sprintf("at most %d features in one import", maxImportFeatures))
	}
	area, err := u.serviceArea(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	for i, raw := range fc.Features {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		f, rows := readFeature(i+1, raw, area)
		if len(rows) > 0 {
			bad = append(bad, rows...)
			continue
		}
		feats = append(feats, f)
	}
	return feats, bad, len(fc.Features), nil
}

func readFeature(line int, raw json.RawMessage, area ServiceArea) (unitFeature, []UnitImportRowError) {
	var rows []UnitImportRowError
	fail := func(column, reason string) {
		rows = append(rows, UnitImportRowError{Line: line, Column: column, Reason: reason})
	}
	var feat struct {
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Geometry   json.RawMessage            `json:"geometry"`
	}
	if err := json.Unmarshal(raw, &feat); err != nil || feat.Type != "Feature" {
		fail("feature", "must be a GeoJSON Feature with properties and a geometry")
		return unitFeature{}, rows
	}
	p := feat.Properties
	f := unitFeature{line: line}
	str := func(name string) string {
		v, ok := p[name]
		if !ok || string(v) == "null" {
			return ""
		}
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			return strings.TrimSpace(s)
		}
		var n json.Number
		dec := json.NewDecoder(strings.NewReader(string(v)))
		dec.UseNumber()
		if err := dec.Decode(&n); err == nil {
			if _, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
				return n.String()
			}
		}
		fail(name, "must be a string")
		return ""
	}
	flag := func(name string) bool {
		v, ok := p[name]
		if !ok || string(v) == "null" {
			return false
		}
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			fail(name, "must be true or false")
		}
		return b
	}
	f.code = str("code")
	f.create = flag("create")
	from := str("valid_from")
	if !f.create {
		switch {
		case f.code == "":
			fail("code", "is required")
		case !unitCodePattern.MatchString(f.code):
			fail("code", "must be 1 to 16 digits or letters")
		}
		if from != "" {
			d, err := infrashare.ParseDate(from)
			if err != nil {
				fail("valid_from", "must be a date YYYY-MM-DD")
			}
			f.from = d
		}
		if len(feat.Geometry) == 0 || string(feat.Geometry) == "null" {
			fail("geometry", "is required: a Polygon or MultiPolygon")
		} else if b, err := parseUnitBoundary(feat.Geometry, area); err != nil {
			fail("geometry", err.Error())
		} else {
			f.boundary = b
		}
		return f, rows
	}
	f.newUnit = NewUnit{Code: f.code, Name: str("name"), Level: str("level"), ParentCode: str("parent_code"),
		Urban: flag("urban"), ValidFrom: from, ValidTo: str("valid_to"), Boundary: feat.Geometry}
	if len(feat.Geometry) == 0 || string(feat.Geometry) == "null" {
		fail("geometry", "is required: a Polygon or MultiPolygon")
	}
	return f, rows
}

// resolveFeatures matches the read features against the units known: each
// update to one existing row, each create checked like Create (earlier
// creates of the file count as known). It returns the rows to write and the
// errors added to rows.
func (u *Units) resolveFeatures(feats []unitFeature, idx unitIndex, area ServiceArea, rows []UnitImportRowError) ([]unitRow, []unitRow, []UnitImportRowError) {
	today := auth.Today(u.clock)
	var updates, creates []unitRow
	setBy := map[int64]int{} // row id → the feature that sets it
	for _, f := range feats {
		if f.create {
			row, fields, conflict := checkNewUnit(f.newUnit, idx, area, u.clock.Now().UTC())
			names := make([]string, 0, len(fields))
			for k := range fields {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				column := k
				if k == "boundary" {
					column = "geometry"
				}
				rows = append(rows, UnitImportRowError{Line: f.line, Column: column, Reason: fields[k]})
			}
			if conflict != "" {
				rows = append(rows, UnitImportRowError{Line: f.line, Column: "code", Reason: conflict})
			}
			if len(fields) == 0 && conflict == "" {
				creates = append(creates, row)
				idx[row.Code] = append(idx[row.Code], row)
			}
			continue
		}
		var row unitRow
		found := false
		if f.from.IsZero() {
			row, found = idx.on(f.code, today)
			if !found {
				rows = append(rows, UnitImportRowError{Line: f.line, Column: "code",
					Reason: fmt.Sprintf("no unit with code %s is valid today (%s); give valid_from, or create: true for a new unit", f.code, today)})
				continue
			}
		} else {
			for _, r := range idx[f.code] {
				if r.ValidFrom == f.from {
					row, found = r, true
				}
			}
			if !found {
				rows = append(rows, UnitImportRowError{Line: f.line, Column: "valid_from",
					Reason: fmt.Sprintf("no unit with code %s is valid from %s", f.code, f.from)})
				continue
			}
		}
		if row.ID == 0 {
			rows = append(rows, UnitImportRowError{Line: f.line, Column: "code",
				Reason: "this unit is created by this file: give its geometry in the feature that creates it"})
			continue
		}
		if prev, ok := setBy[row.ID]; ok {
			rows = append(rows, UnitImportRowError{Line: f.line, Column: "code",
				Reason: fmt.Sprintf("feature %d sets the boundary of this unit already", prev)})
			continue
		}
		setBy[row.ID] = f.line
		f.boundary.apply(&row)
		updates = append(updates, row)
	}
	return updates, creates, rows
}

// unitBoundary is a checked boundary: its GeoJSON text and bounding box.
type unitBoundary struct {
	geojson string
	bound   orb.Bound
}

func (b *unitBoundary) apply(r *unitRow) {
	if b == nil {
		return
	}
	s := b.geojson
	minLat, minLon, maxLat, maxLon := b.bound.Min[1], b.bound.Min[0], b.bound.Max[1], b.bound.Max[0]
	r.Boundary, r.MinLat, r.MinLon, r.MaxLat, r.MaxLon = &s, &minLat, &minLon, &maxLat, &maxLon
}

// parseUnitBoundary reads a GeoJSON Polygon or MultiPolygon and checks it:
// positions [lon, lat] (an altitude is dropped) with finite coordinates
// inside the service area; rings of at least four positions, closed, with
// an area, not crossing themselves; holes inside their exterior ring. The
// error's text is the reason for the client.
func parseUnitBoundary(raw json.RawMessage, area ServiceArea) (*unitBoundary, error) {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("must be a GeoJSON geometry object")
	}
	var geom orb.Geometry
	budget := &checkBudget{pairs: maxBoundaryPairChecks, positions: maxBoundaryPositions}
	switch g.Type {
	case "Polygon":
		var c [][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil || c == nil {
			return nil, fmt.Errorf("the coordinates of a Polygon must be a list of rings of [lon, lat] positions")
		}
		p, err := polygonOf(c, area, budget, "")
		if err != nil {
			return nil, err
		}
		geom = p
	case "MultiPolygon":
		var c [][][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil || c == nil {
			return nil, fmt.Errorf("the coordinates of a MultiPolygon must be a list of polygons, each a list of rings of [lon, lat] positions")
		}
		if len(c) == 0 {
			return nil, fmt.Errorf("a MultiPolygon needs at least one polygon")
		}
		mp := make(orb.MultiPolygon, 0, len(c))
		for i, pc := range c {
			p, err := polygonOf(pc, area, budget, fmt.Sprintf("polygon %d: ", i+1))
			if err != nil {
				return nil, err
			}
			mp = append(mp, p)
		}
		geom = mp
	case "":
		return nil, fmt.Errorf("must be a GeoJSON geometry with a type (Polygon or MultiPolygon)")
	default:
		return nil, fmt.Errorf("must be a Polygon or MultiPolygon, not a %.40s", g.Type)
	}
	out, err := geojson.NewGeometry(geom).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("cannot be encoded")
	}
	return &unitBoundary{geojson: string(out), bound: geom.Bound()}, nil
}

type checkBudget struct{ pairs, positions int }

func polygonOf(c [][][]float64, area ServiceArea, budget *checkBudget, where string) (orb.Polygon, error) {
	if len(c) == 0 {
		return nil, fmt.Errorf("%sa polygon needs an exterior ring", where)
	}
	p := make(orb.Polygon, 0, len(c))
	for i, rc := range c {
		name := fmt.Sprintf("%sring %d", where, i+1)
		budget.positions -= len(rc)
		if budget.positions < 0 {
			return nil, fmt.Errorf("has more than %d positions; simplify it", maxBoundaryPositions)
		}
		r, err := ringOf(rc, area, budget, name)
		if err != nil {
			return nil, err
		}
		if i > 0 && !planar.RingContains(p[0], r[0]) {
			return nil, fmt.Errorf("%s (a hole) lies outside the exterior ring", name)
		}
		p = append(p, r)
	}
	return p, nil
}

func ringOf(c [][]float64, area ServiceArea, budget *checkBudget, name string) (orb.Ring, error) {
	if len(c) < 4 {
		return nil, fmt.Errorf("%s has %d positions; a ring needs at least 4, the last repeating the first", name, len(c))
	}
	r := make(orb.Ring, 0, len(c))
	for j, pos := range c {
		if len(pos) < 2 || len(pos) > 3 {
			return nil, fmt.Errorf("%s, position %d: a position is [lon, lat]", name, j+1)
		}
		lon, lat := pos[0], pos[1]
		if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
			return nil, fmt.Errorf("%s, position %d: a coordinate is not a finite number", name, j+1)
		}
		if !area.contains(lon, lat) {
			return nil, fmt.Errorf("%s, position %d: outside the service area (lat %.1f–%.1f, lon %.1f–%.1f; positions are [lon, lat])",
				name, j+1, area.MinLat, area.MaxLat, area.MinLon, area.MaxLon)
		}
		pt := orb.Point{lon, lat}
		if len(r) > 0 && r[len(r)-1] == pt {
			continue // a repeated position adds nothing
		}
		r = append(r, pt)
	}
	if first, last := (orb.Point{c[0][0], c[0][1]}), (orb.Point{c[len(c)-1][0], c[len(c)-1][1]}); first != last {
		return nil, fmt.Errorf("%s is not closed: its last position must repeat its first", name)
	}
	if len(r) < 4 {
		return nil, fmt.Errorf("%s has fewer than 3 distinct positions", name)
	}
	if planar.Area(r) == 0 {
		return nil, fmt.Errorf("%s has no area", name)
	}
	if err := ringSimple(r, budget); err != nil {
		return nil, fmt.Errorf("%s %v", name, err)
	}
	return r, nil
}

// ringSimple reports a ring that crosses or touches itself, by a sweep over
// the segments sorted by their west end: only segments whose x ranges meet
// are compared.
func ringSimple(r orb.Ring, budget *checkBudget) error {
	n := len(r) - 1 // segments; r is closed
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	minX := func(i int) float64 { return math.Min(r[i][0], r[i+1][0]) }
	maxX := func(i int) float64 { return math.Max(r[i][0], r[i+1][0]) }
	sort.Slice(order, func(a, b int) bool { return minX(order[a]) < minX(order[b]) })
	var active []int
	for _, s := range order {
		x := minX(s)
		kept := active[:0]
		for _, a := range active {
			if maxX(a) >= x {
				kept = append(kept, a)
			}
		}
		active = kept
		for _, a := range active {
			budget.pairs--
			if budget.pairs < 0 {
				return fmt.Errorf("is too complex to check; simplify it")
			}
			if segmentsClash(r, a, s, n) {
				return fmt.Errorf("crosses or touches itself (near [%g, %g])", r[s][0], r[s][1])
			}
		}
		active = append(active, s)
	}
	return nil
}

// segmentsClash reports whether segments i and j of a closed ring with n
// segments meet anywhere but at the point neighbours share (or, for
// neighbours, fold back onto each other).
func segmentsClash(r orb.Ring, i, j, n int) bool {
	if i > j {
		i, j = j, i
	}
	a, b, c, d := r[i], r[i+1], r[j], r[j+1]
	switch {
	case j == i+1: // b == c
		return orient(a, b, d) == 0 && dot(a, b, d) > 0
	case i == 0 && j == n-1: // d == a
		return orient(c, a, b) == 0 && dot(c, a, b) > 0
	}
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	if o1 != o2 && o3 != o4 {
		return true
	}
	return (o1 == 0 && onSegment(a, b, c)) || (o2 == 0 && onSegment(a, b, d)) ||
		(o3 == 0 && onSegment(c, d, a)) || (o4 == 0 && onSegment(c, d, b))
}

// orient is the sign of the turn p→q→r: 1 left, -1 right, 0 straight.
func orient(p, q, r orb.Point) int {
	v := (q[0]-p[0])*(r[1]-p[1]) - (q[1]-p[1])*(r[0]-p[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// dot is the dot product of (p − m) and (q − m): positive when p and q lie
// on the same side of m along a line.
func dot(p, m, q orb.Point) float64 {
	return (p[0]-m[0])*(q[0]-m[0]) + (p[1]-m[1])*(q[1]-m[1])
}

// onSegment reports whether r, collinear with p–q, lies within it.
func onSegment(p, q, r orb.Point) bool {
	return r[0] >= math.Min(p[0], q[0]) && r[0] <= math.Max(p[0], q[0]) &&
		r[1] >= math.Min(p[1], q[1]) && r[1] <= math.Max(p[1], q[1])
}
