package registry

// Bulk import of assets (CSV or GeoJSON, WGS84 or VN-2000) and of existing
// tenancies (CSV), all rows or none (DESIGN §4 "Asset CSV import", issue 4
// point 7).
//
// Decisions, also for the README:
//
//   - Rows are keyed by (owner, code). A known code updates that asset in
//     place (same id); its version goes up only when something changed, so
//     importing the same file twice changes nothing the second time. An
//     unknown code creates an asset. A code twice in one file is an error on
//     the later line.
//   - A column left out of the file keeps the stored value of an asset that
//     exists (a file of code, kind, lat, lon, capacity_total changes the
//     capacities and leaves addresses alone); an empty cell in a column that
//     is present means "no value" (the field's default for status and
//     capacity). The kind of an existing asset cannot change.
//   - The read-only columns of the CSV export (id, owner, capacity_reserved,
//     capacity_active, capacity_free, length_m) are accepted and ignored, so
//     that an export imports again unchanged. Any other unknown column is an
//     error on line 1. Cells the export neutralised against formula injection
//     ('=…, '+…, '-…, '@…) lose that leading quote again.
//   - Positions: lat and lon (WGS84), or x and y (VN-2000: x the NORTHING, y
//     the EASTING, Vietnamese survey convention), or geometry as WKT
//     POINT(…) / LINESTRING(…). WKT is written in the request's CRS and, as in
//     every GIS, in axis order "easting northing": LINESTRING(lon lat, …) for
//     WGS84, LINESTRING(y x, …) — easting first — for VN-2000. GeoJSON
//     coordinates are likewise [lon, lat] or [easting, northing].
//   - Unit codes: a row whose unit_code equals the stored one of an asset
//     that has not moved keeps it without re-checking it, as PATCH does: the
//     record keeps the unit it was made under even after that unit retired,
//     so an export of 2024 data imports again in 2026.
//   - CSV: UTF-8 with or without BOM; the separator is a comma, or a
//     semicolon when the header line holds semicolons and no commas (Excel
//     in a Vietnamese locale); numbers use a decimal point.
//
// Speed: every row is checked by build, the same code as POST
// /api/v1/assets, against a snapshot of the units taken at the start (so
// checking reads nothing from the database), and each distinct (located
// unit, given code) pair is checked once (importUnitCheck). New rows go to
// the database as they are checked, in one COPY on PostgreSQL and in
// multi-row INSERTs of literals on SQLite (database.InsertRows), while the
// rows after them are checked; a problem found on the way rolls it all
// back.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
)

// ImportOptions say how to read an asset import.
type ImportOptions struct {
	// Format is "csv" or "geojson".
	Format string
	// CRS is "wgs84" (the default) or "vn2000".
	CRS string
	// Lon0 is the VN-2000 zone's central meridian in degrees (102–110),
	// required with CRS vn2000.
	Lon0 float64
	// DryRun checks everything and writes nothing.
	DryRun bool
}

// ImportResult counts what an import did (or, dry, would do).
type ImportResult struct {
	Rows      int  `json:"rows"`
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	DryRun    bool `json:"dry_run"`
}

// RowError is one problem of one row of a refused import: line is the line
// in the CSV file (the header is line 1) or the feature's 1-based index in a
// GeoJSON FeatureCollection; column is the CSV column or GeoJSON property.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// Import bounds.
const (
	// importMaxRows bounds one import (50 000 rows must fit; the body limit
	// is 100 MiB).
	importMaxRows = 100_000
	// importMaxRowErrors bounds the problems listed in an error.
	importMaxRowErrors = 1000
	// importBatch is the rows per INSERT of allocations (14 columns; the
	// SQLite driver binds parameters in quadratic time).
	importBatch = 100
	// importLookup is the codes per IN (…) lookup.
	importLookup = 1000
)

// CRSs of an import.
const (
	CRSWGS84  = "wgs84"
	CRSVN2000 = "vn2000"
)

// importColumns are the columns an asset CSV may name (DESIGN §4).
var importColumns = []string{"code", "kind", "status", "lat", "lon", "x", "y", "geometry", "height_m", "class",
	"structure", "capacity_unit", "capacity_total", "tubes", "diameter_mm", "address", "unit_code", "in_service_on",
	"restricted", "rent_vnd"}

// exportOnlyColumns are the read-only columns of the CSV export: an import
// accepts and ignores them.
var exportOnlyColumns = []string{"id", "owner", "capacity_reserved", "capacity_active", "capacity_free", "length_m"}

// importPositionColumns hold a row's position rather than a field.
var importPositionColumns = map[string]bool{"lat": true, "lon": true, "x": true, "y": true, "geometry": true}

// importFieldBits numbers the optional field columns for importFields.present.
var importFieldBits = func() map[string]uint32 {
	m := map[string]uint32{}
	for _, c := range importColumns {
		if c != "code" && c != "kind" && !importPositionColumns[c] {
			m[c] = 1 << len(m)
		}
	}
	return m
}()

// importFields are the optional fields one row sets, parsed.
type importFields struct {
	present                                          uint32
	status, class, structure, capUnit, address, unit string
	heightM, diameterMM                              *float64
	tubes, capTotal                                  *int
	rentVND                                          *int64
	inServiceOn                                      *infrashare.Date
	restricted                                       bool
}

func (f *importFields) has(col string) bool { return f.present&importFieldBits[col] != 0 }

// set parses one cell of a field column; "" means no value.
func (f *importFields) set(col, v string) error {
	f.present |= importFieldBits[col]
	var err error
	switch col {
	case "status":
		f.status = v
	case "class":
		f.class = v
	case "structure":
		f.structure = v
	case "capacity_unit":
		f.capUnit = v
	case "address":
		f.address = v
	case "unit_code":
		f.unit = v
	case "height_m":
		f.heightM, err = importFloat(v)
	case "diameter_mm":
		f.diameterMM, err = importFloat(v)
	case "tubes":
		f.tubes, err = importInt(v)
	case "capacity_total":
		f.capTotal, err = importInt(v)
	case "rent_vnd":
		var n *int
		if n, err = importInt(v); err == nil && n != nil {
			r := int64(*n)
			f.rentVND = &r
		}
	case "in_service_on":
		if v != "" {
			d, perr := infrashare.ParseDate(v)
			if perr != nil {
				return errors.New("must be a date of the form YYYY-MM-DD")
			}
			f.inServiceOn = &d
		}
	case "restricted":
		f.restricted, err = importBool(v)
	}
	return err
}

// apply lays the fields the row sets over an input.
func (f *importFields) apply(in *AssetInput) {
	if f.has("status") {
		in.Status = f.status
	}
	if f.has("class") {
		in.Class = f.class
	}
	if f.has("structure") {
		in.Structure = f.structure
	}
	if f.has("address") {
		in.Address = f.address
	}
	if f.has("unit_code") {
		in.UnitCode = f.unit
	}
	if f.has("height_m") {
		in.HeightM = f.heightM
	}
	if f.has("diameter_mm") {
		in.DiameterMM = f.diameterMM
	}
	if f.has("tubes") {
		in.Tubes = f.tubes
	}
	if f.has("rent_vnd") {
		in.RentVND = f.rentVND
	}
	if f.has("in_service_on") {
		in.InServiceOn = f.inServiceOn
	}
	if f.has("restricted") {
		in.Restricted = f.restricted
	}
	if f.has("capacity_unit") || f.has("capacity_total") {
		c := CapacityInput{}
		if in.Capacity != nil {
			c = *in.Capacity
		}
		if f.has("capacity_unit") {
			c.Unit = f.capUnit
		}
		if f.has("capacity_total") {
			c.Total = f.capTotal
		}
		in.Capacity = &c
	}
}

func importFloat(v string) (*float64, error) {
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("must be a number (with a decimal point, no thousands separators)")
	}
	return &f, nil
}

// importInt reads a whole number; "3.0" is accepted as 3.
func importInt(v string) (*int, error) {
	if v == "" {
		return nil, nil
	}
	if n, err := strconv.Atoi(v); err == nil {
		return &n, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1e15 {
		return nil, errors.New("must be a whole number (no thousands separators)")
	}
	n := int(f)
	return &n, nil
}

func importBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "0", "no", "không", "khong", "f", "n":
		return false, nil
	case "true", "1", "yes", "có", "co", "t", "y":
		return true, nil
	}
	return false, errors.New("must be true or false (also 1/0, yes/no, có/không)")
}

// importBadText says what is wrong with a cell that goes to the database as
// text: not UTF-8, or holding a NUL byte, which PostgreSQL refuses in text
// (a 500 before; found by FuzzImportAssets on PostgreSQL); "" when fine.
func importBadText(v string) string {
	switch {
	case !utf8.ValidString(v):
		return "is not UTF-8 text: save the file as CSV UTF-8"
	case strings.ContainsRune(v, 0):
		return "must not contain NUL characters"
	}
	return ""
}

// importUnneutralise drops the quote the export puts before a text cell that a
// spreadsheet would take for a formula.
func importUnneutralise(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.IndexByte("=+-@", v[1]) >= 0 {
		return v[1:]
	}
	return v
}

// assetRow is one row of an asset import, read and parsed on its own.
type assetRow struct {
	line       int
	code, kind string
	geom       orb.Geometry // WGS84; nil when the position is missing or bad
	// latCol and lonCol are the columns to blame when the position lies
	// outside the service area.
	latCol, lonCol string
	fields         importFields
	bad            bool // the row has problems already
}

// importReader turns a file into rows and row problems. A file it cannot
// read at all (not CSV, a bad header, not a FeatureCollection) is an error.
type importReader struct {
	opts ImportOptions
	area ServiceArea
	rows []assetRow
	errs []RowError
}

func (ir *importReader) fail(line int, col, reason string) {
	ir.errs = append(ir.errs, RowError{Line: line, Column: col, Reason: reason})
}

func (ir *importReader) add(row assetRow) { ir.rows = appendDoubling(ir.rows, row) }

// appendDoubling appends v, doubling the room when full: append grows a
// long slice by a quarter, which copies large rows over and over (a third
// of the time reading 50,000 rows).
func appendDoubling[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 256))
	}
	return append(s, v)
}

func (o *ImportOptions) check() error {
	fields := infrashare.FieldErrors{}
	switch o.Format {
	case "csv", "geojson":
	default:
		fields.Add("format", "must be csv or geojson")
	}
	switch o.CRS {
	case "", CRSWGS84:
		o.CRS = CRSWGS84
		if o.Lon0 != 0 {
			fields.Add("lon0", "applies only with crs=vn2000")
		}
	case CRSVN2000:
		if o.Lon0 == 0 {
			fields.Add("lon0", "is required with crs=vn2000: the zone's central meridian in degrees, such as 105 or 105.75")
		} else if err := vn2000CheckLon0(o.Lon0); err != nil {
			fields.Add("lon0", "must be between 102 and 110 degrees (such as 105 or 105.75 for 105°45')")
		}
	default:
		fields.Add("crs", "must be wgs84 or vn2000")
	}
	return fields.Err()
}

// toWGS84 converts a position given in the file's CRS as (easting,
// northing) — (lon, lat) for WGS84, (y, x) for VN-2000 — to WGS84 [lon,
// lat].
func (ir *importReader) toWGS84(e, n float64) (orb.Point, error) {
	if math.IsNaN(e) || math.IsNaN(n) || math.IsInf(e, 0) || math.IsInf(n, 0) {
		return orb.Point{}, errors.New("has a coordinate that is not a number")
	}
	if ir.opts.CRS != CRSVN2000 {
		if n < -90 || n > 90 || e < -180 || e > 180 {
			return orb.Point{}, errors.New("is not a WGS84 position: write lon lat (longitude first), in degrees")
		}
		return orb.Point{e, n}, nil
	}
	lat, lon, err := VN2000ToWGS84(n, e, ir.opts.Lon0)
	if err != nil {
		return orb.Point{}, err
	}
	return orb.Point{lon, lat}, nil
}

// ---- CSV ----

// readCSV reads an asset CSV.
func (ir *importReader) readCSV(r io.Reader) error {
	cr, err := importCSVReader(r)
	if err != nil {
		return err
	}
	header, err := cr.Read()
	if err == io.EOF {
		return infrashare.Errorf(infrashare.EMALFORMED, "the file is empty: its first line must name the columns")
	}
	if err != nil {
		return importCSVFatal(err)
	}
	idx, herrs := ir.csvHeader(header)
	if len(herrs) > 0 {
		return importRowsError(herrs, 0, "the header (line 1) is wrong; nothing was imported")
	}
	cr.FieldsPerRecord = len(header)
	cell := func(rec []string, col string) string {
		if i, ok := idx[col]; ok && i < len(rec) {
			return importUnneutralise(strings.TrimSpace(rec[i]))
		}
		return ""
	}
	var fieldCols []string
	for _, col := range header {
		col = strings.ToLower(strings.TrimSpace(col))
		if _, ok := idx[col]; ok && !importPositionColumns[col] && col != "code" && col != "kind" {
			fieldCols = append(fieldCols, col)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("read the import: %w", err)
			}
			if !errors.Is(err, csv.ErrFieldCount) {
				ir.fail(pe.StartLine, "", "the line cannot be read as CSV ("+pe.Err.Error()+"); nothing after it was read")
				return nil
			}
			ir.fail(pe.StartLine, "", fmt.Sprintf("has %d cells; the header names %d columns", len(rec), len(header)))
			ir.add(assetRow{line: pe.StartLine, bad: true})
			continue
		}
		line, _ := cr.FieldPos(0)
		if importBlankRecord(rec) {
			continue
		}
		if len(ir.rows) >= importMaxRows {
			return infrashare.Invalid("rows", fmt.Sprintf("at most %d rows in one import: split the file", importMaxRows))
		}
		ir.csvRow(line, rec, fieldCols, cell)
	}
}

// importCSVReader strips a BOM and picks the separator from the header line.
func importCSVReader(r io.Reader) (*csv.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	head, err := br.Peek(br.Size())
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("read the import: %w", err)
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	cr := csv.NewReader(br)
	if bytes.IndexByte(head, ';') >= 0 && bytes.IndexByte(head, ',') < 0 {
		cr.Comma = ';'
	}
	cr.ReuseRecord = true
	return cr, nil
}

// importCSVFatal turns a reader error into what the client is told: a CSV that
// cannot be parsed is malformed; anything else (a body over the limit, a
// client gone) passes through for the web layer.
func importCSVFatal(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return infrashare.Errorf(infrashare.EMALFORMED, "the file is not CSV: line %d: %v", pe.StartLine, pe.Err)
	}
	return fmt.Errorf("read the import: %w", err)
}

func importBlankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func (ir *importReader) csvHeader(header []string) (map[string]int, []RowError) {
	allowed := map[string]bool{}
	for _, c := range importColumns {
		allowed[c] = true
	}
	ignored := map[string]bool{}
	for _, c := range exportOnlyColumns {
		ignored[c] = true
	}
	var errs []RowError
	bad := func(col, reason string) { errs = append(errs, RowError{Line: 1, Column: col, Reason: reason}) }
	idx := map[string]int{}
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case name == "":
			bad(fmt.Sprintf("#%d", i+1), "a column has no name")
			continue
		case seen[name]:
			bad(name, "is named twice")
			continue
		case ignored[name]:
			seen[name] = true // read-only export column: accepted, ignored
			continue
		case !allowed[name]:
			bad(name, "unknown column; the columns are "+strings.Join(importColumns, ", ")+
				" (and the read-only export columns "+strings.Join(exportOnlyColumns, ", ")+", which are ignored)")
			continue
		}
		seen[name] = true
		idx[name] = i
	}
	has := func(c string) bool { _, ok := idx[c]; return ok }
	for _, c := range []string{"code", "kind"} {
		if !has(c) {
			bad(c, "the column is required")
		}
	}
	for _, pair := range [][2]string{{"lat", "lon"}, {"x", "y"}} {
		if has(pair[0]) != has(pair[1]) {
			missing := pair[0]
			if has(pair[0]) {
				missing = pair[1]
			}
			bad(missing, fmt.Sprintf("%s and %s go together", pair[0], pair[1]))
		}
	}
	if ir.opts.CRS == CRSVN2000 && (has("lat") || has("lon")) {
		bad("lat", "lat and lon are WGS84: with crs=vn2000 give x (northing) and y (easting), or geometry")
	}
	if ir.opts.CRS != CRSVN2000 && (has("x") || has("y")) {
		bad("x", "x and y are VN-2000 (x northing, y easting): send ?crs=vn2000&lon0=… with them")
	}
	if !has("lat") && !has("x") && !has("geometry") {
		bad("geometry", "a position column is required: lat and lon, x and y (VN-2000), or geometry (WKT)")
	}
	return idx, errs
}

// csvRow parses one data row.
func (ir *importReader) csvRow(line int, rec []string, fieldCols []string, cell func([]string, string) string) {
	row := assetRow{line: line, code: cell(rec, "code"), kind: cell(rec, "kind")}
	nerr := len(ir.errs)
	for _, col := range fieldCols {
		v := cell(rec, col)
		if reason := importBadText(v); reason != "" {
			ir.fail(line, col, reason)
			continue
		}
		if err := row.fields.set(col, v); err != nil {
			ir.fail(line, col, err.Error())
		}
	}
	if reason := importBadText(row.code); reason != "" {
		ir.fail(line, "code", reason)
	}
	if reason := importBadText(row.kind); reason != "" {
		ir.fail(line, "kind", reason)
	}
	ir.csvPosition(&row, cell(rec, "lat"), cell(rec, "lon"), cell(rec, "x"), cell(rec, "y"), cell(rec, "geometry"))
	row.bad = len(ir.errs) > nerr
	ir.add(row)
}

func (ir *importReader) csvPosition(row *assetRow, lat, lon, x, y, wkt string) {
	line := row.line
	given := 0
	for _, g := range []bool{lat != "" || lon != "", x != "" || y != "", wkt != ""} {
		if g {
			given++
		}
	}
	if given == 0 {
		ir.fail(line, "geometry", "a position is required: lat and lon, x and y (VN-2000), or geometry (WKT)")
		return
	}
	if given > 1 {
		ir.fail(line, "geometry", "give one position only: lat and lon, x and y, or geometry")
		return
	}
	if wkt != "" {
		g, err := ir.parseWKT(wkt)
		if err != nil {
			ir.fail(line, "geometry", err.Error())
			return
		}
		row.geom, row.latCol, row.lonCol = g, "geometry", "geometry"
		return
	}
	if lineKinds[row.kind] {
		ir.fail(line, "geometry", fmt.Sprintf("a %s is a line: give geometry as WKT %s", row.kind, ir.wktHint()))
		return
	}
	a, b, ca, cb := lat, lon, "lat", "lon"
	if x != "" || y != "" {
		a, b, ca, cb = x, y, "x", "y"
	}
	fa, errA := importCoord(a, ca, cb)
	fb, errB := importCoord(b, cb, ca)
	if errA != nil {
		ir.fail(line, ca, errA.Error())
	}
	if errB != nil {
		ir.fail(line, cb, errB.Error())
	}
	if errA != nil || errB != nil {
		return
	}
	if ca == "lat" {
		if fa < -90 || fa > 90 {
			ir.fail(line, "lat", "must be a latitude in degrees (-90 to 90)")
			return
		}
		if fb < -180 || fb > 180 {
			ir.fail(line, "lon", "must be a longitude in degrees (-180 to 180)")
			return
		}
		row.geom, row.latCol, row.lonCol = orb.Point{fb, fa}, "lat", "lon"
		return
	}
	p, err := ir.toWGS84(fb, fa) // x is the northing, y the easting
	if err != nil {
		ir.fail(line, "x", err.Error())
		return
	}
	if !ir.area.contains(p[0], p[1]) {
		if q, err := ir.toWGS84(fa, fb); err == nil && ir.area.contains(q[0], q[1]) {
			ir.fail(line, "x", "lies outside the service area, and x and y look swapped: in VN-2000 x is the northing and y the easting")
			return
		}
	}
	row.geom, row.latCol, row.lonCol = p, "x", "y"
}

func importCoord(v, col, other string) (float64, error) {
	if v == "" {
		return 0, fmt.Errorf("is required with %s", other)
	}
	f, err := importFloat(v)
	if err != nil {
		return 0, err
	}
	return *f, nil
}

func (ir *importReader) wktHint() string {
	if ir.opts.CRS == CRSVN2000 {
		return "LINESTRING(y x, y x, …) with VN-2000 easting (y) first, then northing (x)"
	}
	return "LINESTRING(lon lat, lon lat, …) with longitude first"
}

// parseWKT reads POINT(e n) or LINESTRING(e n, e n, …) in the request's CRS,
// easting (longitude) first, and returns it in WGS84.
func (ir *importReader) parseWKT(s string) (orb.Geometry, error) {
	bad := func() error {
		if ir.opts.CRS == CRSVN2000 {
			return errors.New("must be WKT POINT(y x) or LINESTRING(y x, y x, …): VN-2000 easting (y) first, then northing (x), in metres")
		}
		return errors.New("must be WKT POINT(lon lat) or LINESTRING(lon lat, lon lat, …): longitude first, in degrees")
	}
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || strings.TrimSpace(s[end+1:]) != "" {
		return nil, bad()
	}
	kind := strings.ToUpper(strings.TrimSpace(s[:open]))
	if kind != "POINT" && kind != "LINESTRING" {
		return nil, bad()
	}
	parts := strings.Split(s[open+1:end], ",")
	if len(parts) > maxLineVertices {
		return nil, fmt.Errorf("a LINESTRING may have at most %d positions", maxLineVertices)
	}
	pts := make([]orb.Point, 0, len(parts))
	for _, p := range parts {
		f := strings.Fields(p)
		if len(f) != 2 {
			return nil, bad()
		}
		e, err1 := strconv.ParseFloat(f[0], 64)
		n, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			return nil, bad()
		}
		pt, err := ir.toWGS84(e, n)
		if err != nil {
			return nil, err
		}
		pts = append(pts, pt)
	}
	if kind == "POINT" {
		if len(pts) != 1 {
			return nil, bad()
		}
		return pts[0], nil
	}
	return orb.LineString(pts), nil
}

// ---- GeoJSON ----

// importGeoIgnored are properties of the GeoJSON export that an import
// accepts and ignores (read-only, or given by the geometry).
var importGeoIgnored = map[string]bool{"id": true, "owner": true, "lat": true, "lon": true, "coarse": true,
	"version": true, "created_at": true, "updated_at": true, "length_m": true, "contact": true,
	"capacity_reserved": true, "capacity_active": true, "capacity_free": true}

type importGeoFeature struct {
	Type     string `json:"type"`
	Geometry *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// readGeoJSON reads a FeatureCollection feature by feature.
func (ir *importReader) readGeoJSON(r io.Reader) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	dec.UseNumber()
	notFC := infrashare.Errorf(infrashare.EMALFORMED, "the body must be a GeoJSON FeatureCollection object")
	tok, err := dec.Token()
	if err != nil {
		return importJSONFatal(err, notFC)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return notFC
	}
	var typ string
	var crs json.RawMessage
	sawFeatures := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return importJSONFatal(err, notFC)
		}
		key, _ := tok.(string)
		switch key {
		case "type":
			if err := dec.Decode(&typ); err != nil {
				return importJSONFatal(err, infrashare.Invalid("type", "must be FeatureCollection"))
			}
		case "crs":
			if err := dec.Decode(&crs); err != nil {
				return importJSONFatal(err, notFC)
			}
		case "features":
			sawFeatures = true
			if err := ir.geoFeatures(dec); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return importJSONFatal(err, notFC)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return importJSONFatal(err, notFC)
	}
	if typ != "FeatureCollection" {
		return infrashare.Invalid("type", "must be FeatureCollection")
	}
	if !sawFeatures {
		return infrashare.Invalid("features", "is required")
	}
	return ir.checkCRSMember(crs)
}

func importJSONFatal(err error, otherwise error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return infrashare.Errorf(infrashare.EMALFORMED, "the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return infrashare.Errorf(infrashare.EMALFORMED, "the body ends in the middle of the JSON document")
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return otherwise
	}
	var ie *infrashare.Error
	if errors.As(err, &ie) {
		return err
	}
	return fmt.Errorf("read the import: %w", err) // a body over the limit, a client gone
}

// checkCRSMember: RFC 7946 has no crs member; an old-style one must agree
// with the request.
func (ir *importReader) checkCRSMember(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	s := strings.ToUpper(string(raw))
	wgs := strings.Contains(s, "CRS84") || strings.Contains(s, "4326")
	if ir.opts.CRS == CRSVN2000 && wgs {
		return infrashare.Invalid("crs", "the file declares WGS84 coordinates but the request says crs=vn2000")
	}
	if ir.opts.CRS != CRSVN2000 && !wgs {
		return infrashare.Invalid("crs", "the file declares a CRS other than WGS84: for VN-2000 send ?crs=vn2000&lon0=… (coordinates [easting, northing])")
	}
	return nil
}

func (ir *importReader) geoFeatures(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return importJSONFatal(err, nil)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return infrashare.Invalid("features", "must be a list of features")
	}
	n := 0
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return importJSONFatal(err, nil)
		}
		n++
		if n > importMaxRows {
			return infrashare.Invalid("features", fmt.Sprintf("at most %d features in one import: split the file", importMaxRows))
		}
		ir.geoFeature(n, raw)
	}
	_, err = dec.Token()
	if err != nil {
		return importJSONFatal(err, nil)
	}
	return nil
}

func (ir *importReader) geoFeature(line int, raw json.RawMessage) {
	var f importGeoFeature
	if err := json.Unmarshal(raw, &f); err != nil {
		ir.fail(line, "", "is not a GeoJSON Feature")
		ir.add(assetRow{line: line, bad: true})
		return
	}
	nerr := len(ir.errs)
	if f.Type != "Feature" {
		ir.fail(line, "type", "must be Feature")
	}
	row := assetRow{line: line}
	props := f.Properties
	str := func(k string) string {
		v, ok := props[k]
		if !ok {
			return ""
		}
		s, err := importPropCell(v)
		if err != nil {
			ir.fail(line, k, err.Error())
		}
		return s
	}
	row.code, row.kind = str("code"), str("kind")
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "code" || k == "kind" || importGeoIgnored[k]:
		case k == "capacity":
			ir.geoCapacity(line, &row, props)
		case importFieldBits[k] != 0:
			if err := row.fields.set(k, str(k)); err != nil {
				ir.fail(line, k, err.Error())
			}
		case importPositionColumns[k]:
			ir.fail(line, k, "the position comes from the feature's geometry")
		default:
			ir.fail(line, k, "unknown property; the properties are code, kind, status, height_m, class, structure, "+
				"capacity_unit, capacity_total, tubes, diameter_mm, address, unit_code, in_service_on, restricted, rent_vnd")
		}
	}
	ir.geoPosition(&row, f)
	row.bad = len(ir.errs) > nerr
	ir.add(row)
}

// geoCapacity reads the export's "capacity" object when the flat
// capacity_unit / capacity_total are not given.
func (ir *importReader) geoCapacity(line int, row *assetRow, props map[string]json.RawMessage) {
	var c struct {
		Unit  json.RawMessage `json:"unit"`
		Total json.RawMessage `json:"total"`
	}
	if err := json.Unmarshal(props["capacity"], &c); err != nil {
		ir.fail(line, "capacity", "must be an object with unit and total")
		return
	}
	for _, p := range []struct {
		col string
		raw json.RawMessage
	}{{"capacity_unit", c.Unit}, {"capacity_total", c.Total}} {
		if _, flat := props[p.col]; flat || len(p.raw) == 0 {
			continue
		}
		v, err := importPropCell(p.raw)
		if err == nil {
			err = row.fields.set(p.col, v)
		}
		if err != nil {
			ir.fail(line, "capacity", p.col+" "+err.Error())
		}
	}
}

// importPropCell turns a property value into the text a CSV cell would hold.
func importPropCell(raw json.RawMessage) (string, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return "", nil
	}
	switch t[0] {
	case '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return "", errors.New("is not a valid string")
		}
		if strings.ContainsRune(s, 0) {
			return "", errors.New("must not contain NUL characters")
		}
		return importUnneutralise(strings.TrimSpace(s)), nil
	case '{', '[':
		return "", errors.New("must be a string, a number or true/false")
	}
	return string(t), nil // a number, true or false
}

func (ir *importReader) geoPosition(row *assetRow, f importGeoFeature) {
	line := row.line
	if f.Geometry == nil {
		ir.fail(line, "geometry", "is required: a Point or a LineString")
		return
	}
	row.latCol, row.lonCol = "geometry", "geometry"
	coordErr := func() {
		if ir.opts.CRS == CRSVN2000 {
			ir.fail(line, "geometry", "coordinates must be numbers [easting, northing] (VN-2000 y, x in metres)")
		} else {
			ir.fail(line, "geometry", "coordinates must be numbers [lon, lat]")
		}
	}
	switch f.Geometry.Type {
	case "Point":
		var c []float64
		if json.Unmarshal(f.Geometry.Coordinates, &c) != nil || len(c) < 2 || len(c) > 3 {
			coordErr()
			return
		}
		p, err := ir.toWGS84(c[0], c[1])
		if err != nil {
			ir.fail(line, "geometry", err.Error())
			return
		}
		row.geom = p
	case "LineString":
		var cs [][]float64
		if json.Unmarshal(f.Geometry.Coordinates, &cs) != nil {
			coordErr()
			return
		}
		if len(cs) > maxLineVertices {
			ir.fail(line, "geometry", fmt.Sprintf("a LineString may have at most %d positions", maxLineVertices))
			return
		}
		ls := make(orb.LineString, 0, len(cs))
		for _, c := range cs {
			if len(c) < 2 || len(c) > 3 {
				coordErr()
				return
			}
			p, err := ir.toWGS84(c[0], c[1])
			if err != nil {
				ir.fail(line, "geometry", err.Error())
				return
			}
			ls = append(ls, p)
		}
		row.geom = ls
	default:
		ir.fail(line, "geometry", "must be a Point or a LineString")
	}
}

// ---- Checking and writing ----

type plannedUpdate struct {
	line    int
	version int // the version read when planning
	next    Asset
}

// errImportRows rolls back an import whose rows have problems.
var errImportRows = errors.New("the rows have problems")

// ImportAssets imports the actor's organisation's assets from a CSV file or
// a GeoJSON FeatureCollection: all rows or none. A refused import answers a
// validation error whose Details["rows"] lists every bad row ([]RowError).
func (s *Service) ImportAssets(ctx context.Context, actor auth.Actor, body io.Reader, opts ImportOptions) (ImportResult, error) {
	if err := requireOperator(actor); err != nil {
		return ImportResult{}, err
	}
	if err := opts.check(); err != nil {
		return ImportResult{}, err
	}
	r, err := s.rules(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	sum := sha256.New()
	ir := &importReader{opts: opts, area: r.area}
	if opts.Format == "csv" {
		err = ir.readCSV(io.TeeReader(body, sum))
	} else {
		err = ir.readGeoJSON(io.TeeReader(body, sum))
	}
	if err != nil {
		return ImportResult{}, err
	}
	if len(ir.rows) == 0 && len(ir.errs) == 0 {
		return ImportResult{}, infrashare.Invalid("rows", "the file has no rows")
	}
	// The rows are checked against the units as they are now, read once:
	// checking then reads nothing, and runs while the rows are written.
	if r.units, err = s.units.snapshot(ctx); err != nil {
		return ImportResult{}, err
	}
	p, err := s.newAssetPlanner(ctx, actor, ir, r)
	if err != nil {
		return ImportResult{}, err
	}
	if len(p.errs) == 0 && !opts.DryRun {
		err = s.writeAssets(ctx, actor, p, opts, sum)
	}
	p.rest()
	switch {
	case p.err != nil:
		return ImportResult{}, p.err
	case len(p.errs) > 0:
		return ImportResult{}, importRowsError(p.errs, len(ir.rows), "")
	case err != nil:
		return ImportResult{}, err
	}
	p.res.DryRun = opts.DryRun
	if !opts.DryRun {
		// A bulk load changes the shape of the table: refresh the
		// statistics so that searches keep using the right index. Best
		// effort.
		_ = s.db.Analyze(ctx)
	}
	return p.res, nil
}

// importRowsError is the validation error of a refused import.
func importRowsError(errs []RowError, total int, message string) error {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Column < errs[j].Column
	})
	if message == "" {
		message = fmt.Sprintf("%d of %d rows have problems; nothing was imported", importCountLines(errs), total)
	}
	details := map[string]any{"rows": errs}
	if len(errs) > importMaxRowErrors {
		details["rows"] = errs[:importMaxRowErrors]
		details["rows_not_listed"] = len(errs) - importMaxRowErrors
		message += fmt.Sprintf(" (the first %d problems are listed, %d more are not)", importMaxRowErrors, len(errs)-importMaxRowErrors)
	}
	return &infrashare.Error{Code: infrashare.EINVALID, Message: message, Details: details}
}

// ownAssetsByCode reads the owner's assets with the given codes.
func (s *Service) ownAssetsByCode(ctx context.Context, ownerID int64, codes []string) (map[string]Asset, error) {
	out := make(map[string]Asset, len(codes))
	for i := 0; i < len(codes); i += importLookup {
		keys, err := json.Marshal(codes[i:min(i+importLookup, len(codes))])
		if err != nil {
			return nil, err
		}
		var rows []Asset
		q := s.byKeys("assets", "code", false, "assets.owner_id = ?")
		if err := s.db.Conn(ctx).Raw(q, string(keys), ownerID).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, a := range rows {
			out[a.Code] = a
		}
	}
	return out, nil
}

// byKeys is a query for the rows of table whose column is one of a list of
// keys, given as one JSON array parameter (the first), and meeting where.
// One parameter whatever the number of keys (the SQLite driver binds in
// time quadratic in their number), and a join both planners run key by key
// through the index: PostgreSQL with an IN list of parameters and stale
// statistics after a large import scanned the table testing every row
// against every key (measured: 16 s for 20 000 codes); SQLite's CROSS JOIN
// keeps the keys as the outer loop.
func (s *Service) byKeys(table, column string, numeric bool, where string) string {
	if s.db.IsPostgres() {
		key := "k.v"
		if numeric {
			key = "CAST(k.v AS bigint)"
		}
		return fmt.Sprintf("SELECT %[1]s.* FROM %[1]s JOIN json_array_elements_text(CAST(? AS json)) AS k(v) ON %[1]s.%[2]s = %[3]s WHERE %[4]s",
			table, column, key, where)
	}
	return fmt.Sprintf("SELECT %[1]s.* FROM json_each(?) AS k CROSS JOIN %[1]s WHERE %[1]s.%[2]s = k.value AND %[3]s", table, column, where)
}

// importUnitCheck remembers, for one import, what build said about a given unit
// code at a located unit: build asks the database for each, and a file has
// few distinct pairs.
type importUnitCheck struct {
	unit string
	errs []RowError // with Line 0, set per row
}

// assetPlanner checks an import's rows one after the other with build and
// decides what to write. New assets come out of next as they are checked,
// so that they are written while the rows after them are checked; updates,
// counts and row problems are kept. It reads nothing from the database
// once made (its rules hold a snapshot of the units).
type assetPlanner struct {
	ctx      context.Context
	s        *Service
	ownerID  int64
	r        rules
	rows     []assetRow
	existing map[string]Asset
	units    map[[2]string]importUnitCheck
	now      time.Time
	readErrs []RowError // the problems found while reading; nothing is written with any

	i       int // the next row to check
	res     ImportResult
	updates []plannedUpdate
	errs    []RowError
	err     error // a failure that is not the rows' fault
}

func (s *Service) newAssetPlanner(ctx context.Context, actor auth.Actor, ir *importReader, r rules) (*assetPlanner, error) {
	errs := ir.errs
	firstLine := map[string]int{}
	codes := make([]string, 0, len(ir.rows))
	for i := range ir.rows {
		row := &ir.rows[i]
		if row.code == "" {
			continue
		}
		if first, dup := firstLine[row.code]; dup {
			errs = append(errs, RowError{Line: row.line, Column: "code", Reason: fmt.Sprintf("repeats the code of line %d", first)})
			row.bad = true
			continue
		}
		firstLine[row.code] = row.line
		if !row.bad {
			// A bad row is not planned; its code may not even be text
			// PostgreSQL accepts (NUL), so it is not looked up either.
			codes = append(codes, row.code)
		}
	}
	existing, err := s.ownAssetsByCode(ctx, actor.OrgID, codes)
	if err != nil {
		return nil, err
	}
	p := &assetPlanner{ctx: ctx, s: s, ownerID: actor.OrgID, r: r, rows: ir.rows, existing: existing,
		units: map[[2]string]importUnitCheck{}, now: s.clock.Now().UTC(), readErrs: errs}
	p.start()
	return p, nil
}

// start goes back to the first row, as a transaction tried again must.
func (p *assetPlanner) start() {
	p.i, p.res, p.updates, p.err = 0, ImportResult{Rows: len(p.rows)}, nil, nil
	p.errs = append([]RowError(nil), p.readErrs...)
}

// next checks rows up to the next new asset. It reports false at the end,
// and from the first problem on: rest checks the rows after it.
func (p *assetPlanner) next() (Asset, bool) {
	for p.i < len(p.rows) && len(p.errs) == 0 && p.err == nil {
		p.i++
		if a, ok := p.check(&p.rows[p.i-1]); ok {
			return a, true
		}
	}
	return Asset{}, false
}

// rest checks the rows next has not.
func (p *assetPlanner) rest() {
	for p.i < len(p.rows) && p.err == nil {
		p.i++
		p.check(&p.rows[p.i-1])
	}
}

// check checks one row, and returns the new asset it makes, if it makes one.
func (p *assetPlanner) check(row *assetRow) (Asset, bool) {
	if row.bad {
		return Asset{}, false
	}
	ctx, s, r := p.ctx, p.s, p.r
	cur, known := p.existing[row.code]
	var in AssetInput
	if known {
		if row.kind != "" && row.kind != cur.Kind {
			p.errs = append(p.errs, RowError{Line: row.line, Column: "kind", Reason: fmt.Sprintf("the asset with this code is a %s; its kind cannot change", cur.Kind)})
			return Asset{}, false
		}
		in = inputOf(cur)
	}
	in.Code, in.Kind = row.code, row.kind
	row.fields.apply(&in)
	if row.geom != nil {
		in.Geometry, in.geom = nil, row.geom
	}
	given := strings.TrimSpace(in.UnitCode)
	in.UnitCode = ""
	a, err := s.build(ctx, r, p.ownerID, in)
	if err != nil {
		rowErrs, fatal := importRowErrors(err, row, r.area)
		p.errs, p.err = append(p.errs, rowErrs...), fatal
		return Asset{}, false
	}
	if given != "" {
		if known && given == cur.UnitCode && a.Geometry == cur.Geometry {
			a.UnitCode = given // the record keeps the unit it was made under
		} else {
			key := [2]string{a.UnitCode, given}
			uc, ok := p.units[key]
			if !ok {
				in.UnitCode = given
				b, err := s.build(ctx, r, p.ownerID, in)
				if err != nil {
					rowErrs, fatal := importRowErrors(err, &assetRow{}, r.area)
					if fatal != nil {
						p.err = fatal
						return Asset{}, false
					}
					uc.errs = rowErrs
				}
				uc.unit = b.UnitCode
				p.units[key] = uc
			}
			if len(uc.errs) > 0 {
				for _, e := range uc.errs {
					e.Line = row.line
					p.errs = append(p.errs, e)
				}
				return Asset{}, false
			}
			a.UnitCode = uc.unit
		}
	}
	if !known {
		a.CreatedAt, a.UpdatedAt = p.now, p.now
		p.res.Created++
		return a, true
	}
	if used := cur.ReservedUnits + cur.ActiveUnits; a.CapacityTotal < used {
		p.errs = append(p.errs, RowError{Line: row.line, Column: "capacity_total",
			Reason: fmt.Sprintf("cannot drop below the %d unit(s) reserved or in use", used)})
		return Asset{}, false
	}
	a.ID, a.CreatedAt, a.ReservedUnits, a.ActiveUnits = cur.ID, cur.CreatedAt, cur.ReservedUnits, cur.ActiveUnits
	if importSameAsset(a, cur) {
		p.res.Unchanged++
		return Asset{}, false
	}
	a.Version, a.UpdatedAt = cur.Version+1, p.now
	p.updates = appendDoubling(p.updates, plannedUpdate{line: row.line, version: cur.Version, next: a})
	p.res.Updated++
	return Asset{}, false
}

// importSameAsset reports whether two rows agree on every editable column.
func importSameAsset(a, b Asset) bool {
	ca, cb := assetColumns(a), assetColumns(b)
	for _, k := range []string{"version", "updated_at"} {
		delete(ca, k)
		delete(cb, k)
	}
	return reflect.DeepEqual(ca, cb)
}

// importRowErrors turns build's validation error into row problems named by
// the file's columns; any other error is fatal.
func importRowErrors(err error, row *assetRow, area ServiceArea) ([]RowError, error) {
	var e *infrashare.Error
	if !errors.As(err, &e) || e.Code != infrashare.EINVALID {
		return nil, err
	}
	if len(e.Fields) == 0 {
		return []RowError{{Line: row.line, Reason: e.Message}}, nil
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]RowError, 0, len(keys))
	for _, k := range keys {
		col := k
		switch k {
		case "capacity.total":
			col = "capacity_total"
		case "capacity.unit":
			col = "capacity_unit"
		case "geometry":
			col = row.latCol
			if p, ok := row.geom.(orb.Point); ok && row.latCol != row.lonCol && p[1] >= area.MinLat && p[1] <= area.MaxLat {
				col = row.lonCol // the latitude is fine: the longitude is not
			}
			if col == "" {
				col = "geometry"
			}
		}
		out = append(out, RowError{Line: row.line, Column: col, Reason: e.Fields[k]})
	}
	return out, nil
}

// writeAssets writes the rows in one transaction with one audit event,
// the new ones as they are checked. An update is conditional on the
// version read when planning and on the units allocated meanwhile. Row
// problems roll it back (errImportRows), and are listed before a conflict
// among new codes.
func (s *Service) writeAssets(ctx context.Context, actor auth.Actor, p *assetPlanner, opts ImportOptions, sum hash.Hash) error {
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		p.start()
		err := s.insertAssets(ctx, p)
		p.rest()
		switch {
		case p.err != nil:
			return p.err
		case len(p.errs) > 0:
			return errImportRows
		case err != nil && database.IsUniqueViolation(err):
			return infrashare.Conflict("an asset with a code of this file was registered meanwhile; nothing was imported: try again")
		case err != nil:
			return err
		}
		tx := s.db.Conn(ctx)
		for _, u := range p.updates {
			res := tx.Model(&Asset{}).
				Where("id = ? AND version = ? AND reserved_units + active_units <= ?", u.next.ID, u.version, u.next.CapacityTotal).
				Updates(assetColumns(u.next))
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				continue
			}
			cur, err := s.load(ctx, u.next.ID)
			if err != nil {
				return err
			}
			if cur.Version != u.version {
				return infrashare.Conflict("asset %s changed while the file was imported; nothing was imported: try again", cur.Code)
			}
			p.errs = append(p.errs, RowError{Line: u.line, Column: "capacity_total",
				Reason: fmt.Sprintf("cannot drop below the %d unit(s) reserved or in use", cur.ReservedUnits+cur.ActiveUnits)})
		}
		if len(p.errs) > 0 {
			return errImportRows
		}
		after := map[string]any{"rows": p.res.Rows, "created": p.res.Created, "updated": p.res.Updated,
			"unchanged": p.res.Unchanged, "format": opts.Format, "crs": opts.CRS, "sha256": hex.EncodeToString(sum.Sum(nil))}
		if opts.CRS == CRSVN2000 {
			after["lon0"] = opts.Lon0
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "asset.import", ObjectType: "asset", After: after})
	})
	if errors.Is(err, errImportRows) {
		return nil // p.errs says what
	}
	return err
}

// insertAssets writes the planner's new assets the quickest way each
// database takes them (COPY, literal INSERTs), without GORM's per-row work
// and RETURNING: the ids of new rows are not needed. The columns come from
// the model's GORM schema, so they follow the Asset struct.
func (s *Service) insertAssets(ctx context.Context, p *assetPlanner) error {
	st := &gorm.Statement{DB: s.db.Conn(ctx)}
	if err := st.Parse(&Asset{}); err != nil {
		return err
	}
	var fields []*schema.Field
	var cols []string
	for _, f := range st.Schema.Fields {
		if f.DBName != "" && f.Creatable && !f.PrimaryKey {
			fields = append(fields, f)
			cols = append(cols, f.DBName)
		}
	}
	return s.db.InsertRows(ctx, "assets", cols, func(dst []any) bool {
		a, ok := p.next()
		if !ok {
			return false
		}
		rv := reflect.ValueOf(&a).Elem()
		for k, f := range fields {
			dst[k], _ = f.ValueOf(ctx, rv)
		}
		return true
	})
}

// ---- Existing tenancies ----

// importAllocationColumns are the columns of an allocation CSV; the first five
// are required.
var importAllocationColumns = []string{"asset_code", "tenant", "units", "since", "contract_ref", "rent_vnd", "note"}

type importAllocationRow struct {
	line      int
	assetCode string
	in        AllocationInput
}

// errImportDryRun rolls back a dry run's transaction.
var errImportDryRun = errors.New("dry run")

// ImportAllocations imports existing tenancies on the actor's own assets
// from CSV (asset_code, tenant, units, since, contract_ref; optional
// rent_vnd, note): all rows or none. Capacity is taken row by row with the
// same conditional UPDATE as every allocation, so the rows of one file
// count against each other. A row identical to an active existing tenancy
// (asset, tenant, contract_ref, units) is skipped: importing the same file
// twice changes nothing.
func (s *Service) ImportAllocations(ctx context.Context, actor auth.Actor, r io.Reader, dryRun bool) (ImportResult, error) {
	if err := requireOperator(actor); err != nil {
		return ImportResult{}, err
	}
	sum := sha256.New()
	rows, errs, err := s.readAllocationCSV(io.TeeReader(r, sum))
	if err != nil {
		return ImportResult{}, err
	}
	if len(rows) == 0 && len(errs) == 0 {
		return ImportResult{}, infrashare.Invalid("rows", "the file has no rows")
	}
	total := len(rows) + importCountLines(errs)
	var res ImportResult
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		res = ImportResult{Rows: total, DryRun: dryRun}
		news, errs, err := s.planAllocations(ctx, actor, rows, append([]RowError(nil), errs...), &res)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return importRowsError(errs, total, "")
		}
		if dryRun {
			return errImportDryRun
		}
		if len(news) > 0 {
			if err := s.db.Conn(ctx).CreateInBatches(&news, importBatch).Error; err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "allocation.import", ObjectType: "asset",
			After: map[string]any{"rows": res.Rows, "created": res.Created, "unchanged": res.Unchanged,
				"sha256": hex.EncodeToString(sum.Sum(nil))}})
	})
	if errors.Is(err, errImportDryRun) {
		err = nil
	}
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

func (s *Service) readAllocationCSV(r io.Reader) ([]importAllocationRow, []RowError, error) {
	cr, err := importCSVReader(r)
	if err != nil {
		return nil, nil, err
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, infrashare.Errorf(infrashare.EMALFORMED, "the file is empty: its first line must name the columns")
	}
	if err != nil {
		return nil, nil, importCSVFatal(err)
	}
	idx := map[string]int{}
	var errs []RowError
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !containsString(importAllocationColumns, name):
			errs = append(errs, RowError{Line: 1, Column: name, Reason: "unknown column; the columns are " + strings.Join(importAllocationColumns, ", ")})
		case importHasColumn(idx, name):
			errs = append(errs, RowError{Line: 1, Column: name, Reason: "is named twice"})
		default:
			idx[name] = i
		}
	}
	for _, c := range importAllocationColumns[:5] {
		if !importHasColumn(idx, c) {
			errs = append(errs, RowError{Line: 1, Column: c, Reason: "the column is required"})
		}
	}
	if len(errs) > 0 {
		return nil, nil, importRowsError(errs, 0, "the header (line 1) is wrong; nothing was imported")
	}
	cr.FieldsPerRecord = len(header)
	cell := func(rec []string, col string) string {
		if i, ok := idx[col]; ok {
			return importUnneutralise(strings.TrimSpace(rec[i]))
		}
		return ""
	}
	var rows []importAllocationRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("read the import: %w", err)
			}
			if !errors.Is(err, csv.ErrFieldCount) {
				errs = append(errs, RowError{Line: pe.StartLine, Reason: "the line cannot be read as CSV (" + pe.Err.Error() + "); nothing after it was read"})
				break
			}
			errs = append(errs, RowError{Line: pe.StartLine, Reason: fmt.Sprintf("has %d cells; the header names %d columns", len(rec), len(header))})
			continue
		}
		line, _ := cr.FieldPos(0)
		if importBlankRecord(rec) {
			continue
		}
		if len(rows)+len(errs) >= importMaxRows {
			return nil, nil, infrashare.Invalid("rows", fmt.Sprintf("at most %d rows in one import: split the file", importMaxRows))
		}
		row := importAllocationRow{line: line, assetCode: cell(rec, "asset_code")}
		row.in = AllocationInput{Purpose: PurposeExisting, Tenant: cell(rec, "tenant"), ContractRef: cell(rec, "contract_ref"),
			Note: cell(rec, "note")}
		nerr := len(errs)
		bad := func(col, reason string) { errs = append(errs, RowError{Line: line, Column: col, Reason: reason}) }
		for _, c := range importAllocationColumns {
			if reason := importBadText(cell(rec, c)); reason != "" {
				bad(c, reason)
			}
		}
		if row.assetCode == "" {
			bad("asset_code", "is required")
		}
		if n, err := importInt(cell(rec, "units")); err != nil {
			bad("units", err.Error())
		} else if n == nil {
			bad("units", "is required")
		} else {
			row.in.Units = *n
		}
		if v := cell(rec, "since"); v == "" {
			bad("since", "is required: the day the tenancy began, YYYY-MM-DD")
		} else if d, err := infrashare.ParseDate(v); err != nil {
			bad("since", "must be a date of the form YYYY-MM-DD")
		} else {
			row.in.Since = &d
		}
		if n, err := importInt(cell(rec, "rent_vnd")); err != nil {
			bad("rent_vnd", err.Error())
		} else if n != nil {
			v := int64(*n)
			row.in.RentVND = &v
		}
		if len(errs) == nerr {
			rows = append(rows, row)
		}
	}
	return rows, errs, nil
}

func importHasColumn(m map[string]int, k string) bool { _, ok := m[k]; return ok }

// importCountLines counts the distinct lines of row problems.
func importCountLines(errs []RowError) int {
	lines := map[int]bool{}
	for _, e := range errs {
		lines[e.Line] = true
	}
	return len(lines)
}

// planAllocations checks the rows in the transaction and takes their
// capacity, row after row.
func (s *Service) planAllocations(ctx context.Context, actor auth.Actor, rows []importAllocationRow, errs []RowError, res *ImportResult) ([]Allocation, []RowError, error) {
	codes := make([]string, 0, len(rows))
	seenCode := map[string]bool{}
	for _, r := range rows {
		if !seenCode[r.assetCode] {
			seenCode[r.assetCode] = true
			codes = append(codes, r.assetCode)
		}
	}
	assets, err := s.ownAssetsByCode(ctx, actor.OrgID, codes)
	if err != nil {
		return nil, nil, err
	}
	// The active existing tenancies of these assets, to skip repeats.
	type tenancy struct {
		asset, tenant int64
		ref           string
		units         int
	}
	present := map[tenancy]bool{}
	ids := make([]int64, 0, len(assets))
	for _, a := range assets {
		ids = append(ids, a.ID)
	}
	for i := 0; i < len(ids); i += importLookup {
		keys, err := json.Marshal(ids[i:min(i+importLookup, len(ids))])
		if err != nil {
			return nil, nil, err
		}
		var cur []Allocation
		q := s.byKeys("allocations", "asset_id", true, "allocations.purpose = ? AND allocations.status = ?")
		if err := s.db.Conn(ctx).Raw(q, string(keys), PurposeExisting, StatusActive).Find(&cur).Error; err != nil {
			return nil, nil, err
		}
		for _, al := range cur {
			present[tenancy{al.AssetID, al.TenantOrgID, al.ContractRef, al.Units}] = true
		}
	}
	today := s.settings.Today()
	inFile := map[tenancy]int{}
	var news []Allocation
	for _, row := range rows {
		bad := func(col, reason string) {
			errs = append(errs, RowError{Line: row.line, Column: col, Reason: reason})
		}
		nerr := len(errs)
		if err := infrashare.Validate(row.in); err != nil {
			rowErrs, fatal := importRowErrors(err, &assetRow{line: row.line}, ServiceArea{})
			if fatal != nil {
				return nil, nil, fatal
			}
			errs = append(errs, rowErrs...)
		}
		if row.in.Since != nil && row.in.Since.After(today) {
			bad("since", "is in the future: import tenancies that exist")
		}
		a, ok := assets[row.assetCode]
		if !ok {
			bad("asset_code", "your organisation has no asset with this code")
		}
		tenant, err := s.tenantFor(ctx, actor, PurposeExisting, row.in.Tenant)
		if err != nil {
			var e *infrashare.Error
			if !errors.As(err, &e) || e.Code != infrashare.EINVALID {
				return nil, nil, err
			}
			bad("tenant", e.Fields["tenant"])
		}
		if len(errs) > nerr {
			continue
		}
		key := tenancy{a.ID, tenant.ID, strings.TrimSpace(row.in.ContractRef), row.in.Units}
		if first, dup := inFile[key]; dup {
			bad("contract_ref", fmt.Sprintf("repeats line %d: the same tenancy twice", first))
			continue
		}
		inFile[key] = row.line
		if present[key] {
			res.Unchanged++
			continue
		}
		if err := s.occupy(ctx, a.ID, row.in.Units); err != nil {
			var e *infrashare.Error
			if !errors.As(err, &e) || e.Code != infrashare.ECONFLICT {
				return nil, nil, err
			}
			bad("units", fmt.Sprintf("asset %s has %v free %s(s) after the rows above; %d asked for", a.Code, e.Details["free"], a.CapacityUnit, row.in.Units))
			continue
		}
		news = append(news, Allocation{AssetID: a.ID, TenantOrgID: tenant.ID, Purpose: PurposeExisting, Units: row.in.Units,
			Status: StatusActive, Since: *row.in.Since, ContractRef: key.ref, RentVND: row.in.RentVND,
			Note: strings.TrimSpace(row.in.Note)})
	}
	res.Created = len(news)
	return news, errs, nil
}
